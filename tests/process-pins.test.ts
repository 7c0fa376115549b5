/**
 * The process function as a handler author and an operator see it, on records Lambda would pass (messages queued
 * in fauxqs, received, turned into records; the state table in dynalite): what the handler is told about the
 * delivery (receive count, arrival, scheme), what the "front event processed" line and the DLQ say.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { appEnvelope, randomId, sampleEvent } from '../lib/front/samples.ts';
import { defineHandlers, type EventLogger, type FrontEventHandler, type HandlerContext } from '../lib/handlers/types.ts';
import { createProcessHandler, type ProcessDeps } from '../lib/process/handler.ts';
import { FrontApiClient, InMemoryRateBudget } from '../lib/front/api.ts';
import { startFakeFront } from '../local/fake-front.ts';
import { syncEnvelope } from '../lib/front/samples.ts';
import { DEFAULT_SETTINGS, type ProcessSettings } from '../lib/process/settings.ts';
import { ATTR } from '../lib/queue.ts';
import type { FrontEvent } from '../lib/front/event.ts';
import { processTestbed } from './helpers/process.ts';
import { recordingLogger, type LogRecord } from './helpers/local.ts';
import { recordingSqsClient } from './helpers/sqs.ts';
import { createDynamoClient, createDynamoEventStore, type EventStore } from '../lib/store/events.ts';
import { startLocalDynamo } from '../local/dynamodb.ts';

const bed = processTestbed('process-pins');
const { receiveRecords } = bed;

const NOW = Date.parse('2026-11-26T12:00:00Z');

interface Seen { event: FrontEvent; context: HandlerContext }

interface UnderTestOptions {
  settings?: Partial<ProcessSettings>;
  /** What the handler does once it has recorded what it was given (it may throw). */
  handle?: FrontEventHandler;
  /** An error for the handler to throw, or nothing. */
  fail?: (event: FrontEvent) => unknown;
  front?: ProcessDeps['front'];
  now?: () => number;
  store?: EventStore;
  sqs?: SQSClient;
  /** Replaces the recording logger with one built on it (a logger that fails on some lines). */
  logger?: (recording: EventLogger) => EventLogger;
  recentlyProcessedLimit?: number;
}

/** The process handler with a registry whose every handler records what it was given (and may throw). */
function underTest(options: UnderTestOptions = {}) {
  const logs: LogRecord[] = [];
  const seen: Seen[] = [];
  const record: FrontEventHandler = async (event, context) => {
    seen.push({ event, context });
    await options.handle?.(event, context);
    const error = options.fail?.(event);
    if (error) throw error;
  };
  const registry = defineHandlers({ default: record });
  const recording = recordingLogger(logs);
  const handler = createProcessHandler({
    registry, sqs: options.sqs ?? bed.sqs.client, queueUrl: bed.sqs.queueUrl, dlqUrl: bed.sqs.dlqUrl, store: options.store ?? bed.state.store,
    logger: options.logger?.(recording) ?? recording, now: options.now ?? (() => NOW), sendDeadlineMs: 1000,
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
    ...(options.front && { front: options.front }),
    ...(options.recentlyProcessedLimit !== undefined && { recentlyProcessedLimit: options.recentlyProcessedLimit }),
  });
  return { handler, logs, seen };
}

/** A logger that throws on the first `times` info lines `failing` (as a serialization error would), and records the rest. */
function failingOn(failing: string, times = Infinity) {
  let failed = 0;
  return (recording: EventLogger): EventLogger => ({ ...recording, info: (message, ...fields) => {
    if (message === failing && failed++ < times) throw new TypeError('cannot serialize');
    recording.info(message, ...fields);
  } });
}

const queue = (body: string, attributes: Record<string, string> = {}, groupId = randomId('cnv')) => bed.send(body, groupId, attributes);

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
    const letters = await bed.sqs.receiveAll(bed.sqs.dlqUrl);
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
    const [letter] = await bed.sqs.drain(bed.sqs.dlqUrl);
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
    const letters = await bed.sqs.receiveAll(bed.sqs.dlqUrl);
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
    const letters = await bed.sqs.receiveAll(bed.sqs.dlqUrl);
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
    const { handler, logs } = underTest({
      handle: (_event, { logger }) => {
        logger.debug('d', { n: 1 });
        logger.info('i', { n: 2 }, { m: 3 });
        logger.warn('w');
        logger.error('e', { eventType: 'overridden by the handler' });
      },
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
    const [letter, ...rest] = await bed.sqs.drain(bed.sqs.dlqUrl);
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
    const { client, requests } = recordingSqsClient(bed.sqs.endpoint);
    const { handler, logs } = underTest({ sqs: client, fail: () => new Error('down'), settings: { maxHandlerAttempts: 3, retryDelaysSeconds: [7, 60] } });
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
    assert.equal((await bed.sqs.drain(bed.sqs.dlqUrl)).length, 0);
  });
});

/** A state table of its own, in a dynalite this test can stop: the table "going down" mid-test. */
async function ownTable(options: { now?: () => number } = {}) {
  const dynamo = await startLocalDynamo({ port: 0, prefix: randomId('own') });
  const client = createDynamoClient(dynamo.endpoint);
  const store = createDynamoEventStore({ client, tableName: dynamo.tableName, ...(options.now && { now: options.now }) });
  let stopped = false;
  return {
    store,
    /** Stops the emulator: every later request is refused (connection refused), as an unreachable table is. */
    async down() { if (!stopped) { stopped = true; await dynamo.stop(); } },
    async close() { client.destroy(); await this.down(); },
  };
}

/** A record of `event`, received from the queue as Lambda would pass it. */
async function eventRecord(event: ReturnType<typeof sampleEvent>, attributes: Record<string, string> = { [ATTR.scheme]: 'rule' }): Promise<SQSRecord> {
  await queue(JSON.stringify(event), attributes, event.conversation?.id);
  const records = await receiveRecords();
  assert.equal(records.length, 1);
  return records[0]!;
}

describe('the "front event processed" line, whatever the event carries', () => {
  it('keeps every field for an event without source or target', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    delete (event as { source?: unknown }).source;
    delete (event as { target?: unknown }).target;
    const { handler, logs } = underTest();
    // Act
    const response = await handler({ Records: [await eventRecord(event)] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(lines(logs, 'front event logging failed'), []);
    const [line] = lines(logs, 'front event processed');
    assert.deepEqual([line?.eventId, line?.arrival, line?.attempt, line?.sourceKind, line?.targetKind], [event.id, 'webhook', 1, undefined, undefined]);
  });

  it('gives the handler\'s duration in milliseconds, to two decimals', async () => {
    // Prepare: the clock moves 1.23456 ms while the handler runs
    let t = NOW;
    const { handler, logs } = underTest({ now: () => t, fail: () => { t += 1.23456; } });
    // Act
    await handler({ Records: [await eventRecord(sampleEvent({ type: 'tag' }))] });
    // Assess
    assert.equal(lines(logs, 'front event processed')[0]?.durationMs, 1.23);
  });

  it('still says the event was processed, with its keys, when the full line cannot be written; the record stays done', async () => {
    // Prepare: a logger that fails on the first full processed line (as a serialization error would)
    const event = sampleEvent({ type: 'tag' });
    const { handler, logs } = underTest({ logger: failingOn('front event processed', 1) });
    // Act
    const response = await handler({ Records: [await eventRecord(event)] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(lines(logs, 'front event processed'), [{ level: 'info', message: 'front event processed', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id, handler: 'default' }]);
    assert.deepEqual(lines(logs, 'front event logging failed'), [{ level: 'error', message: 'front event logging failed', reason: 'TypeError: cannot serialize' }]);
    assert.ok((await bed.state.store.get(event.id, { consistent: true }))?.processedAt, 'marked processed');
  });
  it('says a line could not be written also where there is no shorter line to fall back on (a skipped copy)', async () => {
    // Prepare: an event already processed; a logger that fails on every "skipped" line
    const event = sampleEvent({ type: 'tag' });
    await bed.state.store.markProcessed(event.id, new Date(NOW - 1000));
    const { handler, logs } = underTest({ logger: failingOn('front event skipped') });
    // Act
    const response = await handler({ Records: [await eventRecord(event, { [ATTR.scheme]: 'rule', [ATTR.arrival]: 'redriven' })] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(lines(logs, 'front event logging failed'), [{ level: 'error', message: 'front event logging failed', reason: 'TypeError: cannot serialize' }]);
  });
});

describe('the state table', () => {
  it('is read consistently for a recovered or redriven copy, and eventually consistently (half the price) for a webhook', async () => {
    // Prepare: the table's GetItem requests, as sent
    const client = createDynamoClient(bed.state.endpoint);
    const reads: Array<boolean | undefined> = [];
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'GetItemCommand') reads.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
      return next(args);
    }, { step: 'initialize', name: 'recordReads' });
    const store = createDynamoEventStore({ client, tableName: bed.state.tableName });
    const { handler } = underTest({ store });
    // Act
    for (const arrival of ['webhook', 'recovered', 'redriven']) {
      await handler({ Records: [await eventRecord(sampleEvent({ type: 'tag' }), { [ATTR.scheme]: 'rule', [ATTR.arrival]: arrival })] });
    }
    // Assess
    assert.deepEqual(reads.map((r) => r === true), [false, true, true]);
    client.destroy();
  });

  it('unreachable before the handler: the record waits, longer the more often SQS has delivered it, and the handler does not run', async () => {
    // Prepare
    const table = await ownTable();
    await table.down();
    const third = await recordWithCount('3');
    const { attributes: _, ...uncounted } = await recordWithCount(undefined);
    try {
      for (const [record, expected] of [[third, 40], [uncounted as SQSRecord, 10]] as const) {
        const { handler, logs, seen } = underTest({ store: table.store, settings: { deferSeconds: 10 } });
        // Act
        const response = await handler({ Records: [record] });
        // Assess: 10 s doubled per delivery after the first
        assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
        const [line] = lines(logs, 'front event deferred');
        assert.deepEqual([line?.reason, line?.retryInSeconds], ['store_unavailable', expected]);
        assert.equal(seen.length, 0);
      }
    } finally {
      await table.close();
    }
  });

  it('unreachable after the handler succeeded: the record is done (never run again), and the missing mark is logged', async () => {
    // Prepare: the table goes down while the handler runs
    const table = await ownTable();
    const event = sampleEvent({ type: 'tag' });
    const { handler, logs } = underTest({ store: table.store, handle: () => table.down() });
    try {
      // Act
      const response = await handler({ Records: [await eventRecord(event)] });
      // Assess
      assert.deepEqual(response, { batchItemFailures: [] });
      const [line] = lines(logs, 'front event not recorded');
      assert.deepEqual({ ...line, detail: typeof line?.detail }, {
        level: 'error', message: 'front event not recorded', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id, reason: 'store_unavailable', detail: 'string',
      });
      assert.match(String(line?.detail), /^StoreUnavailableError: /);
      assert.equal(lines(logs, 'front event processed').length, 1);
    } finally {
      await table.close();
    }
  });

  it('unreachable after the handler failed: retried without the count, after the deferral delay, saying the count was not recorded', async () => {
    // Prepare
    const table = await ownTable();
    const event = sampleEvent({ type: 'tag' });
    const { handler, logs } = underTest({
      store: table.store, handle: () => table.down(), fail: () => new Error('the CRM is down'),
      settings: { deferSeconds: 10, retryDelaysSeconds: [99] },
    });
    try {
      const record = await eventRecord(event);
      // Act
      const response = await handler({ Records: [record] });
      // Assess
      assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
      const [line] = lines(logs, 'front event failed');
      assert.match(String(line?.countNotRecorded), /^StoreUnavailableError: /);
      assert.deepEqual({ ...line, countNotRecorded: 'x' }, {
        level: 'error', message: 'front event failed', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id,
        reason: 'Error: the CRM is down', handler: 'default', attempt: 1, durationMs: 0, willRetry: true, retryInSeconds: 10, countNotRecorded: 'x',
      });
    } finally {
      await table.close();
    }
  });

  it('says so when another delivery marked the event processed while its handler ran', async () => {
    // Prepare: the handler's event is marked processed by "another delivery" before it returns
    const event = sampleEvent({ type: 'tag' });
    const earlier = new Date(NOW - 1000);
    const { handler, logs } = underTest({ handle: async (e) => { await bed.state.store.markProcessed(e.id, earlier); } });
    // Act
    const response = await handler({ Records: [await eventRecord(event)] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(lines(logs, 'front event processed twice'), [{
      level: 'warn', message: 'front event processed twice', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id, firstProcessedAt: earlier.toISOString(),
    }]);
  });
});

describe('events this instance processed lately', () => {
  it('are skipped for 15 minutes without the state table (a copy can come before an eventually consistent read shows the mark)', async () => {
    // Prepare: processed at NOW; then the table goes down
    let t = NOW;
    const table = await ownTable({ now: () => t });
    const { handler, logs, seen } = underTest({ store: table.store, now: () => t });
    const event = sampleEvent({ type: 'tag' });
    try {
      const record = await eventRecord(event);
      await handler({ Records: [record] });
      await table.down();
      // Act: a copy 1 minute later, one just before 15 minutes, one at 15 minutes
      t = NOW + 60_000;
      const oneMinute = await handler({ Records: [record] });
      t = NOW + 15 * 60_000 - 1;
      const justBefore = await handler({ Records: [record] });
      t = NOW + 15 * 60_000;
      const atFifteen = await handler({ Records: [record] });
      // Assess
      assert.equal(seen.length, 1);
      assert.deepEqual([oneMinute, justBefore], [{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      assert.deepEqual(lines(logs, 'front event skipped').map((l) => l.firstProcessedAt), [new Date(NOW).toISOString(), new Date(NOW).toISOString()]);
      assert.deepEqual(atFifteen, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
      assert.equal(lines(logs, 'front event deferred')[0]?.reason, 'store_unavailable');
    } finally {
      await table.close();
    }
  });

  it('are at most recentlyProcessedLimit ids, the oldest forgotten first', async () => {
    // Prepare: three events processed with room for two; then the table goes down
    const table = await ownTable();
    const { handler, logs } = underTest({ store: table.store, recentlyProcessedLimit: 2 });
    try {
      const records: SQSRecord[] = [];
      for (let i = 0; i < 3; i++) {
        records.push(await eventRecord(sampleEvent({ type: 'tag' })));
        await handler({ Records: [records[i]!] });
      }
      await table.down();
      // Act
      const answers = [];
      for (const record of records) answers.push(await handler({ Records: [record] }));
      // Assess: the first is forgotten (the table is needed, and down); the last two are remembered
      assert.deepEqual(answers.map((a) => a.batchItemFailures.length), [1, 0, 0]);
      assert.equal(lines(logs, 'front event skipped').length, 2);
    } finally {
      await table.close();
    }
  });
});

describe('dead letters, from records as they come', () => {
  it('keeps the string attributes of a message, not its binary ones, and no queue sequence when the record has none', async () => {
    // Prepare: a body that is not JSON, with a binary attribute, and no `attributes` map (a replay tool's record)
    await queue('not json', { [ATTR.scheme]: 'rule' });
    const [received] = await receiveRecords();
    const { attributes: _, ...bare } = received!;
    const record = { ...bare, messageAttributes: { ...received!.messageAttributes, blob: { dataType: 'Binary', binaryValue: 'AQID', stringListValues: [], binaryListValues: [] } } } as unknown as SQSRecord;
    const { handler } = underTest();
    // Act
    const response = await handler({ Records: [record] });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    const [letter] = await bed.sqs.drain(bed.sqs.dlqUrl);
    assert.deepEqual(Object.keys(letter?.MessageAttributes ?? {}).sort(), [ATTR.failureDetail, ATTR.failureReason, ATTR.scheme].sort());
  });

  it('says at most 1,024 characters of why, on the line as in the DLQ', async () => {
    // Prepare: a reference to an event Front does not have, whose id makes the reason long
    const front = await startFakeFront({ token: 'token' });
    try {
      const id = `evt_${'x'.repeat(1100)}`;
      await queue(JSON.stringify({ eventId: id, eventType: 'tag', bytes: 2_000_000, sha256: 'x' }), { [ATTR.bodyKind]: 'reference', [ATTR.scheme]: 'rule' });
      const { handler, logs } = underTest({ now: Date.now, front: frontFetch(front.url) });
      // Act
      await handler({ Records: await receiveRecords() });
      // Assess
      const [letter] = await bed.sqs.drain(bed.sqs.dlqUrl);
      const detail = letter?.MessageAttributes?.[ATTR.failureDetail]?.StringValue ?? '';
      assert.equal(detail.length, 1024);
      assert.match(detail, /^Front's API has no event evt_x+/);
      assert.equal(lines(logs, 'front event dead-lettered')[0]?.detail, detail);
    } finally {
      await front.close();
    }
  });
});

/** Front's API as the process function reaches it, through the fake (token "token", unless none). */
function frontFetch(url: string, options: { token?: string | undefined; hydratePreviews?: boolean } = {}): NonNullable<ProcessDeps['front']> {
  const token = 'token' in options ? options.token : 'token';
  return {
    client: new FrontApiClient({ baseUrl: url, token: async () => token ?? '', budget: new InMemoryRateBudget(600) }),
    token: { source: 'test', get: async () => token },
    hydratePreviews: options.hydratePreviews ?? false,
  };
}

describe('previews, when the stage hydrates them', () => {
  it('reach the handler as they came when there is no token, said once per function instance', async () => {
    // Prepare
    const { handler, seen, logs } = underTest({ front: frontFetch('http://127.0.0.1:9', { token: undefined, hydratePreviews: true }) });
    const previews = [sampleEvent({ type: 'tag', preview: true }), sampleEvent({ type: 'tag', preview: true }), sampleEvent({ type: 'tag', preview: true })];
    // Act: two in one batch, one in the next
    for (const event of previews.slice(0, 2)) await queue(JSON.stringify(event), { [ATTR.scheme]: 'rule' });
    await handler({ Records: await receiveRecords() });
    await handler({ Records: [await eventRecord(previews[2]!)] });
    // Assess
    assert.deepEqual(seen.map((s) => s.event.preview), [true, true, true]);
    assert.deepEqual(lines(logs, 'front previews not hydrated'), [{
      level: 'warn', message: 'front previews not hydrated', reason: 'HYDRATE_PREVIEWS is on but there is no Front API token: previews reach handlers as they came',
    }]);
  });

  it('reach the handler as they came when Front has no such event, or answers with something that is not one, and say why', async () => {
    // Prepare
    const front = await startFakeFront({ token: 'token' });
    try {
      const missing = sampleEvent({ type: 'tag', preview: true });
      const odd = sampleEvent({ type: 'tag', preview: true });
      front.record({ ...sampleEvent({ type: 'tag' }), id: odd.id, conversation: 7 } as unknown as ReturnType<typeof sampleEvent>);
      const { handler, seen, logs } = underTest({ now: Date.now, front: frontFetch(front.url, { hydratePreviews: true }) });
      // Act
      for (const event of [missing, odd]) await handler({ Records: [await eventRecord(event)] });
      // Assess
      assert.deepEqual(seen.map((s) => [s.event.id, s.event.preview]), [[missing.id, true], [odd.id, true]]);
      assert.deepEqual(lines(logs, 'front event not hydrated'), [
        { level: 'warn', message: 'front event not hydrated', eventId: missing.id, eventType: 'tag', conversationId: missing.conversation?.id, reason: 'not_found' },
        { level: 'warn', message: 'front event not hydrated', eventId: odd.id, eventType: 'tag', conversationId: odd.conversation?.id, reason: 'not_an_event' },
      ]);
    } finally {
      await front.close();
    }
  });
});

describe('references, when Front cannot answer', () => {
  it('wait for Front (deferred, with the reason the alarm counts), never dead-lettered for it', async () => {
    // Prepare
    const front = await startFakeFront({ token: 'token' });
    try {
      for (const status of [503, 401]) {
        await bed.sqs.reset();
        front.failNext({ count: 10, status });
        await queue(JSON.stringify({ eventId: randomId('evt'), eventType: 'tag', bytes: 2_000_000, sha256: 'x' }), { [ATTR.bodyKind]: 'reference', [ATTR.scheme]: 'rule' });
        const { handler, logs, seen } = underTest({ now: Date.now, front: frontFetch(front.url) });
        const records = await receiveRecords();
        // Act
        const response = await handler({ Records: records });
        // Assess
        assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: records[0]!.messageId }] }, `Front answered ${status}`);
        assert.equal(seen.length, 0);
        assert.equal(lines(logs, 'front event deferred')[0]?.reason, status === 401 ? 'front_unauthorized' : 'front_unavailable');
        assert.deepEqual(await bed.sqs.drain(bed.sqs.dlqUrl), []);
      }
    } finally {
      await front.close();
    }
  });

  it('give up on a Front that does not answer by the batch\'s deadline, not the handler\'s', async () => {
    // Prepare: Lambda has 1.5 s left, 0.5 s kept back; the handler timeout is far longer
    const front = await startFakeFront({ token: 'token' });
    try {
      front.hangNext({ count: 10 });
      await queue(JSON.stringify({ eventId: randomId('evt'), eventType: 'tag', bytes: 2_000_000, sha256: 'x' }), { [ATTR.bodyKind]: 'reference', [ATTR.scheme]: 'rule' });
      const { handler, logs } = underTest({ now: Date.now, front: frontFetch(front.url), settings: { handlerTimeoutMs: 60_000, deadlineMarginMs: 500 } });
      const records = await receiveRecords();
      const started = Date.now();
      // Act
      const response = await handler({ Records: records }, { getRemainingTimeInMillis: () => 1500 });
      // Assess: it gave up at the batch's deadline (1 s), not after the client's own timeouts (5 s a try, 3 tries)
      assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
      assert.equal(response.batchItemFailures.length, 1);
      assert.equal(lines(logs, 'front event deferred')[0]?.reason, 'front_unavailable');
    } finally {
      await front.close();
    }
  });
});
