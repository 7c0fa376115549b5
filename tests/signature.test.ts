import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFresh, MAX_CLOCK_SKEW_MS, parseTimestamp, signApp, signRule, verifySignature } from '../lib/signature.ts';

/**
 * Vectors copied from ../shared/front/fixtures/signature-test-vectors.SELF-DERIVED.json. They were derived by the
 * research from Front's documented algorithms, NOT published by Front: they pin our reading of the docs
 * (bytes as received, `<timestamp>:` prefix, base64), not Front's servers.
 */
const APP_SECRET = 'test_app_secret_0123456789abcdef';
const RULE_SECRET = 'test_api_secret_fedcba9876543210';
const TIMESTAMP = '1700000000123';
const APP_VECTORS = [
  {
    name: 'application webhook sync (compact JSON)',
    body: '{"type":"sync","authorization":{"id":"cmp_abc"}}',
    signature: 'fRToMx4O1tmWiXLUUJin1+o59T3XAqB+UfFRZy24Kks=',
  },
  {
    name: 'same JSON value pretty-printed: other bytes, other signature',
    body: '{\n  "type": "sync",\n  "authorization": {\n    "id": "cmp_abc"\n  }\n}',
    signature: 'fCb8ZNPqI8JrwUVfq8Y/zbWJxsI2NfXiYhCpQt6eUzk=',
  },
  {
    name: 'non-ASCII UTF-8 in the body',
    body: '{"type":"inbound_received","authorization":{"id":"cmp_abc"},"payload":{"id":"evt_55c8c149","type":"inbound","emitted_at":1700000000.123,"conversation":{"id":"cnv_55c8c149","subject":"Café — résumé 😀"}}}',
    signature: 'COHoQ4hqGnPytxRcTIzwbVo+mQ48+mCUYz6GX70+rKY=',
  },
  {
    name: 'the previous value re-serialized with \\u escapes: other signature',
    body: '{"type": "inbound_received", "authorization": {"id": "cmp_abc"}, "payload": {"id": "evt_55c8c149", "type": "inbound", "emitted_at": 1700000000.123, "conversation": {"id": "cnv_55c8c149", "subject": "Caf\\u00e9 \\u2014 r\\u00e9sum\\u00e9 \\ud83d\\ude00"}}}',
    signature: 'Y4pJ9x8uuZT3qdTSZNxRNvhIuFJLIbNyCVineLtjD1M=',
  },
];
const RULE_VECTORS = [
  {
    name: 'legacy event preview, compact JSON',
    body: '{"_links":{"self":"https://api2.frontapp.com/events/evt_55c8c149"},"id":"evt_55c8c149","type":"assign","emitted_at":1453770984.123,"source":{"_meta":{"type":"rule"},"_links":{"self":"https://api2.frontapp.com/rules/rul_55c8c149"},"id":"rul_55c8c149"},"target":{"_meta":{"type":"teammate"},"_links":{"self":"https://api2.frontapp.com/teammates/tea_55c8c149"},"id":"tea_55c8c149"},"conversation":{"_links":{"self":"https://api2.frontapp.com/conversations/cnv_55c8c149","related":{"events":"https://api2.frontapp.com/conversations/cnv_55c8c149/events","followers":"https://api2.frontapp.com/conversations/cnv_55c8c149/followers","messages":"https://api2.frontapp.com/conversations/cnv_55c8c149/messages","comments":"https://api2.frontapp.com/conversations/cnv_55c8c149/comments","inboxes":"https://api2.frontapp.com/conversations/cnv_55c8c149/inboxes"}},"id":"cnv_55c8c149"}}',
    signature: 'SqRP0BVfZWUR8lBawh1I3zz8jY4=',
  },
  { name: 'empty-object body', body: '{}', signature: '7YJBVTX+VQN4jr1TbcDXc2V1Gfw=' },
];

describe('signatures: self-derived vectors', () => {
  for (const vector of APP_VECTORS) {
    it(`app: ${vector.name}`, () => {
      const body = Buffer.from(vector.body, 'utf8');
      assert.equal(signApp(APP_SECRET, TIMESTAMP, body), vector.signature);
      assert.equal(verifySignature('app', [APP_SECRET], vector.signature, body, TIMESTAMP), true);
      assert.equal(verifySignature('app', [APP_SECRET], vector.signature, body, '1700000000124'), false, 'the timestamp is signed');
      assert.equal(verifySignature('rule', [APP_SECRET], vector.signature, body), false, 'the schemes do not mix');
    });
  }
  for (const vector of RULE_VECTORS) {
    it(`rule: ${vector.name}`, () => {
      const body = Buffer.from(vector.body, 'utf8');
      assert.equal(signRule(RULE_SECRET, body), vector.signature);
      assert.equal(verifySignature('rule', [RULE_SECRET], vector.signature, body), true);
      assert.equal(verifySignature('rule', ['another-secret'], vector.signature, body), false);
    });
  }
  it('the re-serialized body does not verify under the original signature', () => {
    assert.equal(verifySignature('app', [APP_SECRET], APP_VECTORS[2]!.signature, Buffer.from(APP_VECTORS[3]!.body), TIMESTAMP), false);
  });
});

describe('verifySignature', () => {
  const body = Buffer.from(RULE_VECTORS[1]!.body);
  const good = RULE_VECTORS[1]!.signature;

  it('accepts any of several secrets, in any position', () => {
    assert.equal(verifySignature('rule', ['a', RULE_SECRET, 'b'], good, body), true);
    assert.equal(verifySignature('rule', [], good, body), false);
  });

  it('tolerates surrounding whitespace only', () => {
    assert.equal(verifySignature('rule', [RULE_SECRET], ` ${good}\t`, body), true);
  });

  it('returns false, never throws, for signatures of the wrong length or not canonical base64', () => {
    for (const signature of ['', '=', 'AAAA', good.slice(0, -2), `${good}${good}`, `${good}!!`, `${good.slice(0, -1)}`, good.replace('+', '-'), '\u0000'.repeat(28), 'é'.repeat(40)]) {
      assert.equal(verifySignature('rule', [RULE_SECRET], signature, body), false, JSON.stringify(signature));
      assert.equal(verifySignature('app', [RULE_SECRET], signature, body, TIMESTAMP), false, JSON.stringify(signature));
    }
  });
});

describe('timestamps', () => {
  it('parses plain millisecond integers only', () => {
    assert.equal(parseTimestamp('1700000000123'), 1700000000123);
    for (const header of ['', ' 1', '1.5', '-1', '1e12', '0x10', '12345678901234567']) assert.equal(parseTimestamp(header), undefined, header);
  });

  it('is fresh within 5 minutes either way, inclusive', () => {
    const now = 1_800_000_000_000;
    assert.equal(isFresh(now - MAX_CLOCK_SKEW_MS, now), true);
    assert.equal(isFresh(now + MAX_CLOCK_SKEW_MS, now), true);
    assert.equal(isFresh(now - MAX_CLOCK_SKEW_MS - 1, now), false);
    assert.equal(isFresh(now + MAX_CLOCK_SKEW_MS + 1, now), false);
  });
});
