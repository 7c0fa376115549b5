/**
 * The process handler (lib/process/handler.ts) on real SQS records and a real state table: events queued by the real
 * ingest logic (or sent straight to the queue), received from fauxqs (batches as Lambda gets them), turned into the
 * records Lambda would pass; records kept in dynalite.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { appEnvelope, randomId, sampleEvent } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import { defineHandlers, type HandlerRegistry } from '../lib/handlers/types.ts';
import { readDeadLetters, redrive } from '../lib/dlq.ts';
import { FrontApiClient, InMemoryRateBudget } from '../lib/front/api.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { DEFAULT_SETTINGS, type ProcessSettings } from '../lib/process/settings.ts';
import { ATTR } from '../lib/queue.ts';
import { createDynamoEventStore, createDynamoClient, type EventStore } from '../lib/store/events.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { processTestbed } from './helpers/process.ts';
import { metricsOf, recordingLogger, type LogRecord } from './helpers/local.ts';
import { startFakeFront } from '../local/fake-front.ts';

const bed = processTestbed('process');
const { receiveRecords, send: sendRaw } = bed;

const NOW = Date.parse('2026-11-26T12:00:00Z');

function underTest(registry: HandlerRegistry = handlers, options: { dlqUrl?: string; store?: EventStore; settings?: Partial<ProcessSettings> } = {}) {
  const logs: LogRecord[] = [];
  const handler = createProcessHandler({
    registry, sqs: bed.sqs.client, queueUrl: bed.sqs.queueUrl, dlqUrl: options.dlqUrl ?? bed.sqs.dlqUrl, store: options.store ?? bed.state.store,
    logger: recordingLogger(logs), now: () => NOW, sendDeadlineMs: 1000,
    settings: { ...DEFAULT_SETTINGS, ...options.settings },
  });
  return { handler, logs };
}

const messagesOf = (logs: LogRecord[], message: string) => logs.filter((l) => l.message === message);

describe('process handler', () => {
  it('routes each queued event to its handler and writes one "front event processed" line with the documented fields', async () => {
    // Prepare: queued by the real ingest logic: a full rule event, a rule preview, an app envelope.
    const ingest = ingestUnderTest(bed.sqs, { now: () => NOW - 1500 });
    const emitted = (NOW - 2000) / 1000;
    const full = sampleEvent({ type: 'inbound', emittedAt: emitted });
    const preview = sampleEvent({ type: 'tag', preview: true, emittedAt: emitted });
    const app = sampleEvent({ type: 'assign', emittedAt: emitted });
    for (const request of [signed('rule', full), signed('rule', preview), signed('app', appEnvelope(app), { timestampMs: NOW - 1500 })]) {
      assert.equal((await ingest.send(request)).status, 202);
    }
    const records = await receiveRecords();
    const { handler, logs } = underTest();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(records.length, 3);
    const byId = new Map(logs.map((l) => [l.eventId, l]));
    const line = byId.get(full.id);
    assert.equal(typeof line?.durationMs, 'number');
    assert.deepEqual({ ...line, durationMs: 0 }, {
      level: 'info',
      message: 'front event processed',
      eventId: full.id,
      eventType: 'inbound',
      conversationId: full.conversation?.id,
      emittedAt: '2026-11-26T11:59:58.000Z',
      receivedAt: '2026-11-26T11:59:58.500Z',
      lagMs: 2000,
      scheme: 'rule',
      preview: false,
      arrival: 'webhook',
      attempt: 1,
      durationMs: 0,
      sourceKind: 'inboxes',
      sourceIds: [(full.source?.data as Array<{ id: string }>)[0]?.id],
      targetKind: 'message',
      targetIds: [(full.target?.data as { id: string }).id],
      handler: 'inbound',
    });
    assert.equal(byId.get(preview.id)?.preview, true);
    assert.deepEqual(byId.get(preview.id)?.targetIds, [preview.target?.id]);
    assert.equal(byId.get(preview.id)?.handler, 'default');
    assert.equal(byId.get(app.id)?.scheme, 'app');
    assert.equal(byId.get(app.id)?.appEventType, 'assignee_changed');
    assert.equal(byId.get(app.id)?.companyId, 'cmp_acme');
    assert.equal(messagesOf(logs, 'front event processed').length, 3);
    assert.deepEqual([...metricsOf(logs).processedByType].sort(), [['assign', 1], ['inbound', 1], ['tag', 1]]);
    assert.deepEqual(metricsOf(logs).lags, [2000, 2000, 2000]);
    for (const event of [full, preview, app]) assert.equal((await bed.state.store.get(event.id))?.processedAt, new Date(NOW).toISOString());
  });

  it('fails a throwing event alone: the events behind it in its conversation wait, other conversations go on', async () => {
    // Prepare: A1 (fails), A2 behind it in the same conversation, B1 in another: one batch, as Lambda gets it.
    const a = randomId('cnv');
    const b = randomId('cnv');
    const a1 = sampleEvent({ type: 'tag', conversationId: a });
    const a2 = sampleEvent({ type: 'inbound', conversationId: a });
    const b1 = sampleEvent({ type: 'tag', conversationId: b });
    const ingest = ingestUnderTest(bed.sqs);
    for (const event of [a1, a2, b1]) await ingest.send(signed('rule', event));
    const records = await receiveRecords();
    assert.equal(records.length, 3, 'one receive returns every message, several of one group');
    const registry = defineHandlers({ ...handlers, tag: (event) => { if (event.id === a1.id) throw new TypeError('downstream said no'); } });
    const { handler, logs } = underTest(registry, { settings: { retryDelaysSeconds: [7] } });
    const idOf = (eventId: string) => records.find((r) => JSON.parse(r.body).id === eventId)?.messageId;
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response.batchItemFailures.map((f) => f.itemIdentifier), [idOf(a1.id), idOf(a2.id)]);
    assert.deepEqual(messagesOf(logs, 'front event processed').map((l) => l.eventId), [b1.id]);
    const failed = messagesOf(logs, 'front event failed');
    assert.equal(failed.length, 1, 'the held-back event is not a failure of its own');
    assert.equal(typeof failed[0]?.durationMs, 'number');
    assert.deepEqual({ ...failed[0], durationMs: 0 }, {
      level: 'error', message: 'front event failed', eventId: a1.id, eventType: 'tag', conversationId: a,
      reason: 'TypeError: downstream said no', handler: 'tag', attempt: 1, maxAttempts: DEFAULT_SETTINGS.maxHandlerAttempts,
      durationMs: 0, willRetry: true, retryInSeconds: 7,
    });
    assert.equal(metricsOf(logs).failures, 1);
    assert.equal((await bed.state.store.get(a1.id))?.attempts, 1);
    assert.equal(await bed.state.store.get(a2.id), undefined, 'nothing is recorded for an event whose handler did not run');
    assert.deepEqual(await bed.sqs.receiveAll(bed.sqs.queueUrl, 0), [], 'the retried messages stay hidden until their retry is due');
  });

  it('runs a handler that failed again on the next delivery, and records it once it succeeds', async () => {
    // Prepare: a handler that fails on its first run only.
    const event = sampleEvent({ type: 'tag' });
    await ingestUnderTest(bed.sqs).send(signed('rule', event));
    let runs = 0;
    const attempts: number[] = [];
    const { handler, logs } = underTest(defineHandlers({ ...handlers, tag: (_e, context) => { runs += 1; attempts.push(context.attempt); if (runs === 1) throw new Error('flaky'); } }), { settings: { retryDelaysSeconds: [0] } });
    // Act
    const first = await handler({ Records: await receiveRecords() });
    // The retry is due at once (delay 0): the function made the message visible again.
    const second = await handler({ Records: await receiveRecords() });
    // Assess
    assert.equal(first.batchItemFailures.length, 1);
    assert.deepEqual(second, { batchItemFailures: [] });
    assert.equal(runs, 2);
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(messagesOf(logs, 'front event processed').map((l) => [l.eventId, l.attempt]), [[event.id, 2]]);
    const recorded = await bed.state.store.get(event.id);
    assert.equal(recorded?.processedAt, new Date(NOW).toISOString());
    assert.equal(recorded?.attempts, 1);
  });

  it('skips, with one line, an event whose handler already succeeded', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    await bed.state.store.markProcessed(event.id, new Date('2026-11-20T08:00:00Z'));
    await sendRaw(JSON.stringify(event), event.conversation?.id ?? 'g', { [ATTR.scheme]: 'rule', [ATTR.arrival]: 'redriven' });
    let runs = 0;
    const { handler, logs } = underTest(defineHandlers({ ...handlers, tag: () => { runs += 1; } }));
    const records = await receiveRecords();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs, 0);
    assert.deepEqual(logs, [{
      level: 'info', message: 'front event skipped', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id,
      firstProcessedAt: '2026-11-20T08:00:00.000Z', arrival: 'redriven', messageId: records[0]?.messageId,
    }]);
    assert.equal(metricsOf(logs).skips, 1);
  });

  it('treats an expired record as absent, as DynamoDB TTL would once it deletes it', async () => {
    // Prepare: processed 8 days ago, records kept 7.
    const event = sampleEvent({ type: 'tag' });
    await bed.state.storeAt(() => NOW - 8 * 86_400_000).markProcessed(event.id, new Date(NOW - 8 * 86_400_000));
    await sendRaw(JSON.stringify(event), randomId('cnv'), { [ATTR.scheme]: 'rule' });
    let runs = 0;
    const { handler } = underTest(defineHandlers({ ...handlers, tag: () => { runs += 1; } }), { store: bed.state.storeAt(() => NOW) });
    // Act
    const response = await handler({ Records: await receiveRecords() });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs, 1);
    assert.equal((await bed.state.store.get(event.id))?.processedAt, new Date(NOW).toISOString());
  });

  it('moves messages that can never be processed to the DLQ with the reason, and acknowledges them', async () => {
    // Prepare: messages sent straight to the queue.
    const group = randomId('cnv');
    await sendRaw('<html>not json</html>', group, { [ATTR.scheme]: 'rule', [ATTR.eventId]: 'evt_x', [ATTR.receivedAt]: '2026-11-26T11:00:00.000Z' });
    await sendRaw(JSON.stringify({ id: 42, kind: 'inbound' }), randomId('cnv'));
    await sendRaw(Buffer.from('\u0000binary').toString('base64'), randomId('cnv'), { [ATTR.bodyEncoding]: 'base64' });
    const records = await receiveRecords();
    const { handler, logs } = underTest();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    const letters = await bed.sqs.receiveAll(bed.sqs.dlqUrl);
    assert.equal(letters.length, 3);
    const byBody = new Map(letters.map((m) => [m.Body, m.MessageAttributes ?? {}]));
    const html = byBody.get('<html>not json</html>');
    assert.equal(html?.[ATTR.failureReason]?.StringValue, 'invalid_json');
    assert.equal(html?.[ATTR.failureDetail]?.StringValue, 'the body is not JSON (an unexpected character)', 'no content quoted');
    assert.equal(html?.[ATTR.eventId]?.StringValue, 'evt_x', 'the original attributes are kept');
    assert.equal(html?.[ATTR.receivedAt]?.StringValue, '2026-11-26T11:00:00.000Z');
    assert.equal(byBody.get(JSON.stringify({ id: 42, kind: 'inbound' }))?.[ATTR.failureReason]?.StringValue, 'invalid_shape');
    assert.deepEqual(logs.map((l) => [l.level, l.message, l.reason]).sort(), [
      ['warn', 'front event dead-lettered', 'invalid_json'],
      ['warn', 'front event dead-lettered', 'invalid_json'],
      ['warn', 'front event dead-lettered', 'invalid_shape'],
    ]);
    for (const line of logs) assert.ok(records.some((r) => r.messageId === line.messageId));
    assert.deepEqual(metricsOf(logs).deadLetters.sort(), ['invalid_json', 'invalid_json', 'invalid_shape']);
  });

  it('infers the scheme of a hand-queued message without the front-scheme attribute', async () => {
    // Prepare
    const event = sampleEvent({ type: 'reminder' });
    await sendRaw(JSON.stringify(appEnvelope(event)), randomId('cnv'));
    const { handler, logs } = underTest();
    // Act
    const response = await handler({ Records: await receiveRecords() });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(logs[0]?.message, 'front event processed');
    assert.equal(logs[0]?.scheme, 'app');
    assert.equal(logs[0]?.eventId, event.id);
    assert.equal(logs[0]?.receivedAt, undefined);
  });

  it('retries a malformed message when the DLQ cannot be reached, instead of losing it', async () => {
    // Prepare: a DLQ URL on a port nothing listens on.
    await sendRaw('nope', randomId('cnv'));
    const { handler, logs } = underTest(handlers, { dlqUrl: 'http://127.0.0.1:9/000000000000/missing-dlq.fifo', settings: { deferSeconds: 3 } });
    const records = await receiveRecords();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: records[0]?.messageId }]);
    assert.deepEqual(logs.map((l) => [l.message, l.reason, l.retryInSeconds]), [['front event deferred', 'dlq_unavailable', 3]]);
  });

  it('never runs a handler without the check: with the state table unreachable the record waits, no attempt counted', async () => {
    // Prepare: a store on a port nothing listens on.
    const event = sampleEvent({ type: 'tag' });
    await ingestUnderTest(bed.sqs).send(signed('rule', event));
    let runs = 0;
    const down = createDynamoEventStore({ client: createDynamoClient('http://127.0.0.1:9'), tableName: bed.state.tableName });
    const { handler, logs } = underTest(defineHandlers({ ...handlers, tag: () => { runs += 1; } }), { store: down, settings: { deferSeconds: 4 } });
    const records = await receiveRecords();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: records[0]?.messageId }]);
    assert.equal(runs, 0);
    assert.deepEqual(logs.map((l) => [l.level, l.message, l.eventId, l.reason, l.retryInSeconds]), [['error', 'front event deferred', event.id, 'store_unavailable', 4]]);
    assert.equal(await bed.state.store.get(event.id), undefined);
  });

  it('reports every record of a batch that fails entirely, rather than throwing', async () => {
    // Prepare
    const ingest = ingestUnderTest(bed.sqs);
    for (let i = 0; i < 3; i++) await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    const records = await receiveRecords();
    const { handler } = underTest(defineHandlers({ ...handlers, tag: async () => { throw new Error('down'); } }));
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(new Set(response.batchItemFailures.map((f) => f.itemIdentifier)), new Set(records.map((r) => r.messageId)));
  });

  it('dead-letters an event queued as a reference when the stage has no Front API token, saying so; redriven once there is one, it is processed', async () => {
    // Prepare: a 1.2 MB event, queued by the real ingest logic as a reference; the stage has no token yet.
    const big = sampleEvent({ type: 'inbound', messageBytes: 600_000 });
    assert.equal((await ingestUnderTest(bed.sqs).send(signed('rule', big))).status, 202);
    const { handler, logs } = underTest();
    // Act
    const records = await receiveRecords();
    const response = await handler({ Records: records });
    // As Lambda does with a batch that did not fail: deleted.
    await bed.sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: bed.sqs.queueUrl, Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
    // Assess: acknowledged, kept in the DLQ with the reason and what to do; no handler ran.
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(messagesOf(logs, 'front event processed'), []);
    const letters = await readDeadLetters(bed.sqs.client, bed.sqs.dlqUrl);
    assert.deepEqual(letters.map((l) => [l.eventId, l.reason, l.conversationId]), [[big.id, 'payload_too_large', big.conversation?.id]]);
    assert.match(letters[0]?.detail ?? '', /no Front API token.*redrive/);

    // Act: a token is set (the fake of Front's API holds the event), and the letter is redriven.
    const front = await startFakeFront({ token: 'later' });
    try {
      front.record(big);
      assert.equal((await redrive(bed.sqs.client, bed.sqs.dlqUrl, bed.sqs.queueUrl, letters)).redriven.length, 1);
      const seen: unknown[] = [];
      const logsAfter: LogRecord[] = [];
      const withToken = createProcessHandler({
        registry: defineHandlers({ default: (event) => { seen.push(event.body); } }), sqs: bed.sqs.client, queueUrl: bed.sqs.queueUrl, dlqUrl: bed.sqs.dlqUrl,
        store: bed.state.store, logger: recordingLogger(logsAfter), sendDeadlineMs: 1000, settings: DEFAULT_SETTINGS,
        front: {
          client: new FrontApiClient({ baseUrl: front.url, token: async () => 'later', budget: new InMemoryRateBudget(600) }),
          token: { source: 'test', get: async () => 'later' },
          hydratePreviews: false,
        },
      });
      assert.deepEqual(await withToken({ Records: await receiveRecords() }), { batchItemFailures: [] });
      // Assess
      assert.deepEqual(seen.map((b) => ({ ...(b as object), _links: undefined })), [{ ...big, _links: undefined }]);
      assert.deepEqual(messagesOf(logsAfter, 'front event processed').map((l) => [l.eventId, l.hydrated, l.arrival]), [[big.id, true, 'redriven']]);
    } finally {
      await front.close();
    }
  });

  it('names the conversation on a dead-lettered line when it is known, so the conversation query shows it', async () => {
    // Prepare: an event whose handler fails (one attempt allowed), a reference to an event too large for SQS on a
    // stage without a Front API token, and a message that is not JSON (its conversation cannot be known).
    const failing = sampleEvent({ type: 'tag' });
    const big = sampleEvent({ type: 'inbound', messageBytes: 600_000 });
    const ingest = ingestUnderTest(bed.sqs);
    assert.equal((await ingest.send(signed('rule', failing))).status, 202);
    assert.equal((await ingest.send(signed('rule', big))).status, 202);
    await sendRaw('not json', randomId('cnv'));
    const { handler, logs } = underTest(defineHandlers({ ...handlers, tag: () => { throw new Error('downstream refused'); } }), { settings: { maxHandlerAttempts: 1 } });
    // Act
    assert.deepEqual(await handler({ Records: await receiveRecords() }), { batchItemFailures: [] });
    // Assess
    const lines = messagesOf(logs, 'front event dead-lettered');
    const byReason = new Map(lines.map((l) => [l.reason, l]));
    assert.equal(lines.length, 3);
    assert.deepEqual([byReason.get('handler_failed')?.eventId, byReason.get('handler_failed')?.conversationId], [failing.id, failing.conversation?.id]);
    assert.deepEqual([byReason.get('payload_too_large')?.eventId, byReason.get('payload_too_large')?.conversationId], [big.id, big.conversation?.id]);
    assert.ok(failing.conversation?.id && big.conversation?.id);
    assert.ok(!('conversationId' in (byReason.get('invalid_json') ?? {})), 'no conversation is made up for a message that is not JSON');
  });

  it('answers an event that is not an SQS batch with an empty response instead of throwing', async () => {
    const { handler } = underTest();
    assert.deepEqual(await handler({} as never), { batchItemFailures: [] });
    assert.deepEqual(await handler({ Records: 'nope' } as never), { batchItemFailures: [] });
  });
});
