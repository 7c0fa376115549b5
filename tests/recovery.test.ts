/**
 * Recovering what Front never retries, filling in previews, events of any size (issue 9): the local stack with its
 * fake of Front's API (pagination, at most 15 per page, 429 + Retry-After), the built reconcile function, the real
 * process logic, fauxqs and dynalite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrontApiClient, InMemoryRateBudget } from '../lib/front/api.ts';
import type { FrontEventBody } from '../lib/front/event.ts';
import { randomId, sampleEvent } from '../lib/front/samples.ts';
import { defineHandlers, type FrontEventHandler } from '../lib/handlers/types.ts';
import { MAX_MESSAGE_BYTES } from '../lib/queue.ts';
import { readDeadLetters, release } from '../lib/dlq.ts';
import { DEFAULT_SETTINGS } from '../lib/process/settings.ts';
import { reconcileScheduled, type ReconcileDeps } from '../lib/reconcile.ts';
import { createDynamoClient, createDynamoEventStore, createDynamoWatermark } from '../lib/store/events.ts';
import { startFakeFront } from '../local/fake-front.ts';
import { captureLogLines, lambdaContext, loadBundle } from './helpers/bundles.ts';
import { startTestStack, waitFor, type TestStack } from './helpers/local.ts';
import { startTestSqs } from './helpers/sqs.ts';
import { startTestStore } from './helpers/store.ts';

/** What the handlers saw, by event id; the handler throws for the ids in `failing`. */
const seen = new Map<string, FrontEventBody[]>();
const failing = new Set<string>();
const record: FrontEventHandler = (event) => {
  seen.set(event.id, [...(seen.get(event.id) ?? []), event.body]);
  if (failing.has(event.id)) throw new Error('the CRM answered 503');
};

const SETTLE_MS = 2500; // the local stack's reconcile waits 2 s before listing an event (RECONCILE_SETTLE_SECONDS)

function countBy(lines: ReadonlyArray<Record<string, unknown>>, message: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) if (line.message === message) counts.set(String(line.eventId), (counts.get(String(line.eventId)) ?? 0) + 1);
  return counts;
}

describe('reconciliation on the local stack', () => {
  let t: TestStack;
  before(async () => { t = await startTestStack({ registry: defineHandlers({ default: record }) }); });
  after(async () => { await t.stop(); });

  it('processes 500 events over 25 conversations exactly once: 30 % never delivered, 10 % delivered again much later', async () => {
    // Prepare: Front emits 500 events (recorded in its API), 1 ms apart, over 25 conversations.
    const conversations = Array.from({ length: 25 }, () => randomId('cnv'));
    const start = Date.now() / 1000 - 60;
    const events = Array.from({ length: 500 }, (_, i) => sampleEvent({ type: i % 3 ? 'tag' : 'inbound', conversationId: conversations[i % 25]!, emittedAt: start + i / 1000 }));
    for (const event of events) t.stack.front.record(event);
    const missed = events.filter((_, i) => i % 10 >= 7);
    const delivered = events.filter((_, i) => i % 10 < 7);
    const twice = events.filter((_, i) => i % 10 === 0);
    // Act: the webhooks Front did deliver, in order per conversation.
    await Promise.all(conversations.map(async (conversation) => {
      for (const event of delivered.filter((e) => e.conversation?.id === conversation)) assert.equal((await t.post(event)).status, 202);
    }));
    await t.waitProcessed(delivered.map((e) => e.id), 60_000);
    // Much later: SQS's 5-minute deduplication has forgotten them, so only the state table stands in the way.
    await t.stack.expireDeduplication();
    for (const event of twice) assert.equal((await t.post(event)).status, 202);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await t.stack.reconcile();
    await t.waitProcessed(events.map((e) => e.id), 60_000);
    await waitFor('the re-deliveries skipped', () => (countBy(t.logs, 'front event skipped').size >= twice.length ? true : undefined), 20_000);
    // Assess
    const processed = countBy(t.logs, 'front event processed');
    for (const event of events) assert.equal(processed.get(event.id), 1, `${event.id} processed once`);
    for (const event of events) assert.equal(seen.get(event.id)?.length, 1, `${event.id}'s handler ran once`);
    const skipped = countBy(t.logs, 'front event skipped');
    for (const event of twice) assert.ok((skipped.get(event.id) ?? 0) >= 1, `${event.id}'s second delivery skipped`);
    const recovered = new Set(t.processed().filter((l) => l.arrival === 'recovered').map((l) => l.eventId));
    assert.deepEqual(recovered, new Set(missed.map((e) => e.id)), 'exactly the missed events were recovered');
    assert.equal(t.metrics.recoveries, missed.length, 'the recovered metric counts them: the webhook path needs a look');
    assert.ok(t.stack.front.requests.every((r) => r.status === 200), 'every Front API request was answered');
    assert.ok(t.stack.front.requests.length >= Math.ceil(events.length / 15), 'pages of at most 15');
  });

  it('leaves an event the webhook delivered and whose handler failed in the DLQ: not recovered, not run again', async () => {
    // Prepare: Front emits two events of one conversation; the webhook delivers the first, whose handler always
    // fails; the second is never delivered.
    const conversationId = randomId('cnv');
    const now = Date.now() / 1000;
    const [broken, missed] = [now - 2, now - 1].map((emittedAt) => sampleEvent({ type: 'tag', conversationId, emittedAt }));
    for (const event of [broken!, missed!]) t.stack.front.record(event);
    failing.add(broken!.id);
    // Act: the delivery fails every attempt and is dead-lettered; then the reconciliation runs.
    assert.equal((await t.post(broken!)).status, 202);
    await waitFor('the failing event dead-lettered', () => t.logs.some((l) => l.message === 'front event dead-lettered' && l.eventId === broken!.id) || undefined, 30_000);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    await t.stack.expireDeduplication(); // a reconciliation minutes later: SQS would no longer drop a copy
    await t.stack.reconcile();
    // The missed event is queued in the same conversation, behind any copy of the failed one: once it is processed,
    // a recovered copy of the failed one would have run before it.
    await t.waitProcessed([missed!.id], 30_000);
    // Assess
    assert.equal(seen.get(broken!.id)?.length, DEFAULT_SETTINGS.maxHandlerAttempts, 'its handler ran only the attempts of the webhook delivery');
    const recovered = t.processed().filter((l) => l.arrival === 'recovered').map((l) => l.eventId);
    assert.ok(recovered.includes(missed!.id) && !recovered.includes(broken!.id), 'only the missed event was recovered');
    const letters = (await readDeadLetters(t.sqs, t.stack.dlqUrl, 2)).filter((l) => l.eventId === broken!.id);
    await release(t.sqs, t.stack.dlqUrl, letters);
    assert.equal(letters.length, 1, 'one letter in the DLQ for it, to fix and redrive');
    failing.delete(broken!.id);
  });

  it('honours a 429 storm: no request before Retry-After, and everything is recovered', async () => {
    // Prepare: 40 events Front never delivered; Front answers the next three requests 429, Retry-After 1 s.
    const events = Array.from({ length: 40 }, () => sampleEvent({ type: 'tag', emittedAt: Date.now() / 1000 - 1 }));
    for (const event of events) t.stack.front.record(event);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    t.stack.front.forceRateLimit({ retryAfterSeconds: 1, count: 3 });
    const before = t.stack.front.requests.length;
    // Act
    await t.stack.reconcile();
    await t.waitProcessed(events.map((e) => e.id), 30_000);
    // Assess
    const requests = t.stack.front.requests.slice(before);
    assert.equal(requests.filter((r) => r.status === 429).length, 3);
    assert.deepEqual(requests.filter((r) => r.beforeRetryAfter), [], 'no request arrived before Retry-After elapsed');
    for (const event of events) assert.equal(seen.get(event.id)?.length, 1);
  });

  it('processes an event too large for SQS: queued as a reference, fetched from Front\'s API', async () => {
    // Prepare: a 1.3 MB event Front emitted and never delivered.
    const event = sampleEvent({ type: 'inbound', messageBytes: 700_000, emittedAt: Date.now() / 1000 - 1 });
    assert.ok(JSON.stringify(event).length > MAX_MESSAGE_BYTES);
    t.stack.front.record(event);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    // Act
    await t.stack.reconcile();
    await t.waitProcessed([event.id], 30_000);
    // Assess
    // Front's API links to itself; everything else is the event as emitted.
    assert.deepEqual({ ...seen.get(event.id)?.[0], _links: undefined }, { ...event, _links: undefined }, 'the whole event reached the handler');
    const line = t.processed().find((l) => l.eventId === event.id);
    assert.equal(line?.hydrated, true);
    assert.equal(line?.arrival, 'recovered');
  });

  it('processes a webhook too large for SQS: acknowledged once a reference is queued, fetched from Front\'s API, in its conversation\'s order', async () => {
    // Prepare: a 1.3 MB event Front emitted and delivered, and a small one right after it in the same conversation.
    const conversationId = randomId('cnv');
    const big = sampleEvent({ type: 'inbound', messageBytes: 700_000, conversationId });
    const next = sampleEvent({ type: 'tag', conversationId });
    assert.ok(JSON.stringify(big).length > MAX_MESSAGE_BYTES);
    t.stack.front.record(big);
    // Act
    const answer = await t.post(big);
    assert.equal((await t.post(next)).status, 202);
    await t.waitProcessed([big.id, next.id], 30_000);
    // Assess
    assert.deepEqual([answer.status, answer.json.status, answer.json.reference], [202, 'queued', true]);
    assert.deepEqual({ ...seen.get(big.id)?.[0], _links: undefined }, { ...big, _links: undefined }, 'the whole event reached the handler');
    const lines = t.processed().filter((l) => l.conversationId === conversationId);
    assert.deepEqual(lines.map((l) => l.eventId), [big.id, next.id], 'in the order Front sent them');
    assert.equal(lines[0]?.hydrated, true);
  });
});

describe('a reconciliation run killed halfway', () => {
  it('loses nothing: the next run carries on from the watermark of the last page it enqueued', async () => {
    // Prepare: 100 events in Front (7 pages); a first run dies after its second page.
    const front = await startFakeFront({ token: 't' });
    const sqs = await startTestSqs('killed');
    const state = await startTestStore('killed');
    try {
      const start = Date.now() / 1000 - 600;
      const events = Array.from({ length: 100 }, (_, i) => sampleEvent({ type: 'tag', emittedAt: start + i }));
      for (const event of events) front.record(event);
      const client = new FrontApiClient({ baseUrl: front.url, token: async () => 't', budget: new InMemoryRateBudget(1000, { burstPerSecond: 1000 }) });
      const dynamo = createDynamoClient(state.endpoint);
      const deps: ReconcileDeps & { watermark: ReturnType<typeof createDynamoWatermark> } = {
        front: client, sqs: sqs.client, queueUrl: sqs.queueUrl, store: createDynamoEventStore({ client: dynamo, tableName: state.tableName }),
        watermark: createDynamoWatermark(dynamo, state.tableName),
      };
      const settings = { types: [], inboxes: [], overlapSeconds: 60, settleSeconds: 1, initialLookbackSeconds: 3600 };
      let pages = 0;
      const dying = { ...deps, front: { async *listEvents(query: Parameters<FrontApiClient['listEvents']>[0]) {
        for await (const page of client.listEvents(query)) {
          if (pages === 2) throw new Error('Runtime exited with error: signal: killed');
          pages += 1;
          yield page;
        }
      } } };
      // Act
      const first = await reconcileScheduled(dying, settings, { deadlineAt: Date.now() + 30_000, recordDays: 7 });
      const watermarkAfterFirst = await deps.watermark.get();
      const second = await reconcileScheduled(deps, settings, { deadlineAt: Date.now() + 30_000, recordDays: 7 });
      // Assess
      assert.equal(first.complete, false);
      assert.equal(first.progress.enqueued, 30);
      assert.equal(watermarkAfterFirst, events[29]!.emitted_at, 'the watermark stopped at the last enqueued page');
      assert.equal(second.complete, true);
      const queued = await sqs.drain(sqs.queueUrl);
      assert.deepEqual(new Set(queued.map((m) => JSON.parse(m.Body ?? '{}').id)), new Set(events.map((e) => e.id)), 'every event queued');
      assert.equal(queued.length, 100, 'the overlap re-read collapsed in SQS deduplication');
      assert.ok((await deps.watermark.get())! > events[99]!.emitted_at!);
    } finally {
      await front.close();
      await sqs.stop();
      await state.stop();
    }
  });

  it('stops after one request when Front refuses the token, and says so as an alarmed error', async () => {
    // Prepare: the reconcile bundle with a token Front does not know.
    const front = await startFakeFront({ token: 'right' });
    const sqs = await startTestSqs('token');
    const state = await startTestStore('token');
    try {
      front.record(sampleEvent({ type: 'tag', emittedAt: Date.now() / 1000 - 120 }));
      const { handler } = await loadBundle<{ handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<void> }>('reconcile', {
        QUEUE_URL: sqs.queueUrl, STATE_TABLE: state.tableName, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
        FRONT_API_URL: front.url, FRONT_API_TOKEN: 'tok_NOT_KNOWN_9f3a', POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_DEV: 'false',
      });
      // Act
      const { lines, raw } = await captureLogLines(() => handler({}, lambdaContext(30_000)));
      // Assess
      assert.equal(front.requests.length, 1, 'one request, no loop');
      const run = lines.find((l) => l.message === 'front reconcile run');
      assert.equal(run?.level, 'ERROR');
      assert.equal(run?.stoppedBecause, 'unauthorized');
      assert.equal(run?.stoppedBecause, 'unauthorized', 'the line the front-api-token alarm\'s metric filter counts');
      assert.ok(!raw.includes('tok_NOT_KNOWN_9f3a'), 'the token never reaches a log line');
      assert.equal((await sqs.drain(sqs.queueUrl)).length, 0);
    } finally {
      await front.close();
      await sqs.stop();
      await state.stop();
    }
  });

  it('never lists events older than the state table keeps its records, and says at WARN what it could not cover', async () => {
    // Prepare: the watermark is 10 days old (the reconciliation was off); records are kept 7 days. Front emitted one
    // event 9 days ago, processed then (its record has expired), one 5 days ago, processed then, and one just now.
    const front = await startFakeFront({ token: 'right' });
    const sqs = await startTestSqs('retention');
    const state = await startTestStore('retention');
    try {
      const day = 86_400;
      const now = Date.now() / 1000;
      const [old, recent, fresh] = [now - 9 * day, now - 5 * day, now - 120].map((emittedAt) => sampleEvent({ type: 'tag', emittedAt }));
      for (const event of [old!, recent!, fresh!]) front.record(event);
      await state.storeAt(() => (now - 9 * day) * 1000).markProcessed(old!.id, new Date((now - 9 * day) * 1000));
      await state.storeAt(() => (now - 5 * day) * 1000).markProcessed(recent!.id, new Date((now - 5 * day) * 1000));
      const dynamo = createDynamoClient(state.endpoint);
      await createDynamoWatermark(dynamo, state.tableName).advance(now - 10 * day);
      const { handler } = await loadBundle<{ handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<void> }>('reconcile', {
        QUEUE_URL: sqs.queueUrl, STATE_TABLE: state.tableName, RECORD_DAYS: '7', AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
        FRONT_API_URL: front.url, FRONT_API_TOKEN: 'right', FRONT_API_TOKEN_PARAM: '', POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      // Act
      const { lines } = await captureLogLines(() => handler({}, lambdaContext(30_000)));
      // Assess: only the fresh event is queued; the 9-day-old one, whose handler already ran, is not listed at all.
      assert.deepEqual((await sqs.drain(sqs.queueUrl)).map((m) => JSON.parse(m.Body ?? '{}').id), [fresh!.id]);
      const oldest = now - 6 * day; // records kept 7 days, less a day of margin
      const gap = lines.find((l) => l.message === 'front reconcile gap');
      assert.equal(gap?.level, 'WARN');
      assert.equal(gap?.reason, 'older_than_record_window');
      assert.equal(gap?.recordDays, 7);
      assert.equal(gap?.notCoveredAfter, new Date((now - 10 * day - 600) * 1000).toISOString(), 'the watermark less the overlap');
      assert.ok(Math.abs(Date.parse(String(gap?.notCoveredBefore)) / 1000 - oldest) < 60, `not covered up to ${String(gap?.notCoveredBefore)}`);
      assert.match(String(gap?.detail), /records are kept 7 days.*handler would run again.*--allow-reprocessing/);
      const run = lines.find((l) => l.message === 'front reconcile run');
      assert.equal(run?.level, 'WARN');
      assert.deepEqual([run?.complete, run?.seen, run?.alreadyProcessed, run?.enqueued], [true, 2, 1, 1]);
      assert.equal(run?.windowAfter, gap?.notCoveredBefore);
      assert.deepEqual([run?.notCoveredAfter, run?.notCoveredBefore], [gap?.notCoveredAfter, gap?.notCoveredBefore]);
      assert.ok((await createDynamoWatermark(dynamo, state.tableName).get())! > now - 120, 'the watermark moved on');
    } finally {
      await front.close();
      await sqs.stop();
      await state.stop();
    }
  });

  it('does nothing, and says so once, without a token', async () => {
    const sqs = await startTestSqs('notoken');
    const state = await startTestStore('notoken');
    try {
      const { handler } = await loadBundle<{ handler: (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<void> }>('reconcile', {
        QUEUE_URL: sqs.queueUrl, STATE_TABLE: state.tableName, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_ENDPOINT_URL_DYNAMODB: state.endpoint,
        FRONT_API_URL: 'http://127.0.0.1:9', FRONT_API_TOKEN: '', FRONT_API_TOKEN_PARAM: '', POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const { lines } = await captureLogLines(async () => { await handler({}, lambdaContext(30_000)); await handler({}, lambdaContext(30_000)); });
      assert.deepEqual(lines.filter((l) => String(l.message).startsWith('front reconcile')).map((l) => l.message), ['front reconcile off']);
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });
});

describe('preview hydration', () => {
  let t: TestStack;
  before(async () => {
    t = await startTestStack({ hydratePreviews: true, registry: defineHandlers({ default: record }), settings: { handlerTimeoutMs: 1000 } });
  });
  after(async () => { await t.stop(); });

  it('hands the handler the full event when Front sent a preview', async () => {
    // Prepare: the full event in Front's API; the webhook carries its preview.
    const full = sampleEvent({ type: 'tag' });
    t.stack.front.record(full);
    const preview = { ...sampleEvent({ type: 'tag', preview: true, id: full.id, conversationId: full.conversation?.id ?? null }) };
    // Act
    assert.equal((await t.post(preview)).status, 202);
    await t.waitProcessed([full.id]);
    // Assess
    assert.deepEqual({ ...seen.get(full.id)?.[0], _links: undefined }, { ...full, _links: undefined }, 'Front\'s API links to itself; the rest is the full event');
    const line = t.processed().find((l) => l.eventId === full.id);
    assert.equal(line?.preview, false);
    assert.equal(line?.hydrated, true);
  });

  it('retries a preview later when Front is rate limiting, without counting an attempt or dead-lettering it', async () => {
    // Prepare: Front answers the next request 429 with a wait longer than the handler's time (1 s).
    const full = sampleEvent({ type: 'tag' });
    t.stack.front.record(full);
    t.stack.front.forceRateLimit({ retryAfterSeconds: 2, count: 1 });
    const preview = sampleEvent({ type: 'tag', preview: true, id: full.id, conversationId: full.conversation?.id ?? null });
    // Act
    assert.equal((await t.post(preview)).status, 202);
    await t.waitProcessed([full.id], 20_000);
    // Assess
    const deferred = t.logs.filter((l) => l.message === 'front event deferred' && l.eventId === full.id);
    assert.deepEqual(deferred.map((l) => [l.reason, (l.retryInSeconds as number) >= 2]), [['front_rate_limited', true]]);
    assert.equal(t.logs.filter((l) => l.message === 'front event failed' && l.eventId === full.id).length, 0, 'not a handler failure');
    assert.equal(seen.get(full.id)?.length, 1);
    assert.equal(t.processed().find((l) => l.eventId === full.id)?.attempt, 1);
  });
});
