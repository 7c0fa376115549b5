import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { fromHttpApiEvent, toHttpApiEvent } from '../lib/apigw.ts';
import { decodeBody, encodeBody, encodeJsonBody } from '../lib/queue.ts';

/**
 * The fast paths of the ingest hot path give the same answers as the plain ones, for any input: the text the API
 * Gateway adapter hands over is exactly the body's bytes decoded, and a body JSON.parse accepted is encoded by
 * encodeJsonBody exactly as encodeBody encodes it. Whatever the path, the encoding is lossless and SQS accepts it.
 */
const RUNS = 3000;

/** What SQS accepts in a message body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (the `u` rule). */
const SQS_REFUSES = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Characters SQS refuses, the escape U+E000, surrogates and plain text, mixed. */
const edgy = fc.oneof(
  fc.constantFrom('\u0000', '\u0008', '\u000B', '\u001F', '\t', '\n', '\r', '\uE000', '\uFFFE', '\uFFFF', '\uFFFD', '\uD83D', '\uDE00', '\uD83D\uDE00', '—', 'é'),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
);
const text = fc.array(edgy, { maxLength: 40 }).map((parts) => parts.join(''));
/** JSON texts holding such characters raw (JSON.stringify leaves U+E000, U+FFFE, U+FFFF and emoji as they are). */
const jsonText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.dictionary(text, fc.oneof(text, fc.integer())).map((value) => JSON.stringify(value)),
  fc.tuple(fc.constantFrom(' ', '\t', '\n', '\r', ''), text).map(([space, value]) => `${space}{"a":${JSON.stringify(value)}}${space}`),
);

function assertLossless(raw: Buffer, encoded: { body: string; encoding: string }): void {
  assert.ok(decodeBody(encoded.body, encoded.encoding).equals(raw), 'decodes to the bytes it was given');
  assert.ok(encoded.body.length > 0 && !SQS_REFUSES.test(encoded.body), 'SQS accepts the body');
}

describe('queue body encoding fast paths', () => {
  it('the adapter\'s text is the body decoded, whenever it hands one over', () => {
    fc.assert(fc.property(text, (body) => {
      const event: APIGatewayProxyEventV2 = { ...toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: {}, body: Buffer.alloc(0) }), body, isBase64Encoded: false };
      const request = fromHttpApiEvent(event);
      if (request.text !== undefined) assert.equal(request.text, request.body.toString('utf8'));
      assertLossless(request.body, encodeBody(request.body, request.text));
    }), { numRuns: RUNS });
  });

  it('encodeJsonBody encodes any text JSON.parse accepts as encodeBody does', () => {
    fc.assert(fc.property(jsonText, (json) => {
      JSON.parse(json); // the precondition: only texts JSON.parse accepted reach encodeJsonBody
      const raw = Buffer.from(json);
      const fast = encodeJsonBody(raw, raw.toString('utf8'));
      assert.deepEqual(fast, encodeBody(raw));
      assertLossless(raw, fast);
    }), { numRuns: RUNS });
  });

  it('encodeJsonBody falls back to escaping when the bytes are not UTF-8, even if their decoded text is JSON', () => {
    fc.assert(fc.property(jsonText, fc.nat(), (json, at) => {
      const bytes = Buffer.from(json);
      const cut = at % (bytes.length + 1);
      const raw = Buffer.concat([bytes.subarray(0, cut), Buffer.from([0xc3]), bytes.subarray(cut)]); // a truncated sequence
      const decoded = raw.toString('utf8');
      try { JSON.parse(decoded); } catch { return; } // the replacement character may break the JSON; then it never gets here
      const fast = encodeJsonBody(raw, decoded);
      assert.deepEqual(fast, encodeBody(raw));
      assert.equal(fast.encoding, 'escaped');
      assertLossless(raw, fast);
    }), { numRuns: RUNS });
  });
});
