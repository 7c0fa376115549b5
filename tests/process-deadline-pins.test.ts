/**
 * The process function's deadlines and its answers when things around it fail, as a handler author and an operator
 * see them: what a handler's AbortSignal says when it is out of time, which deadline cut it (its own
 * handlerTimeoutMs, or the batch's: Lambda's remaining time less the margin) and what follows (a failure counted, or
 * a deferral that counts nothing), the retry schedule SQS is asked for and the warning
 * when it is not set, and the batch response when the invocation itself is odd. Real fauxqs and dynalite.
 *
 * Where a deadline matters the handler runs on a clock the test moves: a handler "takes" time by moving it, and the
 * handler's deadline timer waits, in real time, as long as that clock says is left. So a test states exactly how long
 * a handler ran (the limits are pinned at their boundary) and still waits only a few tens of milliseconds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:net';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomId, sampleEvent } from '../lib/front/samples.ts';
import { defineHandlers, type FrontEventHandler } from '../lib/handlers/types.ts';
import { createProcessHandler, HandlerTimeoutError } from '../lib/process/handler.ts';
import { DEFAULT_SETTINGS, type ProcessSettings } from '../lib/process/settings.ts';
import { ATTR } from '../lib/queue.ts';
import { startSilentServer, type HangingEndpoint } from './helpers/hanging.ts';
import { processTestbed } from './helpers/process.ts';
import { recordingLogger, type LogRecord } from './helpers/local.ts';
import { recordingSqsClient } from './helpers/sqs.ts';

const bed = processTestbed('deadline-pins');
const { receiveRecords } = bed;
let silent: HangingEndpoint;
before(async () => { silent = await startSilentServer(); });
after(async () => { await silent.stop(); });

/** A clock the test moves; the process handler reads it as its `now`. */
function testClock() {
  const clock = { t: Date.now(), now: () => clock.t, advance: (ms: number) => { clock.t += ms; } };
  return clock;
}

/** The process handler with one handler for every event type, on the test's SQS and state table unless told otherwise. */
function underTest(options: { handle: FrontEventHandler; now: () => number; settings?: Partial<ProcessSettings>; sqs?: SQSClient; sendDeadlineMs?: number }) {
  const logs: LogRecord[] = [];
  const handler = createProcessHandler({
    registry: defineHandlers({ default: options.handle }),
    sqs: options.sqs ?? bed.sqs.client, queueUrl: bed.sqs.queueUrl, dlqUrl: bed.sqs.dlqUrl, store: bed.state.store,
    logger: recordingLogger(logs), now: options.now, sendDeadlineMs: options.sendDeadlineMs ?? 1000,
    settings: { ...DEFAULT_SETTINGS, retryDelaysSeconds: [7], maxHandlerAttempts: 3, ...options.settings },
  });
  return { handler, logs };
}

const queue = (event: { id: string }, groupId = randomId('cnv')) => bed.send(JSON.stringify(event), groupId, { [ATTR.scheme]: 'rule' });

/** What Lambda does with a batch response: delete every record not reported as failed. */
async function acknowledge(records: readonly SQSRecord[], response: SQSBatchResponse): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const r of records) if (!failed.has(r.messageId)) await bed.sqs.client.send(new DeleteMessageCommand({ QueueUrl: bed.sqs.queueUrl, ReceiptHandle: r.receiptHandle }));
}

const lines = (logs: LogRecord[], message: string) => logs.filter((l) => l.message === message);
const hang = () => new Promise<void>(() => {});
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Timers keeping the process alive. */
const pendingTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const failures = (...records: SQSRecord[]) => ({ batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) });

describe('a handler that overruns its own handlerTimeoutMs', () => {
  it('is told through its signal, by a HandlerTimeoutError naming the limit, and fails with that reason, its attempt counted; its late rejection is not unhandled', { timeout: 5000 }, async () => {
    // Prepare: a handler that takes its whole 100 ms, then gives up only when told, by rejecting (after its deadline)
    const clock = testClock();
    const event = sampleEvent({ type: 'tag' });
    await queue(event);
    const [record] = await receiveRecords();
    let signal: AbortSignal | undefined;
    const { handler, logs } = underTest({
      now: clock.now,
      settings: { handlerTimeoutMs: 100 },
      handle: (_event, context) => {
        signal = context.signal;
        clock.advance(100);
        return new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('gave up when told'))));
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    let response: SQSBatchResponse;
    let tookMs: number;
    try {
      // Act
      const startedAt = Date.now();
      response = await handler({ Records: [record!] });
      tookMs = Date.now() - startedAt;
      // An unhandled rejection is reported after the microtasks of its turn: give it a few turns.
      await sleep(50);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    // Assess
    assert.deepEqual(response, failures(record!));
    assert.ok(tookMs < 3000, `answered in ${tookMs} ms`);
    assert.equal(signal?.aborted, true);
    const reason: unknown = signal?.reason;
    assert.ok(reason instanceof HandlerTimeoutError);
    assert.equal(reason.name, 'HandlerTimeoutError');
    assert.equal(reason.message, 'the handler did not finish within 100 ms');
    assert.deepEqual(lines(logs, 'front event failed'), [{
      level: 'error', message: 'front event failed', eventId: event.id, eventType: 'tag', conversationId: event.conversation?.id,
      reason: 'HandlerTimeoutError: the handler did not finish within 100 ms', handler: 'default', attempt: 1, maxAttempts: 3,
      durationMs: 100, willRetry: true, retryInSeconds: 7,
    }]);
    assert.deepEqual(lines(logs, 'front event deferred'), []);
    assert.equal((await bed.state.store.get(event.id))?.attempts, 1);
    assert.deepEqual(unhandled, []);
  });

  it('fails, its attempt counted, even when its deadline timer fires a millisecond before the clock says it is due (Node\'s timers can)', { timeout: 5000 }, async () => {
    // Prepare: a 100 ms limit; the handler hangs, and when the timer fires the clock says 99 ms have passed (a timer
    // set while the event loop's time was a millisecond behind fires that much early: 3 of 43 such runs, measured)
    const clock = testClock();
    const event = sampleEvent({ type: 'tag' });
    await queue(event);
    const [record] = await receiveRecords();
    const { handler, logs } = underTest({ now: clock.now, settings: { handlerTimeoutMs: 100 }, handle: () => { clock.advance(99); return hang(); } });
    // Act
    const response = await handler({ Records: [record!] });
    // Assess: it overran its own limit, not the batch's: not deferred as out_of_time
    assert.deepEqual(response, failures(record!));
    assert.deepEqual(lines(logs, 'front event deferred'), []);
    assert.deepEqual(lines(logs, 'front event failed').map((l) => [l.reason, l.attempt, l.durationMs]), [['HandlerTimeoutError: the handler did not finish within 100 ms', 1, 99]]);
    assert.equal((await bed.state.store.get(event.id))?.attempts, 1);
  });

  it('is not cut before its deadline: a handler that settles within handlerTimeoutMs is processed, and leaves no timer behind', { timeout: 5000 }, async () => {
    // Prepare: a handler that takes 30 ms of real time, against a 20 s limit (a timer left pending would hold the process that long)
    const event = sampleEvent({ type: 'tag' });
    await queue(event);
    const [record] = await receiveRecords();
    let signal: AbortSignal | undefined;
    const { handler, logs } = underTest({ now: Date.now, settings: { handlerTimeoutMs: 20_000 }, handle: async (_event, context) => { signal = context.signal; await sleep(30); } });
    const timersBefore = pendingTimers();
    // Act
    const response = await handler({ Records: [record!] });
    // Assess
    assert.ok(pendingTimers() <= timersBefore, 'the deadline timer is cleared once the handler settles');
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(signal?.aborted, false);
    assert.deepEqual(lines(logs, 'front event processed').map((l) => l.eventId), [event.id]);
    assert.deepEqual(lines(logs, 'front event failed'), []);
    assert.ok((await bed.state.store.get(event.id))?.processedAt);
  });
});

describe('a handler cut short by the batch\'s deadline', () => {
  /**
   * One conversation of two events; Lambda has 600 ms left and the margin is 500 ms, so the batch has 100 ms. The
   * first event's handler takes `firstTakesMs`; the second's hangs until the batch's deadline (its own limit, 10 s, is
   * far). So the second ran 100 - firstTakesMs ms, against a fair share of half the batch: 50 ms. Or the second's
   * handler throws at once instead.
   */
  async function secondCutByTheBatch(firstTakesMs: number, secondDoes: 'hangs' | 'throws' = 'hangs') {
    const clock = testClock();
    const conversationId = randomId('cnv');
    const [first, second] = [sampleEvent({ type: 'tag', conversationId }), sampleEvent({ type: 'tag', conversationId })];
    await queue(first!, conversationId);
    await queue(second!, conversationId);
    const records = await receiveRecords();
    assert.deepEqual(records.map((r) => JSON.parse(r.body).id), [first!.id, second!.id]);
    const batchDeadline = clock.t + 100;
    let signal: AbortSignal | undefined;
    const { handler, logs } = underTest({
      now: clock.now,
      settings: { handlerTimeoutMs: 10_000, deadlineMarginMs: 500 },
      handle: (event, context) => {
        if (event.id === first!.id) return clock.advance(firstTakesMs);
        signal = context.signal;
        if (secondDoes === 'throws') throw new Error('down');
        clock.t = batchDeadline;
        return hang();
      },
    });
    const response = await handler({ Records: records }, { getRemainingTimeInMillis: () => 600 });
    return { response, logs, signal, records, first: first!, second: second!, conversationId };
  }

  it('before it had half the batch: is deferred out_of_time, no attempt counted, and due again at once', { timeout: 5000 }, async () => {
    // Prepare, Act: the second event gets 49 ms
    const { response, logs, signal, records, second, conversationId } = await secondCutByTheBatch(51);
    // Assess
    assert.deepEqual(response, failures(records[1]!));
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as Error).message, 'the handler did not finish within 49 ms', 'the batch\'s deadline: 600 ms left less the 500 ms margin, 51 of them used');
    assert.deepEqual(lines(logs, 'front event deferred'), [{
      level: 'warn', message: 'front event deferred', eventId: second.id, eventType: 'tag', conversationId,
      reason: 'out_of_time', durationMs: 49, retryInSeconds: 0,
    }]);
    assert.deepEqual(lines(logs, 'front event failed'), []);
    assert.equal(await bed.state.store.get(second.id), undefined, 'no attempt counted');
    await acknowledge(records, response);
    const again = await receiveRecords();
    assert.deepEqual(again.map((r) => JSON.parse(r.body).id), [second.id]);
  });

  it('a handler that throws, even late in the batch, fails, its attempt counted: only running out of time is excused', { timeout: 5000 }, async () => {
    // Prepare, Act: the second event would get 49 ms, and its handler throws at once
    const { response, logs, signal, records, second } = await secondCutByTheBatch(51, 'throws');
    // Assess
    assert.deepEqual(response, failures(records[1]!));
    assert.equal(signal?.aborted, false);
    assert.deepEqual(lines(logs, 'front event deferred'), []);
    assert.deepEqual(lines(logs, 'front event failed').map((l) => [l.eventId, l.reason, l.attempt]), [[second.id, 'Error: down', 1]]);
    assert.equal((await bed.state.store.get(second.id))?.attempts, 1);
  });

  it('after it had half the batch: fails, its attempt counted', { timeout: 5000 }, async () => {
    // Prepare, Act: the second event gets 50 ms, exactly its fair share
    const { response, logs, records, second, conversationId } = await secondCutByTheBatch(50);
    // Assess
    assert.deepEqual(response, failures(records[1]!));
    assert.deepEqual(lines(logs, 'front event deferred'), []);
    assert.deepEqual(lines(logs, 'front event failed'), [{
      level: 'error', message: 'front event failed', eventId: second.id, eventType: 'tag', conversationId,
      reason: 'HandlerTimeoutError: the handler did not finish within 50 ms', handler: 'default', attempt: 1, maxAttempts: 3,
      durationMs: 50, willRetry: true, retryInSeconds: 7,
    }]);
    assert.equal((await bed.state.store.get(second.id))?.attempts, 1);
  });
});

describe('the retry schedule', () => {
  const failing: FrontEventHandler = () => { throw new Error('down'); };

  it('asks SQS for each retried message\'s visibility, and says nothing more when SQS sets it', async () => {
    // Prepare
    await queue(sampleEvent({ type: 'tag' }));
    const [record] = await receiveRecords();
    const { client, requests } = recordingSqsClient(bed.sqs.endpoint);
    const { handler, logs } = underTest({ now: Date.now, handle: failing, sqs: client });
    // Act
    const response = await handler({ Records: [record!] });
    // Assess
    assert.deepEqual(response, failures(record!));
    const calls = requests.filter((r) => r.command === 'ChangeMessageVisibilityBatchCommand').map((r) => r.input.Entries);
    assert.deepEqual(calls, [[{ Id: '0', ReceiptHandle: record!.receiptHandle, VisibilityTimeout: 7 }]]);
    assert.deepEqual(lines(logs, 'retry schedule not set'), []);
  });

  it('warns, with how many messages SQS refused and its reason, when SQS refuses an entry (a receipt handle gone stale)', async () => {
    // Prepare: two failing conversations; one message's visibility ran out and another receive took it, so the
    // receipt handle the function holds for it is stale
    await queue(sampleEvent({ type: 'tag' }));
    await queue(sampleEvent({ type: 'tag' }));
    const [stale, fresh] = await receiveRecords();
    await bed.sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: bed.sqs.queueUrl, ReceiptHandle: stale!.receiptHandle, VisibilityTimeout: 0 }));
    assert.equal((await receiveRecords()).length, 1);
    const { handler, logs } = underTest({ now: Date.now, handle: failing });
    // Act
    const response = await handler({ Records: [stale!, fresh!] });
    // Assess
    assert.deepEqual(response, failures(stale!, fresh!));
    const warned = lines(logs, 'retry schedule not set');
    assert.equal(warned.length, 1);
    assert.deepEqual({ ...warned[0], detail: undefined }, { level: 'warn', message: 'retry schedule not set', messages: 1, detail: undefined });
    assert.match(String(warned[0]?.detail), /receipt handle/i);
  });

  it('gives up on an SQS that never answers within the send deadline: the batch answers at once, with a warning', { timeout: 5000 }, async () => {
    // Prepare: an SQS endpoint that accepts connections and never answers, through a client with no timeout of its own
    await queue(sampleEvent({ type: 'tag' }));
    const [record] = await receiveRecords();
    const client = new SQSClient({ endpoint: silent.endpoint, region: 'us-east-1' });
    const { handler, logs } = underTest({ now: Date.now, handle: failing, sqs: client, sendDeadlineMs: 200 });
    try {
      // Act
      const startedAt = Date.now();
      const response = await handler({ Records: [record!] });
      const tookMs = Date.now() - startedAt;
      // Assess
      assert.deepEqual(response, failures(record!));
      assert.ok(tookMs < 3000, `answered in ${tookMs} ms`);
      const warned = lines(logs, 'retry schedule not set');
      assert.deepEqual(warned.map((l) => [l.level, l.messages]), [['warn', 1]]);
      assert.match(String(warned[0]?.detail), /abort|timeout/i);
    } finally {
      client.destroy();
    }
  });

  it('warns, with the messages of the call and the error, when SQS cannot be reached, and still reports the failures', async () => {
    // Prepare: two failing conversations, and an SQS endpoint on a port nothing listens on
    await queue(sampleEvent({ type: 'tag' }));
    await queue(sampleEvent({ type: 'tag' }));
    const records = await receiveRecords();
    const port = await closedPort();
    const client = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1 });
    const { handler, logs } = underTest({ now: Date.now, handle: failing, sqs: client });
    try {
      // Act
      const response = await handler({ Records: records });
      // Assess
      assert.deepEqual(response, failures(...records));
      const warned = lines(logs, 'retry schedule not set');
      assert.deepEqual(warned.map((l) => [l.level, l.messages]), [['warn', 2]]);
      assert.match(String(warned[0]?.detail), /ECONNREFUSED/);
    } finally {
      client.destroy();
    }
  });
});

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('the invocation itself', () => {
  it('answers an invocation without an event with an empty batch response, and logs no failure', async () => {
    // Prepare
    const { handler, logs } = underTest({ now: Date.now, handle: () => {} });
    // Act
    const response = await handler(undefined as unknown as SQSEvent);
    // Assess
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(logs, []);
  });

  it('fails the batch whole when its Records hold something that is not a record: every record with a messageId is reported, and "front batch failed" says why', async () => {
    // Prepare: a record as Lambda passes it, and a null beside it (a replay tool or a test may pass anything)
    await queue(sampleEvent({ type: 'tag' }));
    const [record] = await receiveRecords();
    let ran = 0;
    const { handler, logs } = underTest({ now: Date.now, handle: () => { ran += 1; } });
    // Act
    const response = await handler({ Records: [record!, null as unknown as SQSRecord] });
    // Assess
    assert.deepEqual(response, failures(record!));
    assert.equal(ran, 0);
    assert.deepEqual(logs.map((l) => [l.level, l.message]), [['error', 'front batch failed']]);
    assert.match(String(logs[0]?.reason), /^TypeError: Cannot read properties of null/);
  });
});
