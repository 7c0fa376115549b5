/**
 * How ingest's messages meet SQS's rules (lib/queue.ts), seen in the queue and in the requests sent: FIFO ids SQS
 * refuses are hashed, a DLQ detail is capped, batches hold at most 10. (The 1 MiB limit, attributes included:
 * tests/ingest-pins.test.ts; the SQS client's retries and timeouts: tests/queue-client-pins.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sampleEvent } from '../lib/front/samples.ts';
import { ATTR, createSqsClient, eventMessage, failureAttributes, sendBatchToQueue, type QueuedMessage } from '../lib/queue.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { recordingSqsClient, startTestSqs, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('queue-pins'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('FIFO ids', () => {
  it('uses an event\'s and a conversation\'s ids as they are when SQS accepts them, their SHA-256 otherwise', async () => {
    // Prepare: 128 printable ASCII characters are accepted; 129, a space or a non-ASCII character are not
    const ingest = ingestUnderTest(sqs);
    const longest = `evt_${'a'.repeat(124)}`;
    const tooLong = `evt_${'b'.repeat(125)}`;
    const cases = [
      { id: longest, conversation: `cnv_${'c'.repeat(124)}`, dedup: longest, group: `cnv_${'c'.repeat(124)}` },
      { id: tooLong, conversation: 'cnv with space', dedup: sha256(tooLong), group: sha256('cnv with space') },
      { id: 'evt_é', conversation: 'cnv_ü', dedup: sha256('evt_é'), group: sha256('cnv_ü') },
    ];
    // Act
    for (const c of cases) {
      const event = sampleEvent({ type: 'tag', id: c.id, conversationId: c.conversation });
      assert.equal((await ingest.send(signed('rule', event))).status, 202);
    }
    // Assess
    const queued = await sqs.drain(sqs.queueUrl);
    const byEvent = new Map(queued.map((m) => [m.MessageAttributes?.[ATTR.eventId]?.StringValue, m.Attributes]));
    for (const c of cases) {
      assert.equal(byEvent.get(c.id)?.MessageDeduplicationId, c.dedup, c.id);
      assert.equal(byEvent.get(c.id)?.MessageGroupId, c.group, c.conversation);
    }
  });
});

describe('events as queued', () => {
  it('marks an event that did not come by webhook with how it came, and a webhook event not at all', () => {
    const event = { id: 'evt_1', type: 'tag', conversation: { id: 'cnv_1' } };
    const fields = { scheme: 'rule' as const, receivedAt: '2026-11-26T12:00:00.000Z' };
    assert.equal(eventMessage(Buffer.from('{}'), event, { ...fields, arrival: 'recovered' }).attributes[ATTR.arrival], 'recovered');
    assert.equal(eventMessage(Buffer.from('{}'), event, { ...fields, arrival: 'redriven' }).attributes[ATTR.arrival], 'redriven');
    assert.deepEqual(eventMessage(Buffer.from('{}'), event, { ...fields, arrival: 'webhook' }), eventMessage(Buffer.from('{}'), event, fields));
    assert.deepEqual(eventMessage(Buffer.from('{}'), event, fields), {
      body: '{}', groupId: 'cnv_1', deduplicationId: 'evt_1',
      attributes: { [ATTR.eventId]: 'evt_1', [ATTR.eventType]: 'tag', [ATTR.scheme]: 'rule', [ATTR.receivedAt]: fields.receivedAt, [ATTR.bodyEncoding]: 'utf8' },
    });
  });
});

describe('dead-letter attributes', () => {
  it('caps the failure detail an operator reads at 1024 characters', () => {
    assert.deepEqual(failureAttributes('handler_failed', 'x'.repeat(1024)), { [ATTR.failureReason]: 'handler_failed', [ATTR.failureDetail]: 'x'.repeat(1024) });
    assert.equal(failureAttributes('handler_failed', 'y'.repeat(5000))[ATTR.failureDetail], 'y'.repeat(1024));
  });
});

describe('batches', () => {
  it('sends messages in order, at most 10 per call', async () => {
    // Prepare
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    const group = `cnv_${Date.now()}`;
    const messages: QueuedMessage[] = Array.from({ length: 23 }, (_, i) => ({
      body: JSON.stringify({ n: i }), groupId: group, deduplicationId: `${group}-${i}`, attributes: { [ATTR.eventId]: `evt_${i}` },
    }));
    // Act
    await sendBatchToQueue(client, sqs.queueUrl, messages, 2000);
    // Assess
    const batches = requests.filter((r) => r.command === 'SendMessageBatchCommand').map((r) => r.input.Entries as unknown[]);
    assert.deepEqual(batches.map((b) => b.length), [10, 10, 3]);
    const queued = await sqs.drain(sqs.queueUrl);
    assert.deepEqual(queued.map((m) => JSON.parse(m.Body ?? '{}').n), messages.map((_, i) => i));
    assert.ok(queued.every((m) => m.MessageAttributes?.[ATTR.eventId]?.DataType === 'String'));
  });

  it('sends exactly 20 messages in two calls, never an empty one (SQS refuses it)', async () => {
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    const group = `cnv_${Date.now()}_20`;
    const messages: QueuedMessage[] = Array.from({ length: 20 }, (_, i) => ({ body: `{"n":${i}}`, groupId: group, deduplicationId: `${group}-${i}`, attributes: {} }));
    await sendBatchToQueue(client, sqs.queueUrl, messages, 2000);
    assert.deepEqual(requests.filter((r) => r.command === 'SendMessageBatchCommand').map((r) => (r.input.Entries as unknown[]).length), [10, 10]);
  });

  it('throws QueueUnavailableError naming how many were not sent when SQS cannot be reached', async () => {
    const client = createSqsClient(500, 'http://127.0.0.1:9');
    await assert.rejects(sendBatchToQueue(client, `${sqs.endpoint}/000000000000/q.fifo`, [{ body: 'x', groupId: 'g', deduplicationId: 'd', attributes: {} }], 500), {
      name: 'QueueUnavailableError',
      message: /^could not send 1 message\(s\) to http:\/\/.*\/q\.fifo: \w+: \S/,
    });
  });
});
