/**
 * End to end over HTTP through the local stack (local/stack.ts): the built ingest function behind a real
 * http server, fauxqs with the project's queues, and the pollers feeding the process logic as Lambda's SQS
 * event source does. The process function's log lines are recorded through an injected logger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import { appEnvelope, randomId, sampleEvent, syncEnvelope } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import { defineHandlers } from '../lib/handlers/types.ts';
import { ATTR } from '../lib/queue.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { startTestStack, waitFor, type TestStack } from './helpers/local.ts';

async function deadLetters(t: TestStack): Promise<Array<{ body: string; attributes: Record<string, string | undefined>; receiveCount: string | undefined }>> {
  // Received with a long visibility timeout: each call sees only what arrived since the previous one.
  const out = [];
  for (;;) {
    const { Messages = [] } = await t.sqs.send(new ReceiveMessageCommand({
      QueueUrl: t.stack.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600,
      MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
    }));
    if (Messages.length === 0) return out;
    for (const m of Messages) {
      const attributes: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) attributes[name] = value.StringValue;
      out.push({ body: m.Body ?? '', attributes, receiveCount: m.Attributes?.ApproximateReceiveCount });
    }
  }
}

describe('local stack, end to end over HTTP', () => {
  let t: TestStack;
  before(async () => { t = await startTestStack(); });
  after(async () => { await t.stop(); });

  it('processes every event type in Front\'s list exactly once, from both schemes, full and preview', async () => {
    // Prepare: each type as a full rule event, a rule preview and an app envelope, in turn.
    const sent = FRONT_EVENT_TYPES.map((type, i) => {
      const variant = (['rule-full', 'rule-preview', 'app'] as const)[i % 3] ?? 'rule-full';
      const event = sampleEvent({ type, preview: variant === 'rule-preview' });
      return { event, variant };
    });
    const recordsBefore = t.stack.stats.records;
    // Act
    const responses = await Promise.all(sent.map(({ event, variant }) =>
      variant === 'app' ? t.post(appEnvelope(event), 'app') : t.post(event, 'rule')));
    // Assess
    for (const [i, response] of responses.entries()) assert.deepEqual(response, { status: 202, json: { status: 'queued', eventId: sent[i]?.event.id } });
    await t.waitProcessed(sent.map((s) => s.event.id));
    for (const { event, variant } of sent) {
      const lines = t.processed().filter((l) => l.eventId === event.id);
      assert.equal(lines.length, 1, `${event.type} processed once`);
      const line = lines[0];
      assert.equal(line?.level, 'info');
      assert.equal(line?.eventType, event.type);
      assert.equal(line?.conversationId, event.conversation?.id);
      assert.equal(line?.scheme, variant === 'app' ? 'app' : 'rule');
      assert.equal(line?.preview, variant === 'rule-preview');
      assert.equal(line?.sourceKind, event.source?._meta.type);
      assert.equal(line?.targetKind, event.target?._meta.type);
      assert.equal(line?.handler, event.type === 'inbound' ? 'inbound' : 'default');
      assert.equal(line?.emittedAt, new Date((event.emitted_at ?? 0) * 1000).toISOString());
      assert.equal(typeof line?.receivedAt, 'string');
      assert.equal(typeof line?.lagMs, 'number');
    }
    // Delivered to the process function once each: no redelivery, no failure.
    assert.equal(t.stack.stats.records - recordsBefore, sent.length);
    for (const type of FRONT_EVENT_TYPES) assert.ok((t.metrics.processedByType.get(type) ?? 0) >= 1, `metric for ${type}`);
  });

  it('answers the challenge and queues nothing', async () => {
    // Prepare
    const recordsBefore = t.stack.stats.records;
    // Act
    const response = await t.post(syncEnvelope(), 'app', { 'x-front-challenge': 'c-42' });
    const sentinel = sampleEvent({ type: 'tag' });
    await t.post(sentinel);
    await t.waitProcessed([sentinel.id]);
    // Assess
    assert.deepEqual(response, { status: 200, json: { challenge: 'c-42' } });
    assert.equal(t.stack.stats.records - recordsBefore, 1, 'only the sentinel reached the process function');
  });

  it('collapses duplicate deliveries of one event', async () => {
    // Prepare
    const conversationId = randomId('cnv');
    const event = sampleEvent({ type: 'assign', conversationId });
    const sentinel = sampleEvent({ type: 'unassign', conversationId });
    // Act
    const responses = await Promise.all([t.post(event), t.post(event), t.post(event, 'rule')]);
    await t.post(appEnvelope(event), 'app');
    await t.post(sentinel);
    // Same conversation, FIFO: once the sentinel is processed, any duplicate would have been too.
    await t.waitProcessed([sentinel.id]);
    // Assess
    for (const r of responses) assert.equal(r.status, 202);
    assert.equal(t.processed().filter((l) => l.eventId === event.id).length, 1);
  });

  it('processes 500 events across 20 conversations sent in parallel: all acknowledged, each once, in order per conversation', async () => {
    // Prepare: 20 conversations of 25 events; each conversation's events are sent in order, all conversations at once.
    const conversations = Array.from({ length: 20 }, () => randomId('cnv'));
    const plan = new Map(conversations.map((c) => [c, Array.from({ length: 25 }, (_, i) =>
      sampleEvent({ type: FRONT_EVENT_TYPES[i % FRONT_EVENT_TYPES.length], conversationId: c, preview: i % 2 === 0 }))]));
    const recordsBefore = t.stack.stats.records;
    // Act
    const statuses = await Promise.all([...plan.values()].map(async (events) => {
      const out = [];
      for (const event of events) out.push((await t.post(event)).status);
      return out;
    }));
    const ids = [...plan.values()].flat().map((e) => e.id);
    await t.waitProcessed(ids, 60_000);
    // Assess
    assert.deepEqual(statuses.flat(), ids.map(() => 202));
    const lines = t.processed().filter((l) => ids.includes(String(l.eventId)));
    assert.equal(lines.length, 500, 'each event processed exactly once');
    assert.equal(new Set(lines.map((l) => l.eventId)).size, 500);
    for (const [conversationId, events] of plan) {
      const order = lines.filter((l) => l.conversationId === conversationId).map((l) => l.eventId);
      assert.deepEqual(order, events.map((e) => e.id), `order in ${conversationId}`);
    }
    assert.equal(t.stack.stats.records - recordsBefore, 500, 'no message was delivered twice');
  });

  it('dead-letters malformed queue messages without blocking their group or crashing', async () => {
    // Prepare: messages put straight on the queue, not through ingest.
    const group = randomId('cnv');
    const malformed = [
      { body: '{"not json', attributes: {}, reason: 'invalid_json' },
      { body: JSON.stringify({ hello: 'world' }), attributes: { [ATTR.scheme]: 'rule' }, reason: 'invalid_shape' },
      { body: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), attributes: { [ATTR.bodyEncoding]: 'base64' }, reason: 'invalid_json' },
      { body: JSON.stringify(syncEnvelope()), attributes: { [ATTR.scheme]: 'app' }, reason: 'not_an_event' },
    ];
    const after = sampleEvent({ type: 'inbound', conversationId: group });
    // Act
    for (const [i, m] of malformed.entries()) {
      await t.sqs.send(new SendMessageCommand({
        QueueUrl: t.stack.queueUrl, MessageBody: m.body, MessageGroupId: group, MessageDeduplicationId: `${group}-${i}`,
        MessageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
      }));
    }
    const response = await t.post(after);
    await t.waitProcessed([after.id]);
    // Assess
    assert.equal(response.status, 202);
    const logged = t.logs.filter((l) => l.message === 'front event dead-lettered');
    assert.deepEqual(logged.slice(-4).map((l) => l.reason), malformed.map((m) => m.reason));
    const letters = await deadLetters(t);
    for (const m of malformed) {
      const letter = letters.find((l) => l.body === m.body);
      assert.ok(letter, `${m.reason} kept in the DLQ`);
      assert.equal(letter.attributes[ATTR.failureReason], m.reason);
      assert.ok(letter.attributes[ATTR.failureDetail]);
    }
  });
});

describe('local stack, a handler that keeps failing', () => {
  let t: TestStack;
  let poisonId = '';
  before(async () => {
    // Prepare: a `tag` handler that fails for one event; retried every second instead of after 15 s, 1 min, ...
    t = await startTestStack({
      settings: { retryDelaysSeconds: [1] },
      registry: defineHandlers({
        ...handlers,
        tag: (event) => {
          if (event.id === poisonId) throw new Error('the ticketing system refused the update');
        },
      }),
    });
  });
  after(async () => { await t.stop(); });

  it('retries the event, then dead-letters it alone; its conversation goes on in order, other conversations are unaffected', async () => {
    // Prepare
    const stuck = randomId('cnv');
    const before = sampleEvent({ type: 'inbound', conversationId: stuck });
    const poison = sampleEvent({ type: 'tag', conversationId: stuck });
    const behind = [sampleEvent({ type: 'inbound', conversationId: stuck }), sampleEvent({ type: 'assign', conversationId: stuck })];
    poisonId = poison.id;
    const others = Array.from({ length: 4 }, () => randomId('cnv')).flatMap((c) =>
      [sampleEvent({ type: 'tag', conversationId: c }), sampleEvent({ type: 'inbound', conversationId: c })]);
    // Act
    for (const event of [before, poison, ...behind, ...others]) assert.equal((await t.post(event)).status, 202);
    await t.waitProcessed([before.id, ...behind.map((e) => e.id), ...others.map((e) => e.id)]);
    const letter = await waitFor('the poison event in the DLQ', async () =>
      (await deadLetters(t)).find((l) => l.attributes[ATTR.eventId] === poison.id), 10_000);
    // Assess
    const failures = t.logs.filter((l) => l.message === 'front event failed' && l.eventId === poison.id);
    const max = queues.processing.maxHandlerAttempts;
    assert.deepEqual(failures.map((l) => l.attempt), Array.from({ length: max }, (_, i) => i + 1));
    assert.deepEqual(failures.map((l) => l.willRetry), Array.from({ length: max }, (_, i) => i < max - 1));
    for (const line of failures) {
      assert.equal(line.level, 'error');
      assert.equal(line.eventType, 'tag');
      assert.equal(line.conversationId, stuck);
      assert.match(String(line.reason), /ticketing system refused/);
    }
    assert.equal(t.processed().filter((l) => l.eventId === poison.id).length, 0);
    // The events behind it ran after it was dead-lettered, in order; no event but the poison one failed.
    const order = t.processed().filter((l) => l.conversationId === stuck).map((l) => l.eventId);
    assert.deepEqual(order, [before.id, ...behind.map((e) => e.id)]);
    const deadLettered = t.logs.findIndex((l) => l.message === 'front event dead-lettered' && l.eventId === poison.id);
    for (const event of behind) assert.ok(t.logs.findIndex((l) => l.message === 'front event processed' && l.eventId === event.id) > deadLettered);
    assert.deepEqual(new Set(t.logs.filter((l) => l.message === 'front event failed').map((l) => l.eventId)), new Set([poison.id]));
    // The other conversations went on while the poison event was failing.
    const lastFailure = t.logs.indexOf(failures.at(-1)!);
    for (const event of others) {
      const index = t.logs.findIndex((l) => l.message === 'front event processed' && l.eventId === event.id);
      assert.ok(index >= 0 && index < lastFailure, `${event.id} processed before the poison event gave up`);
    }
    // Dead-lettered by the function: the body as received, the reason, the attempts.
    assert.equal(letter.body, JSON.stringify(poison));
    assert.equal(letter.attributes[ATTR.failureReason], 'handler_failed');
    assert.match(letter.attributes[ATTR.failureDetail] ?? '', /ticketing system refused/);
    assert.equal(letter.attributes[ATTR.attempts], String(max));
    assert.equal(t.metrics.failures, max);
    assert.deepEqual(t.metrics.deadLetters, ['handler_failed']);
  });
});
