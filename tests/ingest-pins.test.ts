/**
 * What Front and an operator see of ingest (lib/ingest.ts): the HTTP answer, what is in the queue or the DLQ, and the
 * one log line per request, for the paths the other ingest tests leave loose: routes, the size limit to the byte,
 * oversize summaries, the last-resort guard, the 503s.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { appEnvelope, sampleEvent, syncEnvelope } from '../lib/front/samples.ts';
import { ATTR, MAX_MESSAGE_BYTES } from '../lib/queue.ts';
import { createSecretStore } from '../lib/secrets.ts';
import { ingestUnderTest, RULE_SECRET, signed } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('ingest-pins'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

const NOW = Date.parse('2026-11-26T12:00:00Z');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Bytes SQS counts for a message's attributes: each name, its data type ("String") and its value. */
function attributeBytes(attributes: Record<string, string>): number {
  return Object.entries(attributes).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value), 0);
}

/** A signed rule event of exactly `bytes` bytes (a padding field makes up the size). */
function eventOfSize(bytes: number) {
  const event = sampleEvent({ type: 'tag' }) as ReturnType<typeof sampleEvent> & { padding?: string };
  event.padding = '';
  const base = Buffer.byteLength(JSON.stringify(event));
  event.padding = 'x'.repeat(bytes - base);
  const request = signed('rule', event);
  assert.equal(request.body.length, bytes);
  return { event, request };
}

describe('the size limit', () => {
  it('queues an event whose body and attributes make exactly 1 MiB as it is, and a reference for one byte more', async () => {
    // Prepare: the attributes ingest sends with a rule event of type tag, received at NOW
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    const probe = sampleEvent({ type: 'tag' });
    const attributes = {
      [ATTR.eventId]: probe.id, [ATTR.eventType]: 'tag', [ATTR.scheme]: 'rule',
      [ATTR.receivedAt]: new Date(NOW).toISOString(), [ATTR.bodyEncoding]: 'utf8',
    };
    const fits = eventOfSize(MAX_MESSAGE_BYTES - attributeBytes(attributes));
    const over = eventOfSize(MAX_MESSAGE_BYTES - attributeBytes(attributes) + 1);
    assert.equal(fits.event.id.length, probe.id.length, 'event ids of one length: the attributes weigh the same');
    // Act
    const atLimit = await ingest.send(fits.request);
    const pastLimit = await ingest.send(over.request);
    // Assess
    assert.deepEqual([atLimit.status, atLimit.json.reference], [202, undefined]);
    assert.deepEqual([pastLimit.status, pastLimit.json.reference], [202, true]);
    const queued = await sqs.drain(sqs.queueUrl);
    const byEvent = new Map(queued.map((m) => [m.MessageAttributes?.[ATTR.eventId]?.StringValue, m]));
    assert.equal(byEvent.get(fits.event.id)?.Body, fits.request.body.toString('utf8'));
    assert.equal(byEvent.get(over.event.id)?.MessageAttributes?.[ATTR.bodyKind]?.StringValue, 'reference');
  });

  it('weighs an escaped body at its escaped size', async () => {
    // Prepare: U+FFFF (3 bytes received) is queued as 15 bytes (U+E000 and two hex digits per byte)
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    const probe = sampleEvent({ type: 'tag' });
    const attributes = {
      [ATTR.eventId]: probe.id, [ATTR.eventType]: 'tag', [ATTR.scheme]: 'rule',
      [ATTR.receivedAt]: new Date(NOW).toISOString(), [ATTR.bodyEncoding]: 'escaped',
    };
    const event = sampleEvent({ type: 'tag' }) as ReturnType<typeof sampleEvent> & { padding?: string };
    event.padding = '\uFFFF';
    const base = Buffer.byteLength(JSON.stringify(event));
    // Received: under the limit by 8 bytes; escaped: 12 bytes more, over it.
    event.padding = '\uFFFF' + 'x'.repeat(MAX_MESSAGE_BYTES - attributeBytes(attributes) - base - 8);
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.deepEqual([response.status, response.json.reference], [202, true]);
  });
});

describe('routes', () => {
  it('accepts the webhook path with trailing slashes', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const one = sampleEvent({ type: 'tag' });
    const two = sampleEvent({ type: 'tag' });
    // Act
    const responses = [
      await ingest.send({ ...signed('rule', one), path: '/webhooks/front/' }),
      await ingest.send({ ...signed('rule', two), path: '/webhooks/front//' }),
    ];
    // Assess
    assert.deepEqual(responses.map((r) => [r.status, r.json.eventId]), [[202, one.id], [202, two.id]]);
    assert.equal((await sqs.drain(sqs.queueUrl)).length, 2);
  });

  it('logs a wrong path or method as not_found, apart from refused requests, without a scheme', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const request = signed('rule', sampleEvent({ type: 'tag' }));
    // Act
    await ingest.send({ ...request, path: '/webhooks/frontx' });
    await ingest.send({ ...request, path: '/webhooks/front/x/' });
    await ingest.send({ ...request, method: 'GET' });
    await ingest.send({ ...request, headers: {} });
    // Assess
    assert.deepEqual(ingest.logs.map(({ durationMs: _, ...entry }) => entry), [
      { outcome: 'not_found', status: 404, reason: 'not_found', bytes: request.body.length },
      { outcome: 'not_found', status: 404, reason: 'not_found', bytes: request.body.length },
      { outcome: 'not_found', status: 405, reason: 'method_not_allowed', bytes: request.body.length },
      { outcome: 'rejected', status: 401, reason: 'missing_signature', scheme: 'rule', bytes: request.body.length },
    ]);
  });
});

describe('the log line', () => {
  it('gives the time spent handling the request in milliseconds, to the hundredth', async () => {
    // Prepare: secrets that take 60 ms to arrive
    const secrets = { get: async () => { await new Promise((resolve) => setTimeout(resolve, 60)); return [RULE_SECRET]; } };
    const ingest = ingestUnderTest(sqs, { secrets });
    const started = performance.now();
    // Act
    const response = await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    const elapsed = performance.now() - started;
    // Assess
    assert.equal(response.status, 202);
    const { durationMs } = ingest.logs[0]!;
    assert.ok(durationMs >= 55 && durationMs <= elapsed + 1, `durationMs ${durationMs}, measured ${elapsed}`);
    assert.match(String(durationMs), /^\d+(\.\d{1,2})?$/, 'two decimals at most');
  });

  it('names the event, its conversation and a reference, as the answer does', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    const withConversation = sampleEvent({ type: 'tag' });
    const without = sampleEvent({ type: 'tag', conversationId: null });
    // Act
    await ingest.send(signed('rule', withConversation));
    await ingest.send(signed('app', appEnvelope(without), { timestampMs: NOW }));
    // Assess
    assert.deepEqual(ingest.logs.map(({ durationMs: _, bytes: __, ...entry }) => entry), [
      { outcome: 'queued', status: 202, scheme: 'rule', eventId: withConversation.id, eventType: 'tag', conversationId: withConversation.conversation?.id },
      { outcome: 'queued', status: 202, scheme: 'app', eventId: without.id, eventType: 'tag' },
    ]);
  });
});

describe('syncs', () => {
  it('answers a sync without a challenge 200 ignored, naming its type, and logs it so', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    // Act
    const response = await ingest.send(signed('app', syncEnvelope(), { timestampMs: NOW }));
    const challenged = await ingest.send(signed('app', syncEnvelope(), { timestampMs: NOW, headers: { 'x-front-challenge': 'c-123' } }));
    // Assess
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { status: 'ignored', message: 'A "sync" request carries no event; nothing was queued.' });
    assert.deepEqual(challenged.json, { challenge: 'c-123' });
    assert.deepEqual(ingest.logs.map(({ durationMs: _, bytes: __, ...entry }) => entry), [
      { outcome: 'ignored', status: 200, scheme: 'app', eventType: 'sync' },
      { outcome: 'challenge', status: 200, scheme: 'app' },
    ]);
  });
});

describe('unusable bodies', () => {
  it('keeps a body that is not JSON in the DLQ in a group of its own, and says why in the answer', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    const raw = `not json ${randomUUID()}`;
    // Act
    const response = await ingest.send(signed('rule', raw));
    // Assess
    assert.equal(response.status, 202);
    assert.deepEqual(response.json, {
      status: 'dead_lettered',
      reason: 'invalid_json',
      message: `The request is authentic but ${ingest.logs[0]?.detail}. It was kept in the dead-letter queue for an operator to inspect and replay.`,
    });
    const [letter] = await sqs.drain(sqs.dlqUrl);
    assert.equal(letter?.Body, raw);
    assert.equal(letter?.Attributes?.MessageGroupId, `invalid_json-${sha256(raw)}`);
    assert.equal(letter?.Attributes?.MessageDeduplicationId, `invalid_json-${sha256(raw)}`);
    assert.equal(letter?.MessageAttributes?.[ATTR.receivedAt]?.StringValue, new Date(NOW).toISOString());
    assert.equal(letter?.MessageAttributes?.[ATTR.eventId], undefined);
    const { durationMs: _, ...entry } = ingest.logs[0]!;
    assert.deepEqual(entry, { outcome: 'dead_lettered', status: 202, scheme: 'rule', reason: 'invalid_json', detail: entry.detail, bytes: raw.length });
  });

  it('answers 413 for an unusable body too large for the queue, keeping a summary an operator can match to it', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    const raw = Buffer.alloc(MAX_MESSAGE_BYTES, `{"not": "json ${randomUUID()}`);
    // Act
    const response = await ingest.send(signed('app', raw, { timestampMs: NOW }));
    // Assess
    assert.equal(response.status, 413);
    const detail = `${ingest.logs[0]?.detail}`;
    assert.match(detail, new RegExp(`; the body \\(${raw.length} bytes\\) is too large for the queue$`));
    assert.deepEqual(response.json, {
      error: 'payload_too_large',
      message: `The request is authentic but ${detail}: a queued message holds at most ${MAX_MESSAGE_BYTES} bytes. A summary (size, SHA-256) was kept in the dead-letter queue for an operator to see.`,
    });
    const [letter, ...rest] = await sqs.drain(sqs.dlqUrl);
    assert.equal(rest.length, 0);
    assert.deepEqual(JSON.parse(letter?.Body ?? ''), { reason: 'payload_too_large', bytes: raw.length, sha256: sha256(raw) });
    assert.equal(letter?.Attributes?.MessageGroupId, `payload_too_large-${sha256(raw)}`);
    assert.equal(letter?.Attributes?.MessageDeduplicationId, `payload_too_large-${sha256(raw)}`);
    const attributes = Object.fromEntries(Object.entries(letter?.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
    assert.deepEqual(attributes, {
      [ATTR.scheme]: 'app', [ATTR.receivedAt]: new Date(NOW).toISOString(), [ATTR.bodyEncoding]: 'utf8',
      [ATTR.failureReason]: 'payload_too_large', [ATTR.failureDetail]: detail,
    });
    const { durationMs: _, ...entry } = ingest.logs[0]!;
    assert.deepEqual(entry, { outcome: 'too_large', status: 413, scheme: 'app', reason: 'payload_too_large', detail, bytes: raw.length });
  });

  it('logs the conversation of an oversize event queued as a reference', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound', messageBytes: 600_000 });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.json.reference, true);
    const { durationMs: _, bytes: __, ...entry } = ingest.logs[0]!;
    assert.deepEqual(entry, { outcome: 'queued', status: 202, scheme: 'rule', eventId: event.id, eventType: 'inbound', conversationId: event.conversation?.id, reference: true });
  });

  it('queues a reference without a conversation for an oversize event that has none', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound', conversationId: null, messageBytes: 600_000 });
    const request = signed('rule', event);
    // Act
    const response = await ingest.send(request);
    // Assess
    assert.deepEqual(response.json, {
      status: 'queued', eventId: event.id, reference: true,
      message: `The body is ${request.body.length} bytes; a queued message holds at most ${MAX_MESSAGE_BYTES}. A reference was queued instead: the event is fetched from Front's API when it is processed.`,
    });
    const [queued] = await sqs.drain(sqs.queueUrl);
    assert.deepEqual(Object.keys(JSON.parse(queued?.Body ?? '{}')).sort(), ['bytes', 'eventId', 'eventType', 'sha256']);
    assert.equal(queued?.Attributes?.MessageGroupId, event.id);
    const { durationMs: _, bytes: __, ...entry } = ingest.logs[0]!;
    assert.deepEqual(entry, { outcome: 'queued', status: 202, scheme: 'rule', eventId: event.id, eventType: 'inbound', reference: true });
  });
});

describe('the last-resort guard', () => {
  /** A clock that throws on the calls listed (1-based), as an unexpected bug would. */
  const breakingClock = (failing: (call: number) => boolean, error: unknown = new TypeError('clock broke')) => {
    let calls = 0;
    return () => {
      calls += 1;
      if (failing(calls)) throw error;
      return NOW;
    };
  };

  it('keeps an authentic body that met an unexpected error in the DLQ with the time it was received', async () => {
    // Prepare: the first call (receivedAt, after verification) throws; the guard's own call works
    const ingest = ingestUnderTest(sqs, { now: breakingClock((call) => call === 1, 'not an Error') });
    const raw = JSON.stringify(sampleEvent({ type: 'tag' }));
    // Act
    const response = await ingest.send(signed('rule', raw));
    // Assess
    assert.equal(response.status, 202);
    const [letter] = await sqs.drain(sqs.dlqUrl);
    assert.equal(letter?.MessageAttributes?.[ATTR.failureReason]?.StringValue, 'internal_error');
    assert.equal(letter?.MessageAttributes?.[ATTR.failureDetail]?.StringValue, 'an unexpected error occurred while handling it (string)');
    assert.equal(letter?.MessageAttributes?.[ATTR.receivedAt]?.StringValue, new Date(NOW).toISOString());
    assert.equal(letter?.Body, raw);
  });

  it('refuses with 400 a request that broke before it was authenticated, keeping nothing', async () => {
    // Prepare: an app request's first clock call is the freshness check, before it counts as authentic
    const ingest = ingestUnderTest(sqs, { now: breakingClock(() => true) });
    // Act
    const response = await ingest.send(signed('app', appEnvelope(sampleEvent({ type: 'tag' }))));
    // Assess
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, { error: 'bad_request', message: 'The request could not be read as a Front webhook.' });
    const { durationMs: _, bytes: __, ...entry } = ingest.logs[0]!;
    assert.deepEqual(entry, { outcome: 'rejected', status: 400, reason: 'bad_request', scheme: 'app', detail: 'an unexpected error occurred while handling it (TypeError)' });
    assert.equal((await sqs.drain(sqs.dlqUrl)).length + (await sqs.drain(sqs.queueUrl)).length, 0);
  });

  it('never keeps a request that broke before it was authenticated, even when keeping it would work', async () => {
    // Prepare: the freshness check's clock call throws once; any later call would work
    const ingest = ingestUnderTest(sqs, { now: breakingClock((call) => call === 1) });
    // Act
    const response = await ingest.send(signed('app', appEnvelope(sampleEvent({ type: 'tag' }))));
    // Assess
    assert.equal(response.status, 400);
    assert.equal((await sqs.drain(sqs.dlqUrl)).length + (await sqs.drain(sqs.queueUrl)).length, 0);
  });

  it('refuses with 400 an authentic request when keeping it breaks too', async () => {
    // Prepare: every clock call throws, the guard's included
    const ingest = ingestUnderTest(sqs, { now: breakingClock(() => true) });
    // Act
    const response = await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    // Assess
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, { error: 'bad_request', message: 'The request could not be read as a Front webhook.' });
    assert.equal(ingest.logs[0]?.scheme, 'rule');
    assert.equal(ingest.logs[0]?.detail, 'an unexpected error occurred while handling it (TypeError)');
  });

  it('answers 503 when the DLQ that should keep it cannot be reached', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: breakingClock((call) => call === 1), dlqUrl: 'http://127.0.0.1:9/000000000000/dlq.fifo', endpoint: 'http://127.0.0.1:9', sendDeadlineMs: 500 });
    // Act
    const response = await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.json.error, 'queue_unavailable');
  });
});

describe('503s', () => {
  it('answers 503 queue_unavailable, retry in 5 s, when the queue cannot be reached, and logs why', async () => {
    // Prepare
    const endpoint = 'http://127.0.0.1:9';
    const ingest = ingestUnderTest(sqs, { endpoint, queueUrl: `${endpoint}/000000000000/q.fifo`, dlqUrl: `${endpoint}/000000000000/dlq.fifo`, sendDeadlineMs: 500 });
    // Act
    const response = await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.headers['retry-after'], '5');
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(response.json, { error: 'queue_unavailable', message: 'The event could not be queued, so it was not accepted. Retry later.' });
    const { durationMs: _, bytes: __, ...entry } = ingest.logs[0]!;
    assert.deepEqual({ ...entry, detail: undefined }, { outcome: 'unavailable', status: 503, reason: 'queue_unavailable', detail: undefined });
    assert.match(entry.detail ?? '', /^could not send to http:\/\/127\.0\.0\.1:9\/000000000000\/q\.fifo: /);
  });

  it('answers 503 secrets_unavailable, retry in 5 s, when the secrets cannot be read', async () => {
    // Prepare
    const secrets = createSecretStore({ rule: { kind: 'ssm', name: '/missing' }, app: { kind: 'none' } }, undefined);
    const saved = process.env.AWS_ENDPOINT_URL_SSM;
    process.env.AWS_ENDPOINT_URL_SSM = 'http://127.0.0.1:9';
    try {
      const ingest = ingestUnderTest(sqs, { secrets });
      // Act
      const response = await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
      // Assess
      assert.equal(response.status, 503);
      assert.equal(response.headers['retry-after'], '5');
      assert.deepEqual(Object.keys(response.json).sort(), ['error', 'message']);
      assert.equal(response.json.error, 'secrets_unavailable');
      assert.match(String(response.json.message), /^The signing secret could not be read \(SSM parameter \/missing in [a-z]{2}(-[a-z]+)+-\d\), so the request could not be verified\. Retry later\.$/);
      assert.equal(ingest.logs[0]?.reason, 'secrets_unavailable');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
      else process.env.AWS_ENDPOINT_URL_SSM = saved;
    }
  });
});

describe('refusals', () => {
  it('says which secret and what was signed when a signature does not match, and refuses a stale app request', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => NOW });
    // Act
    const rule = await ingest.send(signed('rule', sampleEvent({ type: 'tag' }), { secret: 'wrong' }));
    const app = await ingest.send(signed('app', appEnvelope(sampleEvent({ type: 'tag' })), { secret: 'wrong', timestampMs: NOW }));
    const stale = await ingest.send(signed('app', appEnvelope(sampleEvent({ type: 'tag' })), { timestampMs: NOW - 300_001 }));
    // Assess
    assert.equal(rule.json.message, 'X-Front-Signature does not match the body signed with the rule webhook (API) secret.');
    assert.equal(app.json.message, 'X-Front-Signature does not match the body signed with the app secret, over "<timestamp>:<body>".');
    assert.deepEqual([stale.status, stale.json.error], [401, 'stale_timestamp']);
    assert.deepEqual(ingest.logs.map((l) => [l.outcome, l.scheme, l.reason]), [['rejected', 'rule', 'invalid_signature'], ['rejected', 'app', 'invalid_signature'], ['rejected', 'app', 'stale_timestamp']]);
  });
});
