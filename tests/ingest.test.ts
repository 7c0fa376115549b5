import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { fromHttpApiEvent, toHttpApiEvent } from '../lib/apigw.ts';
import { appEnvelope, sampleEvent, signedHeaders, syncEnvelope } from '../lib/front/samples.ts';
import { ATTR, decodeBody, MAX_MESSAGE_BYTES } from '../lib/queue.ts';
import { signApp, signRule } from '../lib/signature.ts';
import { APP_SECRET, ingestUnderTest, RULE_SECRET, signed, type IngestUnderTest } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('ingest'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

const attr = (message: Message | undefined, name: string) => message?.MessageAttributes?.[name]?.StringValue;

/** Everything both queues hold. FIFO deduplication outlives fauxqs's reset(), so tests use fresh ids and nonces. */
async function queued(): Promise<{ main: Message[]; dlq: Message[] }> {
  return { main: await sqs.drain(sqs.queueUrl), dlq: await sqs.drain(sqs.dlqUrl) };
}

async function assertNothingQueued(): Promise<void> {
  const { main, dlq } = await queued();
  assert.equal(main.length, 0, 'nothing may reach the queue');
  assert.equal(dlq.length, 0, 'nothing may reach the dead-letter queue');
}

function assertErrorBody(response: { status: number; headers: Record<string, string>; json: Record<string, unknown> }, error: string): void {
  assert.equal(response.headers['content-type'], 'application/json');
  assert.deepEqual(Object.keys(response.json).sort(), ['error', 'message']);
  assert.equal(response.json.error, error);
  assert.equal(typeof response.json.message, 'string');
  assert.ok((response.json.message as string).length > 10, 'the message says what to fix');
}

describe('rule webhooks', () => {
  it('queues a signed full event and answers 202 naming it', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound' });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.status, 202);
    assert.deepEqual(response.json, { status: 'queued', eventId: event.id });
    const { main, dlq } = await queued();
    assert.equal(main.length, 1);
    assert.equal(dlq.length, 0);
    assert.equal(main[0]?.Body, JSON.stringify(event));
    assert.equal(attr(main[0], ATTR.eventId), event.id);
    assert.equal(attr(main[0], ATTR.eventType), 'inbound');
    assert.equal(attr(main[0], ATTR.scheme), 'rule');
    assert.equal(attr(main[0], ATTR.bodyEncoding), 'utf8');
    assert.ok(!Number.isNaN(Date.parse(attr(main[0], ATTR.receivedAt) ?? '')));
    assert.equal(main[0]?.Attributes?.MessageGroupId, event.conversation?.id);
    assert.equal(main[0]?.Attributes?.MessageDeduplicationId, event.id);
    assert.deepEqual(ingest.logs.map((l) => [l.outcome, l.status, l.scheme, l.eventId, l.conversationId]), [['queued', 202, 'rule', event.id, event.conversation?.id]]);
  });

  it('queues an event preview', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'assign', preview: true });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.status, 202);
    const { main } = await queued();
    assert.equal(main.length, 1);
    assert.equal(main[0]?.Body, JSON.stringify(event));
    assert.equal(attr(main[0], ATTR.eventType), 'assign');
  });

  it('accepts and queues a well-formed event of a type Front has not published yet', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'hologram_projected' });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.status, 202);
    const { main } = await queued();
    assert.equal(attr(main[0], ATTR.eventType), 'hologram_projected');
  });

  it('groups by the event id when the event has no conversation', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'reminder', conversationId: null });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.status, 202);
    const { main } = await queued();
    assert.equal(main[0]?.Attributes?.MessageGroupId, event.id);
  });

  it('keeps one message when Front delivers the same event twice', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'tag' });
    const request = signed('rule', event);
    // Act
    const first = await ingest.send(request);
    const second = await ingest.send(request);
    // Assess
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const { main } = await queued();
    assert.equal(main.length, 1);
    assert.equal(attr(main[0], ATTR.eventId), event.id);
  });
});

describe('application webhooks', () => {
  it('queues a full event envelope, grouped by conversation', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound' });
    const envelope = appEnvelope(event);
    // Act
    const response = await ingest.send(signed('app', envelope));
    // Assess
    assert.equal(response.status, 202);
    assert.deepEqual(response.json, { status: 'queued', eventId: event.id });
    const { main } = await queued();
    assert.equal(main.length, 1);
    assert.equal(main[0]?.Body, JSON.stringify(envelope));
    assert.equal(attr(main[0], ATTR.scheme), 'app');
    assert.equal(attr(main[0], ATTR.eventId), event.id);
    assert.equal(main[0]?.Attributes?.MessageGroupId, event.conversation?.id);
  });

  it('queues a preview envelope', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'comment', preview: true });
    // Act
    const response = await ingest.send(signed('app', appEnvelope(event)));
    // Assess
    assert.equal(response.status, 202);
    const { main } = await queued();
    assert.equal(attr(main[0], ATTR.eventId), event.id);
  });

  it('answers the challenge with 200 application/json {challenge} and queues nothing', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const request = signed('app', syncEnvelope(), { headers: { 'x-front-challenge': 'chl_6f1b2c' } });
    // Act
    const response = await ingest.send(request);
    // Assess
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(response.json, { challenge: 'chl_6f1b2c' });
    await assertNothingQueued();
    assert.equal(ingest.logs[0]?.outcome, 'challenge');
  });

  it('does not echo a challenge whose signature is wrong', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const request = signed('app', syncEnvelope(), { secret: 'not-the-app-secret', headers: { 'x-front-challenge': 'chl_x' } });
    // Act
    const response = await ingest.send(request);
    // Assess
    assert.equal(response.status, 401);
    assertErrorBody(response, 'invalid_signature');
    await assertNothingQueued();
  });

  it('answers a sync without a challenge with 200 and queues nothing', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    // Act
    const response = await ingest.send(signed('app', syncEnvelope()));
    // Assess
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'ignored');
    await assertNothingQueued();
  });

  it('refuses timestamps more than 5 minutes old or ahead, and accepts them just inside', async () => {
    // Prepare
    const now = Date.parse('2026-11-26T12:00:00Z');
    const ingest = ingestUnderTest(sqs, { now: () => now });
    const fiveMinutes = 5 * 60 * 1000;
    const at = (timestampMs: number) => signed('app', appEnvelope(sampleEvent()), { timestampMs });
    // Act
    const stale = await ingest.send(at(now - fiveMinutes - 1000));
    const future = await ingest.send(at(now + fiveMinutes + 1000));
    const oldButFresh = await ingest.send(at(now - fiveMinutes + 1000));
    const aheadButFresh = await ingest.send(at(now + fiveMinutes - 1000));
    // Assess
    assert.equal(stale.status, 401);
    assertErrorBody(stale, 'stale_timestamp');
    assert.equal(future.status, 401);
    assertErrorBody(future, 'stale_timestamp');
    assert.equal(oldButFresh.status, 202);
    assert.equal(aheadButFresh.status, 202);
    const { main, dlq } = await queued();
    assert.equal(main.length, 2);
    assert.equal(dlq.length, 0);
  });

  it('refuses a timestamp header that is not Unix milliseconds', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const body = JSON.stringify(appEnvelope(sampleEvent()));
    // Act
    const responses = [];
    for (const timestamp of ['', 'yesterday', '1.7e12', '-1700000000000', '1700000000000.5', ' 1700000000000', '99999999999999999999']) {
      responses.push(await ingest.send({
        headers: { 'x-front-request-timestamp': timestamp, 'x-front-signature': signApp(APP_SECRET, timestamp, body) },
        body,
      }));
    }
    // Assess
    for (const response of responses) {
      assert.equal(response.status, 401);
      assertErrorBody(response, 'invalid_timestamp');
    }
    await assertNothingQueued();
  });
});

describe('signatures and secrets', () => {
  it('refuses a body changed after signing, under either scheme', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const requests = (['rule', 'app'] as const).map((scheme) => {
      const request = signed(scheme, scheme === 'rule' ? sampleEvent() : appEnvelope(sampleEvent()));
      const body = Buffer.from(request.body);
      const at = body.indexOf('evt_') + 4;
      body[at] = body[at]! ^ 1;
      return { ...request, body };
    });
    // Act
    const responses = [];
    for (const request of requests) responses.push(await ingest.send(request));
    // Assess
    for (const response of responses) {
      assert.equal(response.status, 401);
      assertErrorBody(response, 'invalid_signature');
    }
    await assertNothingQueued();
  });

  it('refuses a signature made with another secret, under either scheme', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    // Act
    const rule = await ingest.send(signed('rule', sampleEvent(), { secret: APP_SECRET }));
    const app = await ingest.send(signed('app', appEnvelope(sampleEvent()), { secret: RULE_SECRET }));
    // Assess
    assert.equal(rule.status, 401);
    assertErrorBody(rule, 'invalid_signature');
    assert.equal(app.status, 401);
    assertErrorBody(app, 'invalid_signature');
    await assertNothingQueued();
  });

  it('refuses garbage, short, empty, padded and missing signature headers', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const body = JSON.stringify(sampleEvent());
    const good = signRule(RULE_SECRET, body);
    const cases: Array<[string | undefined, string]> = [
      ['%%% not base64 at all %%%', 'invalid_signature'],
      ['AAAA', 'invalid_signature'],
      [good.slice(0, 10), 'invalid_signature'],
      [`${good}${good}`, 'invalid_signature'],
      [`${good}!!`, 'invalid_signature'],
      [good.replace(/=+$/, '') + 'A', 'invalid_signature'],
      [signApp(RULE_SECRET, '1700000000000', body), 'invalid_signature'],
      ['', 'missing_signature'],
      [undefined, 'missing_signature'],
    ];
    // Act
    const responses = [];
    for (const [signature, _] of cases) {
      responses.push(await ingest.send({ headers: { 'content-type': 'application/json', ...(signature !== undefined && { 'x-front-signature': signature }) }, body }));
    }
    // Assess
    responses.forEach((response, i) => {
      assert.equal(response.status, 401, `case ${i}`);
      assertErrorBody(response, cases[i]![1]);
    });
    await assertNothingQueued();
  });

  it('accepts any of several comma-separated secrets, and stops accepting a secret once removed', async () => {
    // Prepare
    const during = ingestUnderTest(sqs, {
      rule: { kind: 'value', value: 'old-rule-secret, new-rule-secret' },
      app: { kind: 'value', value: 'old-app-secret,new-app-secret' },
    });
    const afterRotation = ingestUnderTest(sqs, { rule: { kind: 'value', value: 'new-rule-secret' }, app: { kind: 'value', value: 'new-app-secret' } });
    // Act
    const statuses = [
      (await during.send(signed('rule', sampleEvent(), { secret: 'old-rule-secret' }))).status,
      (await during.send(signed('rule', sampleEvent(), { secret: 'new-rule-secret' }))).status,
      (await during.send(signed('app', appEnvelope(sampleEvent()), { secret: 'old-app-secret' }))).status,
      (await during.send(signed('app', appEnvelope(sampleEvent()), { secret: 'new-app-secret' }))).status,
    ];
    const oldRule = await afterRotation.send(signed('rule', sampleEvent(), { secret: 'old-rule-secret' }));
    const oldApp = await afterRotation.send(signed('app', appEnvelope(sampleEvent()), { secret: 'old-app-secret' }));
    const newRule = await afterRotation.send(signed('rule', sampleEvent(), { secret: 'new-rule-secret' }));
    // Assess
    assert.deepEqual(statuses, [202, 202, 202, 202]);
    assert.equal(oldRule.status, 401);
    assert.equal(oldApp.status, 401);
    assert.equal(newRule.status, 202);
    const { main } = await queued();
    assert.equal(main.length, 5);
  });

  it('answers 401 naming the setting when a scheme has no secret', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { rule: { kind: 'none' }, app: { kind: 'none' } });
    // Act
    const rule = await ingest.send(signed('rule', sampleEvent()));
    const app = await ingest.send(signed('app', appEnvelope(sampleEvent())));
    // Assess
    assert.equal(rule.status, 401);
    assertErrorBody(rule, 'secret_not_configured');
    assert.match(rule.json.message as string, /FRONT_RULE_SECRET\b/);
    assert.match(rule.json.message as string, /FRONT_RULE_SECRET_PARAM/);
    assert.equal(app.status, 401);
    assertErrorBody(app, 'secret_not_configured');
    assert.match(app.json.message as string, /FRONT_APP_SECRET\b/);
    await assertNothingQueued();
  });
});

describe('bodies through the API Gateway adapter', () => {
  it('verifies a base64-encoded body on the decoded bytes and queues them unchanged', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound' });
    // Non-ASCII text: a base64 detour that re-encoded the text would change the bytes and the signature.
    event.conversation = { ...event.conversation!, id: event.conversation?.id ?? 'cnv_1', subject: 'Café — résumé 😀' };
    const raw = Buffer.from(JSON.stringify(event));
    const apiEvent = toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: { ...signedHeaders('rule', RULE_SECRET, raw), 'content-type': 'application/octet-stream' }, body: raw });
    // Act
    const response = await ingest.handle(fromHttpApiEvent(apiEvent));
    // Assess
    assert.equal(apiEvent.isBase64Encoded, true);
    assert.equal(response.statusCode, 202);
    const { main } = await queued();
    assert.ok(decodeBody(main[0]?.Body ?? '', attr(main[0], ATTR.bodyEncoding)).equals(raw));
  });

  it('refuses a base64-encoded body when the signature was made over the base64 text', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const raw = Buffer.from(JSON.stringify(sampleEvent()));
    const apiEvent = toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: { 'content-type': 'application/octet-stream' }, body: raw });
    apiEvent.headers['x-front-signature'] = signRule(RULE_SECRET, apiEvent.body ?? '');
    // Act
    const response = await ingest.handle(fromHttpApiEvent(apiEvent));
    // Assess
    assert.equal(response.statusCode, 401);
    await assertNothingQueued();
  });

  it('reads header names whatever their case', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const envelope = syncEnvelope();
    const request = signed('app', envelope, { headers: { 'x-front-challenge': 'chl_case' } });
    const apiEvent = toHttpApiEvent({ method: 'post', path: '/webhooks/front', headers: {}, body: request.body });
    apiEvent.headers = {
      'Content-Type': 'application/json',
      'X-Front-Signature': request.headers['x-front-signature']!,
      'X-FRONT-REQUEST-TIMESTAMP': request.headers['x-front-request-timestamp']!,
      'x-Front-Challenge': 'chl_case',
    };
    // Act
    const response = await ingest.handle(fromHttpApiEvent(apiEvent));
    // Assess
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), { challenge: 'chl_case' });
  });
});

describe('authentic but unusable bodies', () => {
  it('keeps a body that is not JSON in the dead-letter queue, byte for byte, and answers 202', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const raw = `{"id": "evt_${randomUUID()}", "type": "inbound", truncated`;
    // Act
    const response = await ingest.send(signed('rule', Buffer.from(raw)));
    // Assess
    assert.equal(response.status, 202);
    assert.equal(response.json.status, 'dead_lettered');
    assert.equal(response.json.reason, 'invalid_json');
    const { main, dlq } = await queued();
    assert.equal(main.length, 0);
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]?.Body, raw);
    assert.equal(attr(dlq[0], ATTR.failureReason), 'invalid_json');
    assert.match(attr(dlq[0], ATTR.failureDetail) ?? '', /not JSON/);
    assert.equal(attr(dlq[0], ATTR.scheme), 'rule');
    assert.equal(attr(dlq[0], ATTR.bodyEncoding), 'utf8');
  });

  it('keeps bytes that are not UTF-8, escaped, and flags the encoding', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const raw = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x01, 0xc3]), Buffer.from(randomUUID())]);
    // Act
    const response = await ingest.send(signed('app', raw));
    // Assess
    assert.equal(response.status, 202);
    const { dlq } = await queued();
    assert.equal(dlq.length, 1);
    assert.equal(attr(dlq[0], ATTR.bodyEncoding), 'escaped');
    assert.equal(attr(dlq[0], ATTR.failureReason), 'invalid_json');
    assert.equal(attr(dlq[0], ATTR.scheme), 'app');
    assert.ok(decodeBody(dlq[0]?.Body ?? '', 'escaped').equals(raw));
  });

  it('keeps an empty signed body, which SQS cannot hold as such, as the escaped form of zero bytes', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    // Act
    const response = await ingest.send(signed('rule', Buffer.alloc(0)));
    // Assess
    assert.equal(response.status, 202);
    const { dlq } = await queued();
    assert.equal(dlq.length, 1);
    assert.equal(attr(dlq[0], ATTR.failureReason), 'invalid_json');
    assert.equal(decodeBody(dlq[0]?.Body ?? '', attr(dlq[0], ATTR.bodyEncoding)).length, 0);
  });

  it('keeps JSON that is not a Front event in the dead-letter queue, byte for byte, with the reason', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    // Pretty-printed: the bytes kept must be the bytes received, not a re-serialization.
    const rule = JSON.stringify({ hello: 'world', nonce: randomUUID() }, null, 2);
    const app = JSON.stringify({ type: 'inbound_received', authorization: { id: 'cmp_1' }, nonce: randomUUID() });
    // Act
    const ruleResponse = await ingest.send(signed('rule', rule));
    const appResponse = await ingest.send(signed('app', app));
    // Assess
    assert.equal(ruleResponse.status, 202);
    assert.equal(ruleResponse.json.reason, 'invalid_shape');
    assert.equal(appResponse.status, 202);
    const { main, dlq } = await queued();
    assert.equal(main.length, 0);
    assert.deepEqual(dlq.map((m) => m.Body).sort(), [rule, app].sort());
    for (const message of dlq) {
      assert.equal(attr(message, ATTR.failureReason), 'invalid_shape');
      assert.match(attr(message, ATTR.failureDetail) ?? '', /not a Front/);
    }
  });

  it('queues a reference in the place of an event too large for the queue, in its conversation, and answers 202', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound', messageBytes: 600_000 });
    const request = signed('rule', event);
    // Act
    const response = await ingest.send(request);
    // Assess
    assert.ok(request.body.length > MAX_MESSAGE_BYTES);
    assert.equal(response.status, 202);
    assert.deepEqual([response.json.status, response.json.eventId, response.json.reference], ['queued', event.id, true]);
    const { main, dlq } = await queued();
    assert.equal(dlq.length, 0);
    assert.equal(main.length, 1);
    assert.deepEqual(JSON.parse(main[0]?.Body ?? ''), {
      eventId: event.id,
      eventType: 'inbound',
      conversationId: event.conversation?.id,
      bytes: request.body.length,
      sha256: createHash('sha256').update(request.body).digest('hex'),
    });
    assert.equal(attr(main[0], ATTR.bodyKind), 'reference');
    assert.equal(attr(main[0], ATTR.eventId), event.id);
    assert.equal(main[0]?.Attributes?.MessageGroupId, event.conversation?.id, 'in its conversation\'s order');
  });

  it('keeps an app webhook\'s envelope fields in the reference: the Events API does not return them', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound', messageBytes: 600_000 });
    const envelope = { type: 'inbound_received', authorization: { id: 'cmp_big' }, payload: event };
    // Act
    const response = await ingest.send(signed('app', envelope));
    // Assess
    assert.equal(response.status, 202);
    const { main } = await queued();
    const reference = JSON.parse(main[0]?.Body ?? '{}') as Record<string, unknown>;
    assert.deepEqual([reference.eventId, reference.appEventType, reference.companyId], [event.id, 'inbound_received', 'cmp_big']);
    assert.equal(attr(main[0], ATTR.scheme), 'app');
  });

  it('answers 413 for an oversize body that is not JSON, keeping its summary', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const raw = Buffer.alloc(MAX_MESSAGE_BYTES + 10, `not json ${randomUUID()} `);
    // Act
    const response = await ingest.send(signed('rule', raw));
    // Assess
    assert.equal(response.status, 413);
    assertErrorBody(response, 'payload_too_large');
    const { dlq } = await queued();
    assert.equal(dlq.length, 1);
    assert.equal(JSON.parse(dlq[0]?.Body ?? '{}').bytes, raw.length);
  });
});

describe('routes', () => {
  it('answers 404 for other paths and 405 for other methods, with a JSON error', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const request = signed('rule', sampleEvent());
    // Act
    const other = await ingest.send({ ...request, path: '/webhooks/other' });
    const nested = await ingest.send({ ...request, path: '/webhooks/front/extra' });
    const root = await ingest.send({ ...request, path: '/' });
    const get = await ingest.send({ ...request, method: 'GET' });
    const put = await ingest.send({ ...request, method: 'PUT' });
    // Assess
    for (const response of [other, nested, root]) {
      assert.equal(response.status, 404);
      assertErrorBody(response, 'not_found');
    }
    for (const response of [get, put]) {
      assert.equal(response.status, 405);
      assertErrorBody(response, 'method_not_allowed');
      assert.equal(response.headers.allow, 'POST');
    }
    await assertNothingQueued();
  });
});

describe('logging', () => {
  it('logs one line per request with no secret, signature or body, whatever the outcome', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs, { now: () => Date.parse('2026-11-26T12:00:00Z') });
    // V8 quotes the first 10 characters of a body it cannot parse: a log line must not contain even those.
    const marker = `Zq${randomUUID().slice(0, 4)}-BODY-MARKER-${randomUUID()}`;
    const event = sampleEvent({ emittedAt: Date.parse('2026-11-26T12:00:00Z') / 1000 });
    event.conversation = { ...event.conversation!, id: event.conversation?.id ?? 'cnv_1', subject: marker };
    const now = Date.parse('2026-11-26T12:00:00Z');
    const requests = [
      signed('rule', event),
      signed('app', appEnvelope(event), { timestampMs: now }),
      signed('app', appEnvelope(event), { timestampMs: now - 3_600_000 }),
      signed('rule', `${marker} is not JSON`),
      signed('rule', `"${marker}`),
      signed('rule', { marker }),
      signed('rule', event, { secret: 'wrong' }),
      signed('app', syncEnvelope(marker), { timestampMs: now, headers: { 'x-front-challenge': marker } }),
    ];
    // Act
    const responses = [];
    for (const request of requests) responses.push(await ingest.send(request));
    // Assess
    assert.deepEqual(responses.map((r) => r.status), [202, 202, 401, 202, 202, 202, 401, 200]);
    assert.equal(ingest.logs.length, requests.length);
    requests.forEach((request, i) => {
      const line = JSON.stringify(ingest.logs[i]);
      assert.ok(!line.includes(marker.slice(0, 6)), `line ${i} must not contain the body: ${line}`);
      assert.ok(!line.includes(RULE_SECRET) && !line.includes(APP_SECRET), `line ${i} must not contain a secret`);
      assert.ok(!line.includes(request.headers['x-front-signature']!), `line ${i} must not contain the signature`);
      assert.equal(typeof ingest.logs[i]?.durationMs, 'number');
      assert.equal(ingest.logs[i]?.bytes, request.body.length);
    });
  });
});
