/**
 * The dead-letter tooling (lib/dlq.ts) as an operator uses it, on fauxqs, with the requests it sends checked against
 * what SQS requires: attributes asked for by name (SQS returns none unasked), at most 10 entries per batch call, a
 * valid group id on every FIFO send.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { countMessages, isReplayable, readDeadLetters, redrive, redriveAll, release, select, type DeadLetter } from '../lib/dlq.ts';
import { appEnvelope, sampleEvent } from '../lib/front/samples.ts';
import { ATTR, toAttributes } from '../lib/queue.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { recordingSqsClient, startTestSqs, type SentRequest, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('dlq-pins'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

/** What SQS accepts as a MessageGroupId or MessageDeduplicationId. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

/** A letter as the process function writes one: its own group, the original attributes plus why. */
async function letter(body: string, attributes: Record<string, string>): Promise<void> {
  const id = randomUUID();
  await sqs.client.send(new SendMessageCommand({
    QueueUrl: sqs.dlqUrl, MessageBody: body, MessageGroupId: `handler_failed-${id}`, MessageDeduplicationId: id,
    MessageAttributes: toAttributes(attributes),
  }));
}

function eventLetter(event: ReturnType<typeof sampleEvent>, extra: Record<string, string> = {}): Promise<void> {
  return letter(JSON.stringify(event), {
    [ATTR.eventId]: event.id, [ATTR.eventType]: event.type, [ATTR.scheme]: 'rule', [ATTR.bodyEncoding]: 'utf8',
    [ATTR.failureReason]: 'handler_failed', [ATTR.failureDetail]: 'Error: down', ...extra,
  });
}

const sent = (requests: SentRequest[], command: string) => requests.filter((r) => r.command === command);

describe('reading the DLQ', () => {
  it('asks SQS by name for every message attribute and system attribute (SQS returns none unasked)', async () => {
    // Prepare
    await eventLetter(sampleEvent({ type: 'tag' }));
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    // Act
    const letters = await readDeadLetters(client, sqs.dlqUrl, 45);
    // Assess
    assert.equal(letters.length, 1);
    const receives = sent(requests, 'ReceiveMessageCommand');
    assert.ok(receives.length >= 1);
    for (const { input } of receives) {
      assert.deepEqual(input.MessageAttributeNames, ['All']);
      assert.deepEqual(input.MessageSystemAttributeNames, ['All']);
      assert.equal(input.VisibilityTimeout, 45);
      assert.equal(input.MaxNumberOfMessages, 10);
      assert.equal(input.WaitTimeSeconds, 0);
    }
  });

  it('describes a letter as the operator reads it: ids, conversation, reason, attempts, sequence, size', async () => {
    // Prepare: a rule event, an app envelope and a reference, dead-lettered by the process function
    const rule = sampleEvent({ type: 'tag' });
    const app = sampleEvent({ type: 'assign' });
    await eventLetter(rule, { [ATTR.attempts]: '5', [ATTR.sequence]: '18885', [ATTR.receivedAt]: '2026-11-26T11:00:00.000Z' });
    await letter(JSON.stringify(appEnvelope(app)), { [ATTR.eventId]: app.id, [ATTR.scheme]: 'app', [ATTR.attempts]: '0', [ATTR.failureReason]: 'handler_failed' });
    await letter(JSON.stringify({ eventId: 'evt_ref', eventType: 'tag', conversationId: 'cnv_ref', bytes: 2_000_000, sha256: 'x' }), { [ATTR.eventId]: 'evt_ref', [ATTR.attempts]: 'x' });
    // Act
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Assess
    const [ofRule, ofApp, ofReference] = letters;
    assert.deepEqual({ ...ofRule, attributes: undefined, messageId: undefined, receiptHandle: undefined }, {
      messageId: undefined, receiptHandle: undefined, attributes: undefined,
      eventId: rule.id, eventType: 'tag', conversationId: rule.conversation?.id, scheme: 'rule', receivedAt: '2026-11-26T11:00:00.000Z',
      reason: 'handler_failed', detail: 'Error: down', receiveCount: 1, attempts: 5, sequence: '18885',
      bytes: Buffer.byteLength(JSON.stringify(rule)), body: JSON.stringify(rule),
    });
    assert.equal(ofApp?.conversationId, app.conversation?.id);
    assert.equal(ofApp?.attempts, undefined, 'zero attempts is not a count');
    assert.equal(ofApp?.eventType, undefined);
    assert.equal(ofReference?.conversationId, 'cnv_ref');
    assert.equal(ofReference?.attempts, undefined);
    assert.equal(ofReference?.reason, 'max_receives_exceeded', 'no failure-reason: SQS moved it');
  });

  it('names no conversation for a body whose conversation id is not a string, or that is not JSON', async () => {
    // Prepare
    await letter(JSON.stringify({ id: 'evt_x', conversation: { id: 7 } }), { [ATTR.failureReason]: 'invalid_shape' });
    await letter(JSON.stringify({ type: 'tag_added', payload: { id: 'evt_y' } }), { [ATTR.failureReason]: 'invalid_shape' });
    await letter('{"conversation": {"id": "cnv_1"}', { [ATTR.failureReason]: 'invalid_json' });
    // Act
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Assess
    assert.deepEqual(letters.map((l) => l.conversationId), [undefined, undefined, undefined]);
  });

  it('takes a letter\'s order from SQS\'s sequence number when SQS moved it in its conversation\'s group', async () => {
    // Prepare: SQS's redrive keeps the conversation's group; a letter of another group has no order to give
    const event = sampleEvent({ type: 'tag' });
    const stray = sampleEvent({ type: 'tag' });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: JSON.stringify(event), MessageGroupId: event.conversation!.id, MessageDeduplicationId: event.id }));
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: JSON.stringify(stray), MessageGroupId: 'elsewhere', MessageDeduplicationId: stray.id }));
    // Act
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Assess
    const received = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MessageSystemAttributeNames: ['All'] }));
    assert.equal(received.Messages?.length ?? 0, 0, 'still hidden by the read');
    const byConversation = new Map(letters.map((l) => [l.conversationId, l]));
    assert.match(byConversation.get(event.conversation!.id)?.sequence ?? '', /^\d+$/);
    assert.equal(byConversation.get(stray.conversation!.id)?.sequence, undefined);
  });

  it('stops at the limit it is given, a page at a time', async () => {
    // Prepare
    for (let i = 0; i < 25; i++) await eventLetter(sampleEvent({ type: 'tag' }));
    // Act
    const first = await readDeadLetters(sqs.client, sqs.dlqUrl, 60, 10);
    // Assess
    assert.equal(first.length, 10);
    await release(sqs.client, sqs.dlqUrl, first);
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 25);
  });

  it('releases what it read in batches of at most 10, as SQS requires, leaving every letter visible again', async () => {
    // Prepare
    for (let i = 0; i < 23; i++) await eventLetter(sampleEvent({ type: 'tag' }));
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    // Act
    await release(client, sqs.dlqUrl, letters);
    // Assess
    const batches = sent(requests, 'ChangeMessageVisibilityBatchCommand').map((r) => r.input.Entries as Array<{ Id: string; VisibilityTimeout: number; ReceiptHandle: string }>);
    assert.deepEqual(batches.map((b) => b.length), [10, 10, 3]);
    assert.ok(batches.flat().every((e) => e.VisibilityTimeout === 0));
    assert.deepEqual(batches.flat().map((e) => e.ReceiptHandle), letters.map((l) => l.receiptHandle));
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 23);
  });

  it('counts the messages a queue holds, the hidden ones included', async () => {
    // Prepare
    for (let i = 0; i < 3; i++) await eventLetter(sampleEvent({ type: 'tag' }));
    await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: 2, VisibilityTimeout: 60 }));
    // Act + Assess
    assert.equal(await countMessages(sqs.client, sqs.dlqUrl), 3);
    assert.equal(await countMessages(sqs.client, sqs.queueUrl), 0);
  });
});

describe('choosing letters', () => {
  it('selects by message id or event id, and by reason and event type, each filter alone or together', async () => {
    // Prepare
    const tag = sampleEvent({ type: 'tag' });
    const assign = sampleEvent({ type: 'assign' });
    await eventLetter(tag);
    await eventLetter(assign);
    await letter('not json', { [ATTR.failureReason]: 'invalid_json', [ATTR.scheme]: 'rule' });
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    const ids = (chosen: DeadLetter[]) => chosen.map((l) => l.eventId ?? l.reason);
    // Act + Assess
    assert.deepEqual(ids(select(letters, [])), [tag.id, assign.id, 'invalid_json']);
    assert.deepEqual(ids(select(letters, [assign.id])), [assign.id]);
    assert.deepEqual(ids(select(letters, [letters[2]!.messageId])), ['invalid_json']);
    assert.deepEqual(ids(select(letters, ['evt_nowhere'])), []);
    assert.deepEqual(ids(select(letters, [], { reason: 'invalid_json' })), ['invalid_json']);
    assert.deepEqual(ids(select(letters, [], { reason: 'handler_failed' })), [tag.id, assign.id]);
    assert.deepEqual(ids(select(letters, [], { type: 'assign' })), [assign.id]);
    assert.deepEqual(ids(select(letters, [], { reason: 'handler_failed', type: 'tag' })), [tag.id]);
    assert.deepEqual(ids(select(letters, [], { reason: 'invalid_json', type: 'tag' })), []);
    assert.deepEqual(ids(select(letters, [tag.id], { type: 'assign' })), []);
  });
});

describe('redriving', () => {
  it('sends a letter without an event id back in a group of its own, with a FIFO id SQS accepts', async () => {
    // Prepare: a body ingest kept as not JSON: no event id, no conversation
    assert.equal((await ingestUnderTest(sqs).send(signed('rule', `not json ${randomUUID()}`))).status, 202);
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    const { client, requests } = recordingSqsClient(sqs.endpoint);
    // Act
    const result = await redrive(client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.equal(result.redriven.length, 1);
    const [send] = sent(requests, 'SendMessageCommand');
    assert.equal(send?.input.MessageGroupId, letters[0]?.messageId);
    assert.match(String(send?.input.MessageGroupId), FIFO_ID);
    assert.match(String(send?.input.MessageDeduplicationId), FIFO_ID);
    const [queued] = await sqs.receiveAll(sqs.queueUrl);
    assert.equal(queued?.Attributes?.MessageGroupId, letters[0]?.messageId);
    assert.equal(queued?.MessageAttributes?.[ATTR.arrival]?.StringValue, 'redriven');
  });

  it('sends an event back in its conversation\'s group, with the event\'s attributes and none of why it failed', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    await eventLetter(event, { [ATTR.attempts]: '5', [ATTR.sequence]: '100' });
    const noConversation = sampleEvent({ type: 'tag' });
    delete noConversation.conversation;
    await eventLetter(noConversation);
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    const queued = await sqs.drain(sqs.queueUrl);
    const byEvent = new Map(queued.map((m) => [m.MessageAttributes?.[ATTR.eventId]?.StringValue, m]));
    const back = byEvent.get(event.id);
    assert.equal(back?.Attributes?.MessageGroupId, event.conversation?.id);
    assert.equal(byEvent.get(noConversation.id)?.Attributes?.MessageGroupId, noConversation.id);
    assert.deepEqual(Object.keys(back?.MessageAttributes ?? {}).sort(), [ATTR.bodyEncoding, ATTR.eventId, ATTR.eventType, ATTR.arrival, ATTR.scheme].sort());
    assert.equal(back?.MessageAttributes?.[ATTR.arrival]?.StringValue, 'redriven');
    assert.equal(back?.MessageAttributes?.[ATTR.bodyEncoding]?.StringValue, 'utf8');
    assert.equal(back?.Body, JSON.stringify(event));
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 0);
  });

  it('sends a conversation\'s letters back in the order of their sequence numbers, compared as numbers', async () => {
    // Prepare: dead-lettered by the process function in this order; the sequences say 99, 100, 101
    const conversationId = `cnv_${randomUUID().slice(0, 8)}`;
    const events = [1, 2, 3].map(() => sampleEvent({ type: 'assign', conversationId }));
    const other = sampleEvent({ type: 'assign' });
    await eventLetter(events[2]!, { [ATTR.sequence]: '101' });
    await eventLetter(other, { [ATTR.sequence]: '5' });
    await eventLetter(events[0]!, { [ATTR.sequence]: '99' });
    await eventLetter(events[1]!, { [ATTR.sequence]: '100' });
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess: conversations in the order first seen, each in its order
    assert.deepEqual(result.redriven.map((l) => l.eventId), [events[0]!.id, events[1]!.id, events[2]!.id, other.id]);
    const queued = await sqs.drain(sqs.queueUrl);
    assert.deepEqual(queued.filter((m) => m.Attributes?.MessageGroupId === conversationId).map((m) => m.MessageAttributes?.[ATTR.eventId]?.StringValue), events.map((e) => e.id));
  });

  it('orders sequence numbers of one length by their digits', async () => {
    // Prepare: dead-lettered out of order; one conversation
    const conversationId = `cnv_${randomUUID().slice(0, 8)}`;
    const events = [1, 2, 3, 4, 5].map(() => sampleEvent({ type: 'assign', conversationId }));
    for (const i of [3, 0, 4, 2, 1]) await eventLetter(events[i]!, { [ATTR.sequence]: `1000${i + 1}` });
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), events.map((e) => e.id));
  });

  it('keeps the read order of letters without a sequence number', async () => {
    // Prepare
    const conversationId = `cnv_${randomUUID().slice(0, 8)}`;
    const events = [1, 2, 3, 4, 5, 6].map(() => sampleEvent({ type: 'assign', conversationId }));
    await eventLetter(events[0]!);
    await eventLetter(events[1]!, { [ATTR.sequence]: '7' });
    for (const event of events.slice(2)) await eventLetter(event);
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), events.map((e) => e.id));
  });

  it('sends an old ingest summary back as a reference with what it names, and skips one that names no event', async () => {
    // Prepare
    const summary = (fields: Record<string, unknown>) => letter(JSON.stringify({ reason: 'payload_too_large', ...fields }), {
      ...(typeof fields.eventId === 'string' && { [ATTR.eventId]: fields.eventId }), [ATTR.scheme]: 'rule', [ATTR.bodyEncoding]: 'utf8',
      [ATTR.failureReason]: 'payload_too_large', [ATTR.failureDetail]: 'too large',
    });
    await summary({ eventId: 'evt_s1', eventType: 'tag', conversationId: 'cnv_s1', bytes: 2_000_000, sha256: 'abc' });
    await summary({ eventId: 'evt_s2', eventType: 'tag', conversationId: 7, bytes: 'many' });
    await summary({ eventId: 'evt_s3', bytes: 10 });
    await summary({ eventId: 7, eventType: 'tag' });
    await letter('{"reason":"payload_too_large", truncated', { [ATTR.failureReason]: 'payload_too_large' });
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), ['evt_s1', 'evt_s2']);
    assert.equal(result.skipped.length, 3);
    for (const { why } of result.skipped) assert.equal(why, 'only a summary was kept of a body too large for SQS that named no event: there is nothing to replay');
    assert.deepEqual(letters.map(isReplayable), [true, true, false, false, false]);
    const queued = await sqs.drain(sqs.queueUrl);
    const bodies = new Map(queued.map((m) => [m.MessageAttributes?.[ATTR.eventId]?.StringValue, m]));
    assert.deepEqual(JSON.parse(bodies.get('evt_s1')?.Body ?? ''), { eventId: 'evt_s1', eventType: 'tag', conversationId: 'cnv_s1', bytes: 2_000_000, sha256: 'abc' });
    assert.deepEqual(JSON.parse(bodies.get('evt_s2')?.Body ?? ''), { eventId: 'evt_s2', eventType: 'tag', bytes: 0, sha256: '' });
    assert.equal(bodies.get('evt_s1')?.Attributes?.MessageGroupId, 'cnv_s1');
    for (const m of queued) {
      assert.equal(m.MessageAttributes?.[ATTR.bodyKind]?.StringValue, 'reference');
      assert.equal(m.MessageAttributes?.[ATTR.bodyEncoding]?.StringValue, 'utf8');
    }
    await release(sqs.client, sqs.dlqUrl, result.skipped.map((s) => s.letter));
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 3, 'what was skipped stays');
  });

  it('sends a reference the process function dead-lettered (no Front token then) back as it is, a reference', async () => {
    // Prepare
    const reference = { eventId: 'evt_r1', eventType: 'tag', conversationId: 'cnv_r1', bytes: 2_000_000, sha256: 'abc' };
    await letter(JSON.stringify(reference), {
      [ATTR.eventId]: 'evt_r1', [ATTR.eventType]: 'tag', [ATTR.scheme]: 'app', [ATTR.bodyEncoding]: 'utf8', [ATTR.bodyKind]: 'reference',
      [ATTR.failureReason]: 'payload_too_large', [ATTR.failureDetail]: 'no Front API token',
    });
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    assert.equal(isReplayable(letters[0]!), true);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.equal(result.redriven.length, 1);
    const [queued] = await sqs.drain(sqs.queueUrl);
    assert.equal(queued?.Body, JSON.stringify(reference));
    assert.equal(queued?.Attributes?.MessageGroupId, 'cnv_r1');
    assert.equal(queued?.MessageAttributes?.[ATTR.bodyKind]?.StringValue, 'reference');
    assert.equal(queued?.MessageAttributes?.[ATTR.scheme]?.StringValue, 'app');
  });

  it('queues a letter once when a redrive dies between the send and the delete and is run again', async () => {
    // Prepare
    const event = sampleEvent({ type: 'tag' });
    await eventLetter(event);
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    const { client } = recordingSqsClient(sqs.endpoint);
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'DeleteMessageCommand') throw new Error('the tool died');
      return next(args);
    }, { step: 'initialize', name: 'dieOnDelete' });
    // Act
    await assert.rejects(redrive(client, sqs.dlqUrl, sqs.queueUrl, letters), /the tool died/);
    await release(sqs.client, sqs.dlqUrl, letters);
    const again = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, await readDeadLetters(sqs.client, sqs.dlqUrl));
    // Assess
    assert.equal(again.redriven.length, 1);
    const queued = await sqs.drain(sqs.queueUrl);
    assert.deepEqual(queued.map((m) => m.MessageAttributes?.[ATTR.eventId]?.StringValue), [event.id]);
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 0);
  });

  it('redrives every chosen letter in rounds, reports each round, and does not send again an event that came back', async () => {
    // Prepare: two events to redrive, one not chosen; the first comes back to the DLQ once redriven (the process
    // function dead-letters it again at once)
    const comesBack = sampleEvent({ type: 'tag' });
    const once = sampleEvent({ type: 'tag' });
    const unchosen = sampleEvent({ type: 'assign' });
    for (const event of [comesBack, once, unchosen]) await eventLetter(event);
    const rounds: Array<[number, number]> = [];
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, [], { type: 'tag' }), {
      onRound: async (round, r) => {
        rounds.push([round, r.redriven.length]);
        if (round === 0) await eventLetter(comesBack);
      },
    });
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId).sort(), [comesBack.id, once.id].sort());
    assert.deepEqual(result.skipped.map((s) => s.letter.eventId), [comesBack.id]);
    assert.equal(result.skipped[0]?.why, 'it came back to the DLQ during this redrive (handler_failed): fix the cause, then redrive it again');
    assert.deepEqual(rounds, [[0, 2], [1, 0]]);
    const left = await readDeadLetters(sqs.client, sqs.dlqUrl);
    assert.deepEqual(left.map((l) => l.eventId).sort(), [comesBack.id, unchosen.id].sort());
    assert.equal((await sqs.drain(sqs.queueUrl)).length, 2);
  });

  it('skips a letter that came back once, however many rounds follow, and redrives what appears meanwhile', async () => {
    // Prepare
    const comesBack = sampleEvent({ type: 'tag' });
    const other = sampleEvent({ type: 'tag' });
    const appearsLater = sampleEvent({ type: 'tag' });
    await eventLetter(comesBack);
    await eventLetter(other);
    const rounds: number[] = [];
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []), {
      onRound: async (round, r) => {
        rounds.push(r.redriven.length);
        if (round === 0) {
          await eventLetter(comesBack);
          await eventLetter(appearsLater);
        }
      },
    });
    // Assess
    assert.deepEqual(rounds, [2, 1, 0]);
    assert.deepEqual(result.redriven.map((l) => l.eventId), [comesBack.id, other.id, appearsLater.id]);
    assert.deepEqual(result.skipped.map((s) => s.letter.eventId), [comesBack.id]);
  });

  it('tells letters without an event id apart by their bodies across rounds, and reports an unreplayable one once', async () => {
    // Prepare: bodies ingest kept (no event id); an old summary that names no event
    const first = `not json ${randomUUID()}`;
    const later = `not json ${randomUUID()}`;
    await letter(first, { [ATTR.failureReason]: 'invalid_json', [ATTR.bodyEncoding]: 'utf8' });
    await letter(JSON.stringify({ reason: 'payload_too_large', bytes: 10, sha256: 'x' }), { [ATTR.failureReason]: 'payload_too_large' });
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []), {
      onRound: async (round) => { if (round === 0) await letter(later, { [ATTR.failureReason]: 'invalid_json', [ATTR.bodyEncoding]: 'utf8' }); },
    });
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.body), [first, later]);
    assert.deepEqual(result.skipped.map((s) => s.why), ['only a summary was kept of a body too large for SQS that named no event: there is nothing to replay']);
  });

  it('redrives a conversation SQS shows one letter at a time, in rounds, without being told of each round', async () => {
    // Prepare: three events of one conversation moved by SQS in its group
    const conversationId = `cnv_${randomUUID().slice(0, 8)}`;
    const events = [1, 2, 3].map(() => sampleEvent({ type: 'assign', conversationId }));
    for (const event of events) {
      await sqs.client.send(new SendMessageCommand({
        QueueUrl: sqs.dlqUrl, MessageBody: JSON.stringify(event), MessageGroupId: conversationId, MessageDeduplicationId: event.id,
        MessageAttributes: toAttributes({ [ATTR.eventId]: event.id, [ATTR.eventType]: event.type }),
      }));
    }
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []));
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), events.map((e) => e.id));
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 0);
  });

  it('stops after maxRounds', async () => {
    // Prepare: a letter; another appears once the first round is done
    const first = sampleEvent({ type: 'tag' });
    const later = sampleEvent({ type: 'tag' });
    await eventLetter(first);
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []), {
      maxRounds: 1,
      onRound: () => eventLetter(later),
    });
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), [first.id]);
    assert.deepEqual((await readDeadLetters(sqs.client, sqs.dlqUrl)).map((l) => l.eventId), [later.id]);
  });
});
