/**
 * The process function as a handler author and an operator see it, on records Lambda would pass (messages queued
 * in fauxqs, received, turned into records; the state table in dynalite): what the handler is told about the
 * delivery (receive count, arrival, scheme), what the "front event processed" line and the DLQ say.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GetQueueAttributesCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { appEnvelope, randomId, sampleEvent } from '../lib/front/samples.ts';
import { defineHandlers, type FrontEventHandler, type HandlerContext } from '../lib/handlers/types.ts';
import { createProcessHandler, type ProcessDeps } from '../lib/process/handler.ts';
import { FrontApiClient, InMemoryRateBudget } from '../lib/front/api.ts';
import { startFakeFront } from '../local/fake-front.ts';
import { syncEnvelope } from '../lib/front/samples.ts';
import { DEFAULT_SETTINGS, type ProcessSettings } from '../lib/process/settings.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { ATTR } from '../lib/queue.ts';
import type { FrontEvent } from '../lib/front/event.ts';
import { recordingLogger, type LogRecord } from './helpers/local.ts';
import { recordingSqsClient, startTestSqs, type TestSqs } from './helpers/sqs.ts';
import { startTestStore, type TestStore } from './helpers/store.ts';

let sqs: TestSqs;
let state: TestStore;
let queueArn = '';
before(async () => {
  sqs = await startTestSqs('process-pins');
  state = await startTestStore('process-pins');
  const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['QueueArn'] }));
  queueArn = Attributes?.QueueArn ?? '';
});
after(async () => { await sqs.stop(); await state.stop(); });
beforeEach(async () => { await sqs.reset(); await state.reset(); });

const NOW = Date.parse('2026-11-26T12:00:00Z');

interface Seen { event: FrontEvent; context: HandlerContext }

/** The process handler with a registry whose every handler records what it was given (and may throw). */
function underTest(options: { settings?: Partial<ProcessSettings>; fail?: (event: FrontEvent) => unknown; front?: ProcessDeps['front']; now?: () => number } = {}) {
  const logs: LogRecord[] = [];
  const seen: Seen[] = [];
  const record: FrontEventHandler = async (event, context) => {
    seen.push({ event, context });
    const error = options.fail?.(event);
    if (error) throw error;
  };
  const registry = defineHandlers({ default: record });
  const handler = createProcessHandler({
    registry, sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store,
    logger: recordingLogger(logs), now: options.now ?? (() => NOW), sendDeadlineMs: 1000,
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    ...(options.front && { front: options.front }),
  });
  return { handler, logs, seen };
}

async function queue(body: string, attributes: Record<string, string> = {}, groupId = randomId('cnv')): Promise<void> {
  await sqs.client.send(new SendMessageCommand({
    QueueUrl: sqs.queueUrl, MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: randomId('dedup'),
    MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
  }));
}

async function receiveRecords(): Promise<SQSRecord[]> {
  const messages: Message[] = await sqs.receiveAll(sqs.queueUrl, 60);
  return messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
}

/** One record, as Lambda passes it, with its ApproximateReceiveCount as given (Lambda passes strings). */
async function recordWithCount(count: string | undefined): Promise<SQSRecord> {
  await queue(JSON.stringify(sampleEvent({ type: 'tag' })), { [ATTR.scheme]: 'rule' });
  const [record] = await receiveRecords();
  const attributes = { ...record!.attributes } as Record<string, string>;
  if (count === undefined) delete attributes.ApproximateReceiveCount;
  else attributes.ApproximateReceiveCount = count;
  return { ...record!, attributes: attributes as unknown as SQSRecord['attributes'] };
}

const lines = (logs: LogRecord[], message: string) => logs.filter((l) => l.message === message);

describe('what the handler is told about the delivery', () => {
  it('passes SQS\'s receive count as a number, and 1 for a count that is missing, zero, negative, fractional or not a number', async () => {
    for (const [given, expected] of [['3', 3], ['1', 1], [undefined, 1], ['0', 1], ['-2', 1], ['2.5', 1], ['two', 1], ['', 1]] as const) {
      // Prepare
      const { handler, seen } = underTest();
      const record = await recordWithCount(given);
      // Act
      const response = await handler({ Records: [record] });
      // Assess
      assert.deepEqual(response, { batchItemFailures: [] });
      assert.equal(seen[0]?.context.receiveCount, expected, `ApproximateReceiveCount ${JSON.stringify(given)}`);
    }
  });

  it('tells how the event arrived: recovered or redriven when the queue says so, a webhook otherwise', async () => {
    for (const [declared, expected] of [['recovered', 'recovered'], ['redriven', 'redriven'], ['webhook', 'webhook'], ['bogus', 'webhook'], [undefined, 'webhook']] as const) {
      // Prepare
      const { handler, seen, logs } = underTest();
      await queue(JSON.stringify(sampleEvent({ type: 'tag' })), { [ATTR.scheme]: 'rule', ...(declared && { [ATTR.arrival]: declared }) });
      // Act
      await handler({ Records: await receiveRecords() });
      // Assess
      assert.equal(seen[0]?.context.arrival, expected, `front-arrival ${String(declared)}`);
      assert.equal(lines(logs, 'front event processed')[0]?.arrival, expected);
    }
  });

  it('reads the scheme from front-scheme, and infers it for a message queued without one', async () => {
    // Prepare
    const rule = sampleEvent({ type: 'tag' });
    const app = sampleEvent({ type: 'tag' });
    const bareRule = sampleEvent({ type: 'tag' });
    const bareApp = sampleEvent({ type: 'tag' });
    await queue(JSON.stringify(rule), { [ATTR.scheme]: 'rule' });
    await queue(JSON.stringify(appEnvelope(app)), { [ATTR.scheme]: 'app' });
    await queue(JSON.stringify(bareRule));
    await queue(JSON.stringify(appEnvelope(bareApp)), { [ATTR.scheme]: 'neither' });
    const { handler, seen } = underTest();
    // Act
    const response = await handler({ Records: await receiveRecords() });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    const schemes = new Map(seen.map((s) => [s.event.id, s.event.scheme]));
    assert.deepEqual([rule.id, app.id, bareRule.id, bareApp.id].map((id) => schemes.get(id)), ['rule', 'app', 'rule', 'app']);
    assert.equal(seen.find((s) => s.event.id === app.id)?.event.companyId, 'cmp_acme');
  });

  it('dead-letters a body that does not match the scheme front-scheme declares, naming the first schema\'s error', async () => {
    // Prepare: an app envelope declared as a rule event, and a rule event declared as an app envelope
    await queue(JSON.stringify(appEnvelope(sampleEvent({ type: 'tag' }))), { [ATTR.scheme]: 'rule' });
    await queue(JSON.stringify(sampleEvent({ type: 'tag' })), { [ATTR.scheme]: 'app' });
    await queue(JSON.stringify({ neither: true }));
    const { handler, seen, logs } = underTest();
    // Act
    const response = await handler({ Records: await receiveRecords() });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(seen.length, 0);
    const letters = await sqs.receiveAll(sqs.dlqUrl);
    assert.equal(letters.length, 3);
    for (const letter of letters) {
      assert.equal(letter.MessageAttributes?.[ATTR.failureReason]?.StringValue, 'invalid_shape');
      assert.match(letter.MessageAttributes?.[ATTR.failureDetail]?.StringValue ?? '', /^the body is \S/);
    }
    const neither = letters.find((l) => l.Body === JSON.stringify({ neither: true }));
    // Both schemas refuse it: the rule schema's error is the one named (an event needs an id).
    assert.match(neither?.MessageAttributes?.[ATTR.failureDetail]?.StringValue ?? '', /id/);
    assert.deepEqual(lines(logs, 'front event dead-lettered').map((l) => l.reason), ['invalid_shape', 'invalid_shape', 'invalid_shape']);
  });
});

describe('records as they come', () => {
  it('processes a record that has no attributes or message attributes at all, as a first delivery of a webhook', async () => {
    // Prepare: a hand-built SQS event (Lambda always sends both maps; a test or a replay tool may not)
    const event = sampleEvent({ type: 'tag' });
    await queue(JSON.stringify(event));
    const [record] = await receiveRecords();
    const { attributes: _, messageAttributes: __, ...bare } = record!;
    const { handler, seen } = underTest();
    // Act
    const response = await handler({ Records: [bare as SQSRecord] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual([seen[0]?.event.id, seen[0]?.event.scheme, seen[0]?.context.receiveCount, seen[0]?.context.arrival], [event.id, 'rule', 1, 'webhook']);
  });

  it('dead-letters a sync queued as an app event as not_an_event, saying why', async () => {
    // Prepare
    await queue(JSON.stringify(syncEnvelope()), { [ATTR.scheme]: 'app' });
    const { handler, seen } = underTest();
    // Act
    await handler({ Records: await receiveRecords() });
    // Assess
    assert.equal(seen.length, 0);
    const [letter] = await sqs.drain(sqs.dlqUrl);
    assert.equal(letter?.MessageAttributes?.[ATTR.failureReason]?.StringValue, 'not_an_event');
    assert.equal(letter?.MessageAttributes?.[ATTR.failureDetail]?.StringValue, 'the app envelope carries no payload (a sync request is not an event)');
  });
});

describe('references to events too large for SQS', () => {
  it('dead-letters, as invalid_shape, a reference that names no event id or type, or a conversation that is not a string', async () => {
    // Prepare
    const bad = [
      { eventType: 'tag', bytes: 1, sha256: 'x' },
      { eventId: '', eventType: 'tag', bytes: 1, sha256: 'x' },
      { eventId: 'evt_1', bytes: 1, sha256: 'x' },
      { eventId: 'evt_1', eventType: 7, bytes: 1, sha256: 'x' },
      { eventId: 'evt_1', eventType: 'tag', conversationId: 7, bytes: 1, sha256: 'x' },
      null,
      'evt_1',
    ];
    for (const body of bad) await queue(JSON.stringify(body), { [ATTR.bodyKind]: 'reference', [ATTR.scheme]: 'rule' });
    const { handler, seen } = underTest();
    // Act
    const response = await handler({ Records: await receiveRecords() });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(seen.length, 0);
    const letters = await sqs.receiveAll(sqs.dlqUrl);
    assert.equal(letters.length, bad.length);
    for (const letter of letters) {
      assert.equal(letter.MessageAttributes?.[ATTR.failureReason]?.StringValue, 'invalid_shape');
      assert.equal(letter.MessageAttributes?.[ATTR.failureDetail]?.StringValue, 'the body is not an event reference (eventId, eventType)');
    }
  });

  it('reads a valid reference, with or without a conversation, as one to fetch (here: no Front token, so dead-lettered as payload_too_large)', async () => {
    // Prepare
    await queue(JSON.stringify({ eventId: 'evt_ref1', eventType: 'tag', bytes: 2_000_000, sha256: 'x' }), { [ATTR.bodyKind]: 'reference', [ATTR.scheme]: 'app' });
    await queue(JSON.stringify({ eventId: 'evt_ref2', eventType: 'tag', conversationId: 'cnv_ref', bytes: 2_000_000, sha256: 'x' }), { [ATTR.bodyKind]: 'reference' });
    const { handler, logs } = underTest();
    // Act
    await handler({ Records: await receiveRecords() });
    // Assess
    const letters = await sqs.receiveAll(sqs.dlqUrl);
    assert.deepEqual(letters.map((l) => l.MessageAttributes?.[ATTR.failureReason]?.StringValue), ['payload_too_large', 'payload_too_large']);
    const dead = lines(logs, 'front event dead-lettered');
    assert.deepEqual(dead.map((l) => l.conversationId).sort(), ['cnv_ref', undefined].sort());
  });
});

describe('references fetched from Front', () => {
  it('hands the fetched event over under the scheme the reference was queued with (a rule webhook unless it says app)', async () => {
    // Prepare
    const front = await startFakeFront({ token: 'token' });
    try {
      const events = { app: sampleEvent({ type: 'tag' }), rule: sampleEvent({ type: 'tag' }), undeclared: sampleEvent({ type: 'tag' }) };
      for (const [declared, event] of Object.entries(events)) {
        front.record(event);
        const reference = { eventId: event.id, eventType: 'tag', bytes: 2_000_000, sha256: 'x', ...(declared === 'app' && { appEventType: 'tag_added', companyId: 'cmp_9' }) };
        await queue(JSON.stringify(reference), { [ATTR.bodyKind]: 'reference', ...(declared !== 'undeclared' && { [ATTR.scheme]: declared }) });
      }
      // Front's API client keeps real time: so does the handler here.
      const { handler, seen } = underTest({
        now: Date.now,
        front: {
          client: new FrontApiClient({ baseUrl: front.url, token: async () => 'token', budget: new InMemoryRateBudget(600) }),
          token: { source: 'test', get: async () => 'token' },
          hydratePreviews: false,
        },
      });
      // Act
      const response = await handler({ Records: await receiveRecords() });
      // Assess
      assert.deepEqual(response, { batchItemFailures: [] });
      const byId = new Map(seen.map((s) => [s.event.id, s.event]));
      assert.deepEqual([byId.get(events.app.id)?.scheme, byId.get(events.app.id)?.companyId, byId.get(events.app.id)?.appEventType], ['app', 'cmp_9', 'tag_added']);
      assert.equal(byId.get(events.rule.id)?.scheme, 'rule');
      assert.equal(byId.get(events.undeclared.id)?.scheme, 'rule');
    } finally {
      await front.close();
    }
  });
});

describe('the "front event processed" line', () => {
  it('gives lagMs from emitted_at, never negative, and none without emitted_at', async () => {
    // Prepare: emitted 1.5 s before now, 2 s after now (a clock ahead of ours), and without emitted_at
    const before = sampleEvent({ type: 'tag', emittedAt: (NOW - 1500) / 1000 });
    const ahead = sampleEvent({ type: 'tag', emittedAt: (NOW + 2000) / 1000 });
    const without = sampleEvent({ type: 'tag' });
    delete without.emitted_at;
    for (const event of [before, ahead, without]) await queue(JSON.stringify(event), { [ATTR.scheme]: 'rule', [ATTR.receivedAt]: '2026-11-26T11:59:59.000Z' });
    const { handler, logs } = underTest();
    // Act
    await handler({ Records: await receiveRecords() });
    // Assess
    const byId = new Map(lines(logs, 'front event processed').map((l) => [l.eventId, l]));
    assert.equal(byId.get(before.id)?.lagMs, 1500);
    assert.equal(byId.get(ahead.id)?.lagMs, 0);
    assert.ok(byId.has(without.id));
    assert.equal(byId.get(without.id)?.lagMs, undefined);
    assert.equal(byId.get(without.id)?.emittedAt, undefined);
    assert.equal(byId.get(before.id)?.receivedAt, '2026-11-26T11:59:59.000Z');
  });
});

describe('a handler\'s own log lines', () => {
  it('carry the event id, type and conversation at every level, beside the handler\'s fields', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    await queue(JSON.stringify(event), { [ATTR.scheme]: 'rule' });
    const logs: LogRecord[] = [];
    const handler = createProcessHandler({
      registry: defineHandlers({
        default: () => {},
        tag: (_event, { logger }) => {
          logger.debug('d', { n: 1 });
          logger.info('i', { n: 2 }, { m: 3 });
          logger.warn('w');
          logger.error('e', { eventType: 'overridden by the handler' });
        },
      }),
      sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger(logs), now: () => NOW,
    });
    // Act
    await handler({ Records: await receiveRecords() });
    // Assess
    const keys = { eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id };
    assert.deepEqual(logs.filter((l) => l.message.length === 1), [
      { level: 'debug', message: 'd', ...keys, n: 1 },
      { level: 'info', message: 'i', ...keys, n: 2, m: 3 },
      { level: 'warn', message: 'w', ...keys },
      { level: 'error', message: 'e', ...keys, eventType: 'overridden by the handler' },
    ]);
  });
});

describe('a handler that keeps failing', () => {
  it('is dead-lettered after its last attempt with what it threw, its attempts and its queue order, and logged so', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    await queue(JSON.stringify(event), { [ATTR.scheme]: 'rule', [ATTR.eventId]: event.id, [ATTR.eventType]: 'tag' }, event.conversation?.id);
    const { handler, logs } = underTest({ settings: { maxHandlerAttempts: 1 }, fail: () => new RangeError(`bad ${'x'.repeat(2000)}`) });
    const [record] = await receiveRecords();
    // Act
    const response = await handler({ Records: [record!] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    const [letter, ...rest] = await sqs.drain(sqs.dlqUrl);
    assert.equal(rest.length, 0);
    const detail = `RangeError: bad ${'x'.repeat(2000)}`.slice(0, 1024);
    const attributes = Object.fromEntries(Object.entries(letter?.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
    assert.deepEqual(attributes, {
      [ATTR.scheme]: 'rule', [ATTR.eventId]: event.id, [ATTR.eventType]: 'tag',
      [ATTR.failureReason]: 'handler_failed', [ATTR.failureDetail]: detail, [ATTR.attempts]: '1',
      [ATTR.sequence]: record!.attributes.SequenceNumber,
    });
    assert.equal(letter?.Body, record!.body);
    assert.equal(letter?.Attributes?.MessageGroupId, `handler_failed-${record!.messageId}`);
    assert.equal(letter?.Attributes?.MessageDeduplicationId, `handler_failed-${record!.messageId}`);
    const failed = lines(logs, 'front event failed')[0];
    assert.deepEqual({ ...failed, durationMs: 0 }, {
      level: 'error', message: 'front event failed', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id,
      reason: detail, handler: 'default', attempt: 1, maxAttempts: 1, durationMs: 0, willRetry: false,
    });
    assert.deepEqual(lines(logs, 'front event dead-lettered'), [{
      level: 'warn', message: 'front event dead-lettered', messageId: record!.messageId, reason: 'handler_failed', detail,
      eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id, attempts: 1,
    }]);
  });

  it('is retried before its last attempt, visible again when its delay is due, at most 10 messages per visibility call', async () => {
    // Prepare: 12 conversations whose handlers fail
    for (let i = 0; i < 12; i++) await queue(JSON.stringify(sampleEvent({ type: 'tag' })), { [ATTR.scheme]: 'rule' });
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    const logs: LogRecord[] = [];
    const handler = createProcessHandler({
      registry: defineHandlers({ default: () => { throw new Error('down'); } }),
      sqs: client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger(logs), now: () => NOW,
      settings: { ...DEFAULT_SETTINGS, maxHandlerAttempts: 3, retryDelaysSeconds: [7, 60] },
    });
    const records = await receiveRecords();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.equal(response.batchItemFailures.length, 12);
    const calls = requests.filter((r) => r.command === 'ChangeMessageVisibilityBatchCommand').map((r) => r.input.Entries as Array<{ VisibilityTimeout: number; ReceiptHandle: string }>);
    assert.deepEqual(calls.map((entries) => entries.length), [10, 2]);
    assert.ok(calls.flat().every((e) => e.VisibilityTimeout === 7));
    assert.deepEqual(new Set(calls.flat().map((e) => e.ReceiptHandle)), new Set(records.map((r) => r.receiptHandle)));
    const failed = lines(logs, 'front event failed');
    assert.equal(failed.length, 12);
    assert.ok(failed.every((l) => l.willRetry === true && l.retryInSeconds === 7 && l.attempt === 1 && l.maxAttempts === 3));
    assert.equal((await sqs.drain(sqs.dlqUrl)).length, 0);
  });
});
