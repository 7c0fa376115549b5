/**
 * Exactly once, through the built process bundle: each Front event's handler succeeds at most once, however often
 * and by whatever path the event comes back. The bundle is functions/process.ts built as scripts/build.ts builds
 * it, with only the handler registry swapped for tests/fixtures/handlers.ts (a "handler ran" line per run, failures
 * on demand); everything else is the shipped code: decoding, the state table through the AWS SDK on dynalite
 * (behind a proxy the tests take down and bring back), logs through Powertools Logger to stdout. Messages come from
 * fauxqs as Lambda gets them (FIFO batches), and are deleted as Lambda deletes them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { readDeadLetters, redriveAll, release, select, type DeadLetter } from '../lib/dlq.ts';
import type { FrontEventBody } from '../lib/front/event.ts';
import { sampleEvent } from '../lib/front/samples.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { ATTR, type Arrival } from '../lib/queue.ts';
import { eventKey } from '../lib/store/events.ts';
import { localDynamoClient } from '../local/dynamodb.ts';
import { FIXTURE_HOOK, type FixtureHook } from './fixtures/handlers.ts';
import { buildProcessVariant, captureLogLines, lambdaContext, loadBundleFile, type ProcessBundleHandler } from './helpers/bundles.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';
import { startTestStore, type TestStore } from './helpers/store.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { defineHandlers } from '../lib/handlers/types.ts';
import { startTestStack, waitFor, type TestStack } from './helpers/local.ts';

/** Not the default 7: the bundle must take the stage's setting. */
const RECORD_DAYS = 3;
/** The function dead-letters an event after this many failed attempts of its handler. */
const MAX_HANDLER_ATTEMPTS = 2;

let sqs: TestSqs;
let state: TestStore;
/** The bundle reaches dynalite only through this proxy. */
let proxy: TcpProxy;
/** dynalite itself, for the tests' own reads of the state table. */
let dynamo: DynamoDBClient;
let processBundle: ProcessBundleHandler;
let queueArn = '';
let dir = '';
const hooks = globalThis as { [FIXTURE_HOOK]?: FixtureHook };

before(async () => {
  sqs = await startTestSqs('once');
  state = await startTestStore('once');
  proxy = await startTcpProxy(state.endpoint);
  dynamo = localDynamoClient(state.endpoint);
  const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['QueueArn'] }));
  queueArn = Attributes?.QueueArn ?? '';
  dir = mkdtempSync(join(tmpdir(), 'process-fixture-'));
  await buildProcessVariant('tests/fixtures/handlers.ts', join(dir, 'index.mjs'));
  processBundle = await coldStart();
});

/** A new instance of the function (a Lambda cold start): it shares nothing in memory with the others. */
async function coldStart(): Promise<ProcessBundleHandler> {
  return (await loadBundleFile<{ handler: ProcessBundleHandler }>(join(dir, 'index.mjs'), {
    QUEUE_URL: sqs.queueUrl,
    DLQ_URL: sqs.dlqUrl,
    AWS_ENDPOINT_URL_SQS: new URL(sqs.queueUrl).origin,
    STATE_TABLE: state.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    RECORD_DAYS: String(RECORD_DAYS),
    MAX_HANDLER_ATTEMPTS: String(MAX_HANDLER_ATTEMPTS),
    // Retries and deferrals due at once, so the next delivery is the retry.
    RETRY_DELAYS_SECONDS: '0',
    DEFER_SECONDS: '0',
    POWERTOOLS_SERVICE_NAME: 'front-webhooks-process',
    POWERTOOLS_METRICS_NAMESPACE: 'FrontWebhooksTest',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  })).handler;
}
after(async () => {
  dynamo.destroy();
  await proxy.stop();
  await sqs.stop();
  await state.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  delete hooks[FIXTURE_HOOK];
  proxy.up();
  await sqs.reset();
});

type Line = Record<string, unknown>;
interface Delivery { records: SQSRecord[]; response: SQSBatchResponse; lines: Line[] }

/** What Lambda does with a batch response: delete every record not reported as failed. */
async function acknowledge(records: readonly SQSRecord[], response: SQSBatchResponse): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const r of records) if (!failed.has(r.messageId)) await sqs.client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: r.receiptHandle }));
}

/** One invocation as Lambda makes it: one receive of up to 10 messages (a FIFO batch), the built function, the deletes. */
async function deliver(handler: ProcessBundleHandler = processBundle): Promise<Delivery> {
  const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({
    QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
  }));
  assert.ok(Messages.length > 0, 'nothing to deliver: the queue shows no message');
  const records = Messages.map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
  const { result: response, lines } = await captureLogLines(() => handler({ Records: records }, lambdaContext(30_000)));
  await acknowledge(records, response);
  return { records, response, lines };
}

/** An event as Front sends it, its conversation subject carrying the fixture's instructions. */
function eventWith(subject = 'Damaged order'): FrontEventBody {
  const event = sampleEvent({ type: 'inbound' });
  (event.conversation as { subject: string }).subject = subject;
  return event;
}

async function ingest(event: FrontEventBody): Promise<void> {
  const response = await ingestUnderTest(sqs).send(signed('rule', event));
  assert.equal(response.status, 202, JSON.stringify(response.json));
}

/**
 * The same event queued again after SQS's 5-minute deduplication window: the message ingest wrote (same body,
 * attributes and conversation group), with a deduplication id SQS has not seen, and how it came back.
 */
async function queueAgain(record: SQSRecord, arrival?: Arrival): Promise<void> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes)) attributes[name] = { DataType: 'String', StringValue: value.stringValue };
  if (arrival) attributes[ATTR.arrival] = { DataType: 'String', StringValue: arrival };
  await sqs.client.send(new SendMessageCommand({
    QueueUrl: sqs.queueUrl, MessageBody: record.body, MessageAttributes: attributes,
    MessageGroupId: record.attributes.MessageGroupId, MessageDeduplicationId: `after-window-${randomUUID()}`,
  }));
}

/** The event's item in the state table, read from dynalite itself (not through the proxy). */
async function itemOf(eventId: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await dynamo.send(new GetItemCommand({ TableName: state.tableName, Key: eventKey(eventId), ConsistentRead: true }))).Item;
}

/** What the DLQ holds, left in it. */
async function deadLetters(): Promise<DeadLetter[]> {
  const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
  await release(sqs.client, sqs.dlqUrl, letters);
  return letters;
}

const linesOf = (deliveries: readonly Delivery[], message: string, eventId: string) =>
  deliveries.flatMap((d) => d.lines).filter((l) => l.message === message && l.eventId === eventId);

/** expiresAt (epoch seconds) is RECORD_DAYS after `at`, the ISO time the same write recorded. */
function assertExpiresRecordDaysAfter(item: Record<string, AttributeValue> | undefined, at: string | undefined): void {
  const expected = Math.floor(Date.parse(at ?? '') / 1000) + RECORD_DAYS * 86_400;
  const actual = Number(item?.expiresAt?.N);
  assert.ok(Math.abs(actual - expected) <= 1, `expiresAt ${actual} should be ${RECORD_DAYS} days after ${at} (${expected})`);
}

function assertWithin(iso: string | undefined, from: number, to: number): void {
  const t = Date.parse(iso ?? '');
  assert.ok(t >= from && t <= to, `${iso} should fall within the test (${new Date(from).toISOString()} – ${new Date(to).toISOString()})`);
}

describe('exactly once, through the built process bundle', () => {
  it('runs the handler once for an event delivered three times after the FIFO window: two "skipped" lines', async () => {
    // Prepare: queued by the real ingest logic; later, the same event queued twice more (a Front retry, a re-sent
    // rule webhook) with SQS's 5-minute deduplication long past.
    const event = eventWith();
    const started = Date.now();
    await ingest(event);
    // Act
    const first = await deliver();
    await queueAgain(first.records[0]!);
    const second = await deliver();
    await queueAgain(first.records[0]!);
    const third = await deliver();
    const deliveries = [first, second, third];
    // Assess
    for (const d of deliveries) assert.deepEqual(d.response, { batchItemFailures: [] });
    assert.deepEqual(linesOf(deliveries, 'handler ran', event.id).map((l) => [l.attempt, l.arrival, l.messageId]), [[1, 'webhook', first.records[0]!.messageId]]);
    assert.equal(linesOf(deliveries, 'front event processed', event.id).length, 1);
    const item = await itemOf(event.id);
    const processedAt = item?.processedAt?.S;
    assertWithin(processedAt, started, Date.now());
    assert.equal(item?.attempts, undefined, 'no failed attempt');
    assertExpiresRecordDaysAfter(item, processedAt);
    const skipped = linesOf(deliveries, 'front event skipped', event.id);
    assert.deepEqual(skipped.map(({ level, eventType, conversationId, firstProcessedAt, arrival, messageId }) => ({ level, eventType, conversationId, firstProcessedAt, arrival, messageId })), [
      { level: 'INFO', eventType: 'inbound', conversationId: event.conversation?.id, firstProcessedAt: processedAt, arrival: 'webhook', messageId: second.records[0]!.messageId },
      { level: 'INFO', eventType: 'inbound', conversationId: event.conversation?.id, firstProcessedAt: processedAt, arrival: 'webhook', messageId: third.records[0]!.messageId },
    ]);
    assert.deepEqual([second, third].map((d) => d.lines.map((l) => l.message)), [['front event skipped'], ['front event skipped']], 'one line per skipped delivery, nothing else');
  });

  it('runs a handler that fails once twice, and records it once; the other conversation in its batch runs once', async () => {
    // Prepare: one batch with the flaky event and an event of another conversation.
    const flaky = eventWith('Refund [fail 1]');
    const bystander = eventWith();
    const started = Date.now();
    await ingest(flaky);
    await ingest(bystander);
    // Act
    const first = await deliver();
    const afterFailure = await itemOf(flaky.id);
    const second = await deliver();
    await queueAgain(second.records[0]!);
    const third = await deliver();
    const deliveries = [first, second, third];
    // Assess: the first delivery fails the flaky event alone; its retry (due at once) runs it again and succeeds.
    const flakyMessage = first.records.find((r) => JSON.parse(r.body).id === flaky.id)!.messageId;
    assert.equal(first.records.length, 2, 'one batch, two conversations');
    assert.deepEqual(first.response, { batchItemFailures: [{ itemIdentifier: flakyMessage }] });
    assert.deepEqual(second.records.map((r) => r.messageId), [flakyMessage], 'the same message comes back');
    assert.deepEqual([second.response, third.response], [{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    assert.deepEqual(linesOf(deliveries, 'handler ran', flaky.id).map((l) => l.attempt), [1, 2]);
    assert.deepEqual(linesOf(deliveries, 'handler ran', bystander.id).map((l) => l.attempt), [1]);
    const failed = linesOf(deliveries, 'front event failed', flaky.id);
    assert.deepEqual(failed.map(({ level, attempt, maxAttempts, willRetry, retryInSeconds }) => ({ level, attempt, maxAttempts, willRetry, retryInSeconds })), [
      { level: 'ERROR', attempt: 1, maxAttempts: MAX_HANDLER_ATTEMPTS, willRetry: true, retryInSeconds: 0 },
    ]);
    assert.match(String(failed[0]?.reason), /fixture: attempt 1 of the first 1 fails/);
    assert.deepEqual(linesOf(deliveries, 'front event processed', flaky.id).map((l) => l.attempt), [2], 'recorded once');
    assert.equal(linesOf(deliveries, 'front event skipped', flaky.id).length, 1, 'a later copy is skipped');
    // The state table: the failure counted, then the success marked on the same item.
    assert.equal(afterFailure?.attempts?.N, '1');
    assert.equal(afterFailure?.processedAt, undefined);
    assertWithin(afterFailure?.lastFailedAt?.S, started, Date.now());
    assertExpiresRecordDaysAfter(afterFailure, afterFailure?.lastFailedAt?.S);
    const item = await itemOf(flaky.id);
    assert.equal(item?.attempts?.N, '1');
    assertWithin(item?.processedAt?.S, started, Date.now());
    assertExpiresRecordDaysAfter(item, item?.processedAt?.S);
    assert.deepEqual(await deadLetters(), [], 'nothing dead-lettered');
  });

  it('skips, with one "redriven" line, a dead letter redriven after its event was processed another way', async () => {
    // Prepare: the handler fails every attempt it has (2), so the function dead-letters the event; the same event
    // then comes back from Front's Events API (recovered), its third attempt succeeds.
    const event = eventWith(`Invoice [fail ${MAX_HANDLER_ATTEMPTS}]`);
    await ingest(event);
    const failures = [await deliver(), await deliver()];
    const [letter, ...others] = await deadLetters();
    assert.deepEqual([letter?.eventId, letter?.reason, letter?.attempts, others.length], [event.id, 'handler_failed', MAX_HANDLER_ATTEMPTS, 0]);
    await queueAgain(failures[0]!.records[0]!, 'recovered');
    const recovered = await deliver();
    const processedAt = (await itemOf(event.id))?.processedAt?.S;
    assert.ok(processedAt, 'processed once recovered');
    // Act: an operator redrives the letter (npm run dlq -- redrive <event id>), and Lambda delivers it.
    const redriven = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, [event.id]));
    const redelivery = await deliver();
    // Assess
    assert.deepEqual(redriven.redriven.map((l) => l.eventId), [event.id]);
    const deliveries = [...failures, recovered, redelivery];
    assert.deepEqual(linesOf(deliveries, 'handler ran', event.id).map((l) => [l.attempt, l.arrival]), [[1, 'webhook'], [2, 'webhook'], [3, 'recovered']]);
    assert.deepEqual(redelivery.response, { batchItemFailures: [] });
    assert.deepEqual(redelivery.lines.map(({ message, eventId, arrival, firstProcessedAt }) => ({ message, eventId, arrival, firstProcessedAt })), [
      { message: 'front event skipped', eventId: event.id, arrival: 'redriven', firstProcessedAt: processedAt },
    ]);
    assert.deepEqual(await deadLetters(), [], 'the letter is gone, not dead-lettered again');
    const item = await itemOf(event.id);
    assert.equal(item?.processedAt?.S, processedAt, 'the skip changes nothing');
    assert.equal(item?.attempts?.N, String(MAX_HANDLER_ATTEMPTS));
  });

  it('fails a record while the state table is down, without running its handler; runs it once when the table is back', async () => {
    // Prepare
    const event = eventWith();
    await ingest(event);
    proxy.down();
    // Act
    const whileDown = await deliver();
    proxy.up();
    const afterwards = await deliver();
    // Assess: reported failed (Lambda leaves it in the queue), handler not run, the reason said, no attempt counted.
    assert.deepEqual(whileDown.response, { batchItemFailures: [{ itemIdentifier: whileDown.records[0]!.messageId }] });
    assert.deepEqual(whileDown.lines.map(({ level, message, eventId, reason, retryInSeconds }) => ({ level, message, eventId, reason, retryInSeconds })), [
      { level: 'ERROR', message: 'front event deferred', eventId: event.id, reason: 'store_unavailable', retryInSeconds: 0 },
    ]);
    assert.match(String(whileDown.lines[0]?.detail), /StoreUnavailableError: the state table .* could not be reached/);
    // The same message, delivered again once the table answers: run once, recorded.
    assert.deepEqual(afterwards.records.map((r) => r.messageId), [whileDown.records[0]!.messageId]);
    assert.deepEqual(afterwards.response, { batchItemFailures: [] });
    assert.deepEqual(linesOf([whileDown, afterwards], 'handler ran', event.id).map((l) => l.attempt), [1]);
    assert.equal(linesOf([afterwards], 'front event processed', event.id).length, 1);
    const item = await itemOf(event.id);
    assert.ok(item?.processedAt?.S);
    assert.equal(item?.attempts, undefined, 'the outage counted no attempt');
    assertExpiresRecordDaysAfter(item, item?.processedAt?.S);
  });

  it('where it stops: a handler that succeeds while the table cannot record it is acknowledged, "front event not recorded", and may run again on another instance', async () => {
    // Prepare: the table goes down while the handler runs, after the check.
    const event = eventWith('Address change [hook]');
    await ingest(event);
    hooks[FIXTURE_HOOK] = () => { proxy.down(); delete hooks[FIXTURE_HOOK]; };
    // Act
    const first = await deliver();
    proxy.up();
    await queueAgain(first.records[0]!);
    const sameInstance = await deliver();
    await queueAgain(first.records[0]!);
    const otherInstance = await deliver(await coldStart());
    // Assess: acknowledged (a retry would only run it again), and said so.
    assert.deepEqual(first.response, { batchItemFailures: [] });
    const notRecorded = linesOf([first], 'front event not recorded', event.id);
    assert.deepEqual(notRecorded.map(({ level, reason }) => ({ level, reason })), [{ level: 'ERROR', reason: 'store_unavailable' }]);
    assert.equal(linesOf([first], 'front event processed', event.id).length, 1);
    // The instance that ran it remembers it; another one has only the table, where nothing was recorded, so it runs
    // the handler again, and records it.
    assert.equal(linesOf([sameInstance], 'front event skipped', event.id).length, 1);
    assert.deepEqual(linesOf([first, sameInstance, otherInstance], 'handler ran', event.id).map((l) => l.attempt), [1, 1]);
    assert.ok((await itemOf(event.id))?.processedAt?.S);
  });
});

describe('exactly once against eventually consistent reads (the local stack reads DynamoDB as AWS does)', () => {
  let t: TestStack;
  const runs = new Map<string, number>();
  before(async () => {
    // Reads that do not ask for consistency see an item as it was for 2 s after it is written.
    t = await startTestStack({ dynamoReadLagMs: 2000, registry: defineHandlers({ default: (event) => { runs.set(event.id, (runs.get(event.id) ?? 0) + 1); } }) });
  });
  after(async () => { await t.stop(); });

  it('runs a handler once when a second copy of its event follows the first before a plain read can see the mark', async () => {
    // Prepare: an event processed, then the same event again at once, past SQS's deduplication.
    const event = sampleEvent({ type: 'tag' });
    assert.equal((await t.post(event)).status, 202);
    await t.waitProcessed([event.id]);
    await t.stack.expireDeduplication();
    // Act
    assert.equal((await t.post(event)).status, 202);
    await waitFor('the second copy skipped', () => t.logs.some((l) => l.message === 'front event skipped' && l.eventId === event.id));
    // Assess
    assert.equal(runs.get(event.id), 1);
  });

  it('runs a handler once when two copies of its event arrive in one batch', async () => {
    // Prepare: a webhook copy and a recovered copy of one event, one right behind the other in its conversation.
    const event = sampleEvent({ type: 'tag' });
    t.stack.front.record(event);
    const conversation = event.conversation!.id;
    const copies = [{ arrival: undefined }, { arrival: 'recovered' }];
    for (const [i, copy] of copies.entries()) {
      await t.sqs.send(new SendMessageCommand({
        QueueUrl: t.stack.queueUrl, MessageBody: JSON.stringify(event), MessageGroupId: conversation, MessageDeduplicationId: `${event.id}-${i}`,
        MessageAttributes: { [ATTR.scheme]: { DataType: 'String', StringValue: 'rule' }, ...(copy.arrival && { [ATTR.arrival]: { DataType: 'String', StringValue: copy.arrival } }) },
      }));
    }
    // Act
    await waitFor('the second copy skipped', () => t.logs.some((l) => l.message === 'front event skipped' && l.eventId === event.id));
    // Assess
    assert.equal(runs.get(event.id), 1);
  });
});
