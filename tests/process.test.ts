/**
 * The process handler (lib/process/handler.ts) on real SQS records: events queued by the real ingest logic
 * (or sent straight to the queue), received from fauxqs, turned into the records Lambda would pass.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { appEnvelope, randomId, sampleEvent } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import { defineHandlers, type HandlerRegistry } from '../lib/handlers/types.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { ATTR } from '../lib/queue.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { recordingLogger, recordingMetrics, type LogRecord } from './helpers/local.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
let queueArn = '';
before(async () => {
  sqs = await startTestSqs('process');
  const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['QueueArn'] }));
  queueArn = Attributes?.QueueArn ?? '';
});
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

const NOW = Date.parse('2026-11-26T12:00:00Z');

function underTest(registry: HandlerRegistry = handlers, dlqUrl = sqs.dlqUrl) {
  const logs: LogRecord[] = [];
  const metrics = recordingMetrics();
  const handler = createProcessHandler({ registry, sqs: sqs.client, dlqUrl, logger: recordingLogger(logs), metrics, now: () => NOW, sendDeadlineMs: 1000 });
  return { handler, logs, metrics };
}

async function receiveRecords(visibilityTimeout = 60): Promise<SQSRecord[]> {
  const messages: Message[] = await sqs.receiveAll(sqs.queueUrl, visibilityTimeout);
  return messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
}

async function sendRaw(body: string, groupId: string, attributes: Record<string, string> = {}): Promise<void> {
  await sqs.client.send(new SendMessageCommand({
    QueueUrl: sqs.queueUrl, MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: randomId('dedup'),
    MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
  }));
}

describe('process handler', () => {
  it('routes each queued event to its handler and writes one "front event processed" line with the documented fields', async () => {
    // Prepare: queued by the real ingest logic: a full rule event, a rule preview, an app envelope.
    const ingest = ingestUnderTest(sqs, { now: () => NOW - 1500 });
    const emitted = (NOW - 2000) / 1000;
    const full = sampleEvent({ type: 'inbound', emittedAt: emitted });
    const preview = sampleEvent({ type: 'tag', preview: true, emittedAt: emitted });
    const app = sampleEvent({ type: 'assign', emittedAt: emitted });
    for (const request of [signed('rule', full), signed('rule', preview), signed('app', appEnvelope(app), { timestampMs: NOW - 1500 })]) {
      assert.equal((await ingest.send(request)).status, 202);
    }
    const records = await receiveRecords();
    const { handler, logs, metrics } = underTest();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(records.length, 3);
    const byId = new Map(logs.map((l) => [l.eventId, l]));
    assert.deepEqual(byId.get(full.id), {
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
    assert.equal(logs.filter((l) => l.message === 'front event processed').length, 3);
    assert.deepEqual([...metrics.processedByType].sort(), [['assign', 1], ['inbound', 1], ['tag', 1]]);
    assert.deepEqual(metrics.lags, [2000, 2000, 2000]);
    assert.equal(metrics.flushes, 1);
  });

  it('fails a throwing event alone: its group is held back, other groups go on', async () => {
    // Prepare: A1 (fails), A2 behind it in the same conversation, B1 in another.
    const a = randomId('cnv');
    const b = randomId('cnv');
    const a1 = sampleEvent({ type: 'tag', conversationId: a });
    const a2 = sampleEvent({ type: 'inbound', conversationId: a });
    const b1 = sampleEvent({ type: 'tag', conversationId: b });
    const ingest = ingestUnderTest(sqs);
    for (const event of [a1, a2, b1]) await ingest.send(signed('rule', event));
    // fauxqs hands out one message per group at a time; Lambda may get several of a group in one batch.
    const first = await receiveRecords();
    for (const r of first) await sqs.client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: r.receiptHandle }));
    const second = await receiveRecords();
    const records = [...first, ...second].sort((x, y) => Number(x.attributes.SequenceNumber) - Number(y.attributes.SequenceNumber));
    const registry = defineHandlers({ ...handlers, tag: (event) => { if (event.id === a1.id) throw new TypeError('downstream said no'); } });
    const { handler, logs, metrics } = underTest(registry);
    const idOf = (eventId: string) => records.find((r) => JSON.parse(r.body).id === eventId)?.messageId;
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(new Set(response.batchItemFailures.map((f) => f.itemIdentifier)), new Set([idOf(a1.id), idOf(a2.id)]));
    assert.deepEqual(logs.filter((l) => l.message === 'front event processed').map((l) => l.eventId), [b1.id]);
    const failed = logs.filter((l) => l.message === 'front event failed');
    assert.equal(failed.length, 1, 'the held-back event is not a failure of its own');
    assert.deepEqual(failed[0], {
      level: 'error', message: 'front event failed', eventId: a1.id, eventType: 'tag', conversationId: a,
      reason: 'TypeError: downstream said no', handler: 'tag', receiveCount: 1, willRetry: true,
    });
    assert.equal(metrics.failures, 1);
  });

  it('says willRetry false on the last delivery before the redrive policy moves the message', async () => {
    // Prepare: a message delivered maxReceiveCount times.
    const event = sampleEvent({ type: 'tag' });
    await ingestUnderTest(sqs).send(signed('rule', event));
    let records: SQSRecord[] = [];
    for (let i = 0; i < queues.events.maxReceiveCount; i++) {
      const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrl, VisibilityTimeout: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
      }));
      records = Messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
    }
    assert.equal(records[0]?.attributes.ApproximateReceiveCount, String(queues.events.maxReceiveCount));
    const { handler, logs } = underTest(defineHandlers({ ...handlers, tag: () => { throw new Error('still down'); } }));
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.equal(response.batchItemFailures.length, 1);
    const failed = logs.find((l) => l.message === 'front event failed');
    assert.equal(failed?.receiveCount, queues.events.maxReceiveCount);
    assert.equal(failed?.willRetry, false);
  });

  it('moves messages that can never be processed to the DLQ with the reason, and acknowledges them', async () => {
    // Prepare: messages sent straight to the queue.
    const group = randomId('cnv');
    await sendRaw('<html>not json</html>', group, { [ATTR.scheme]: 'rule', [ATTR.eventId]: 'evt_x', [ATTR.receivedAt]: '2026-11-26T11:00:00.000Z' });
    await sendRaw(JSON.stringify({ id: 42, kind: 'inbound' }), randomId('cnv'));
    await sendRaw(Buffer.from('\u0000binary').toString('base64'), randomId('cnv'), { [ATTR.bodyEncoding]: 'base64' });
    const records = await receiveRecords();
    const { handler, logs, metrics } = underTest();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    const letters = await sqs.receiveAll(sqs.dlqUrl);
    assert.equal(letters.length, 3);
    const byBody = new Map(letters.map((m) => [m.Body, m.MessageAttributes ?? {}]));
    const html = byBody.get('<html>not json</html>');
    assert.equal(html?.[ATTR.failureReason]?.StringValue, 'invalid_json');
    assert.match(html?.[ATTR.failureDetail]?.StringValue ?? '', /not JSON/);
    assert.equal(html?.[ATTR.eventId]?.StringValue, 'evt_x', 'the original attributes are kept');
    assert.equal(html?.[ATTR.receivedAt]?.StringValue, '2026-11-26T11:00:00.000Z');
    assert.equal(byBody.get(JSON.stringify({ id: 42, kind: 'inbound' }))?.[ATTR.failureReason]?.StringValue, 'invalid_shape');
    assert.deepEqual(logs.map((l) => [l.level, l.message, l.reason]).sort(), [
      ['warn', 'front event dead-lettered', 'binary_body'],
      ['warn', 'front event dead-lettered', 'invalid_json'],
      ['warn', 'front event dead-lettered', 'invalid_shape'],
    ]);
    for (const line of logs) assert.ok(records.some((r) => r.messageId === line.messageId));
    assert.deepEqual(metrics.deadLetters.sort(), ['binary_body', 'invalid_json', 'invalid_shape']);
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
    const { handler, logs } = underTest(handlers, 'http://127.0.0.1:9/000000000000/missing-dlq.fifo');
    const records = await receiveRecords();
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: records[0]?.messageId }]);
    assert.equal(logs.length, 0);
  });

  it('reports every record of a batch that fails entirely, rather than throwing', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    for (let i = 0; i < 3; i++) await ingest.send(signed('rule', sampleEvent({ type: 'tag' })));
    const records = await receiveRecords();
    const { handler } = underTest(defineHandlers({ ...handlers, tag: async () => { throw new Error('down'); } }));
    // Act
    const response = await handler({ Records: records });
    // Assess
    assert.deepEqual(new Set(response.batchItemFailures.map((f) => f.itemIdentifier)), new Set(records.map((r) => r.messageId)));
  });
});
