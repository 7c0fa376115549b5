import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { fromHttpApiEvent, toHttpApiEvent } from '../lib/apigw.ts';
import { appEnvelope, sampleEvent, syncEnvelope } from '../lib/front/samples.ts';
import type { WebhookResponse } from '../lib/ingest.ts';
import { ATTR, decodeBody } from '../lib/queue.ts';
import { MAX_CLOCK_SKEW_MS, signApp, signRule } from '../lib/signature.ts';
import { APP_SECRET, ingestUnderTest, RULE_SECRET, type IngestUnderTest } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

/**
 * Thousands of random and mutated requests through the API Gateway adapter and the handler:
 * never a 5xx, never a thrown error, every answer JSON, and nothing queued unless the signature was valid.
 */
const NOW = Date.parse('2026-11-26T12:00:00Z');
const RANDOM_RUNS = 2000;
const MUTATED_RUNS = 1500;

let sqs: TestSqs;
let ingest: IngestUnderTest;
before(async () => {
  sqs = await startTestSqs('fuzz');
  ingest = ingestUnderTest(sqs, { now: () => NOW });
});
after(async () => { await sqs.stop(); });

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function callHandler(event: APIGatewayProxyEventV2): Promise<WebhookResponse> {
  const response = await ingest.handle(fromHttpApiEvent(event));
  assert.ok(response.statusCode < 500, `status ${response.statusCode}: ${response.body}`);
  assert.equal(response.headers['content-type'], 'application/json');
  const json = JSON.parse(response.body) as Record<string, unknown>;
  if (response.statusCode >= 400) assert.deepEqual(Object.keys(json).sort(), ['error', 'message']);
  return response;
}

function apiEvent(method: string, path: string, headers: Record<string, string>, body: string, isBase64Encoded: boolean): APIGatewayProxyEventV2 {
  const event = toHttpApiEvent({ method, path, headers: {}, body: Buffer.alloc(0) }, new Date(NOW));
  return { ...event, headers, body, isBase64Encoded };
}

const headerName = fc.oneof(
  fc.constantFrom('x-front-signature', 'X-Front-Signature', 'x-front-request-timestamp', 'X-FRONT-REQUEST-TIMESTAMP', 'x-front-challenge', 'content-type'),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.base64String({ maxLength: 64 }),
  fc.integer({ min: -1, max: 2 ** 53 }).map(String),
  fc.constant(String(NOW)),
);
const randomBody = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)),
  fc.string({ unit: 'grapheme', maxLength: 500 }).map((text) => Buffer.from(text)),
  fc.constantFrom(sampleEvent(), appEnvelope(sampleEvent()), syncEnvelope()).map((value) => Buffer.from(JSON.stringify(value))),
);

describe('fuzz: random requests', () => {
  it(`${RANDOM_RUNS} random bodies and headers: no 5xx, no throw, nothing queued`, async () => {
    // Prepare
    const request = fc.record({
      method: fc.oneof(fc.constant('POST'), fc.constantFrom('GET', 'PUT', 'post', 'DELETE', 'OPTIONS')),
      path: fc.oneof(fc.constant('/webhooks/front'), fc.constant('/webhooks/front/'), fc.string({ maxLength: 30 }).map((s) => `/${s}`)),
      headers: fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
      body: randomBody,
      isBase64Encoded: fc.boolean(),
      asText: fc.boolean(),
    });
    const statuses = new Map<number, number>();
    // Act
    await fc.assert(fc.asyncProperty(request, async (r) => {
      const body = r.isBase64Encoded ? r.body.toString('base64') : r.asText ? r.body.toString('utf8') : r.body.toString('latin1');
      const response = await callHandler(apiEvent(r.method, r.path, r.headers, body, r.isBase64Encoded));
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      assert.ok([401, 404, 405].includes(response.statusCode), `unsigned request answered ${response.statusCode}: ${response.body}`);
    }), { numRuns: RANDOM_RUNS });
    // Assess
    assert.equal((await sqs.drain(sqs.queueUrl)).length, 0, 'nothing reaches the queue without a valid signature');
    assert.equal((await sqs.drain(sqs.dlqUrl)).length, 0, 'nothing reaches the dead-letter queue without a valid signature');
    assert.ok((statuses.get(401) ?? 0) > RANDOM_RUNS / 4, `most requests reach the signature check: ${JSON.stringify([...statuses])}`);
  });
});

describe('fuzz: mutated signed requests', () => {
  it(`${MUTATED_RUNS} valid requests, mutated or not: queued only when still authentic`, async () => {
    // Prepare
    const pool = [
      ...['inbound', 'assign', 'tag', 'comment', 'brand_new_type'].map((type) => sampleEvent({ type })),
      sampleEvent({ type: 'reminder', conversationId: null }),
      sampleEvent({ type: 'assign', preview: true }),
    ];
    const mutation = fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('flip-body-byte' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate-body' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append-body' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('replace-body' as const), body: randomBody }),
      fc.record({ kind: fc.constant('flip-signature-char' as const), at: fc.nat(), char: fc.constantFrom('A', '/', '+', '=', '!', ' ') }),
      fc.record({ kind: fc.constant('shift-timestamp' as const), deltaMs: fc.integer({ min: -2 * MAX_CLOCK_SKEW_MS, max: 2 * MAX_CLOCK_SKEW_MS }) }),
      fc.constant({ kind: 'drop-timestamp' as const }),
      fc.constant({ kind: 'add-timestamp' as const }),
      fc.constant({ kind: 'wrong-secret' as const }),
    );
    const request = fc.record({
      scheme: fc.constantFrom('rule' as const, 'app' as const),
      event: fc.constantFrom(...pool),
      // Signed within the window or outside it, either way.
      skewMs: fc.oneof(fc.integer({ min: -MAX_CLOCK_SKEW_MS, max: MAX_CLOCK_SKEW_MS }), fc.integer({ min: -3 * MAX_CLOCK_SKEW_MS, max: 3 * MAX_CLOCK_SKEW_MS })),
      mutation,
      challenge: fc.option(fc.string({ maxLength: 20 }), { freq: 5 }),
      upperCaseHeaders: fc.boolean(),
      octetStream: fc.boolean(),
      resignAfterMutation: fc.boolean(),
    });
    const authenticBodies = new Set<string>();
    let authentic = 0;
    // Act
    await fc.assert(fc.asyncProperty(request, async (r) => {
      let body = Buffer.from(JSON.stringify(r.scheme === 'rule' ? r.event : appEnvelope(r.event)));
      let timestamp: string | undefined = r.scheme === 'app' ? String(NOW + r.skewMs) : undefined;
      let secret = r.scheme === 'rule' ? RULE_SECRET : APP_SECRET;
      const sign = () => (timestamp === undefined ? signRule(secret, body) : signApp(secret, timestamp, body));
      let signature = sign();
      const m = r.mutation;
      if (m.kind === 'flip-body-byte' && body.length > 0) { body = Buffer.from(body); const i = m.at % body.length; body[i] = body[i]! ^ (1 << m.bit); }
      if (m.kind === 'truncate-body') body = body.subarray(0, m.at % (body.length + 1));
      if (m.kind === 'append-body') body = Buffer.concat([body, Buffer.from(m.bytes)]);
      if (m.kind === 'replace-body') body = m.body;
      if (m.kind === 'flip-signature-char') { const i = m.at % signature.length; signature = signature.slice(0, i) + m.char + signature.slice(i + 1); }
      if (m.kind === 'shift-timestamp' && timestamp !== undefined) timestamp = String(Number(timestamp) + m.deltaMs);
      if (m.kind === 'drop-timestamp') timestamp = undefined;
      if (m.kind === 'add-timestamp') timestamp = String(NOW);
      if (m.kind === 'wrong-secret') { secret = `${secret}-not`; signature = sign(); }
      // Half the mutations are made by Front itself (re-signed), half in transit (signature kept).
      if (r.resignAfterMutation && m.kind !== 'flip-signature-char') signature = sign();

      // The oracle, independent of the code under test: the exact signature the scheme demands, and a fresh timestamp.
      const scheme = timestamp === undefined ? 'rule' : 'app';
      const expectedSecret = scheme === 'rule' ? RULE_SECRET : APP_SECRET;
      const expected = scheme === 'rule' ? signRule(expectedSecret, body) : signApp(expectedSecret, timestamp!, body);
      const isAuthentic = signature === expected && (scheme === 'rule' || Math.abs(Number(timestamp) - NOW) <= MAX_CLOCK_SKEW_MS);

      const headers: Record<string, string> = {
        'content-type': r.octetStream ? 'application/octet-stream' : 'application/json',
        'x-front-signature': signature,
        ...(timestamp !== undefined && { 'x-front-request-timestamp': timestamp }),
        ...(r.challenge !== null && { 'x-front-challenge': r.challenge }),
      };
      const event = toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers, body }, new Date(NOW));
      if (r.upperCaseHeaders) event.headers = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toUpperCase(), v]));
      const response = await callHandler(event);

      if (isAuthentic) {
        authentic += 1;
        authenticBodies.add(sha256(body));
        assert.ok([200, 202, 413].includes(response.statusCode), `authentic request answered ${response.statusCode}: ${response.body}`);
        // Only an app sync is a handshake: a challenge header on an event is ignored and the event queued.
        const isSync = (JSON.parse(JSON.stringify(r.event)) as { type?: string }).type === 'sync';
        if (r.challenge !== null && scheme === 'app' && isSync) assert.deepEqual(JSON.parse(response.body), { challenge: r.challenge });
      } else {
        assert.equal(response.statusCode, 401, `forged request (${m.kind}) answered ${response.statusCode}: ${response.body}`);
      }
    }), { numRuns: MUTATED_RUNS });
    // Assess
    const kept = [...await sqs.drain(sqs.queueUrl), ...await sqs.drain(sqs.dlqUrl)];
    assert.ok(authentic > MUTATED_RUNS / 5, `enough authentic requests to mean something: ${authentic}`);
    assert.ok(kept.length > 0 && kept.length <= authentic, `${kept.length} messages for ${authentic} authentic requests`);
    for (const message of kept) {
      const body = decodeBody(message.Body ?? '', message.MessageAttributes?.[ATTR.bodyEncoding]?.StringValue);
      assert.ok(authenticBodies.has(sha256(body)), `a queued body was never sent with a valid signature: ${message.Body?.slice(0, 80)}`);
    }
  });
});
