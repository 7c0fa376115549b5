import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  FrontApiClient,
  FrontAuthError,
  FrontNotFoundError,
  FrontRateLimitedError,
  FrontResponseError,
  FrontUnavailableError,
  formatSeconds,
  isTrustedFrontUrl,
  parseRateLimit,
  parseRetryAfter,
} from '../lib/front/api.ts';
import { InMemoryRateBudget } from '../lib/front/rate-budget.ts';
import { sampleEvent } from '../lib/front/samples.ts';
import type { FakeFront } from '../local/fake-front.ts';
import { clientFor, collect, eventsAt, FRONT_TOKEN, rejectionOf, startFake, T0 } from './helpers/front.ts';

const fakes: FakeFront[] = [];
async function fake(options: Parameters<typeof startFake>[0] = {}): Promise<FakeFront> {
  const started = await startFake(options);
  fakes.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe('listEvents: pagination, filters, window', () => {
  it('pages through 47 events, 15 at a time, oldest first, following _pagination.next to the end', async () => {
    // Prepare
    const front = await fake();
    const events = eventsAt(47, T0, 0.5);
    for (const event of shuffled(events)) front.record(event);
    const { client } = clientFor(front);
    // Act
    const pages = await collect(client.listEvents({ sortOrder: 'asc', limit: 15 }));
    // Assess
    assert.deepEqual(pages.map((p) => p.results.length), [15, 15, 15, 2]);
    assert.deepEqual(pages.flatMap((p) => p.results.map((e) => e.id)), events.map((e) => e.id));
    assert.deepEqual(pages.map((p) => p.next !== undefined), [true, true, true, false]);
    assert.equal(front.requests.length, 4);
    assert.equal(front.requests[0]?.query, '?limit=15&sort_by=created_at&sort_order=asc');
    for (const request of front.requests.slice(1)) assert.match(request.query, /^\?page_token=[\w-]+$/, 'next is requested exactly as given');
    assert.equal(pages[0]?.results[0]?._links?.self, `${front.url}/events/${events[0]?.id}`);
    assert.deepEqual(pages.map((p) => p.stats.attempts), [1, 1, 1, 1]);
  });

  it('defaults to newest first, and fetches a page only when the caller asks for it', async () => {
    // Prepare
    const front = await fake();
    const events = eventsAt(20);
    for (const event of events) front.record(event);
    const { client } = clientFor(front);
    // Act
    const firstPage = [];
    for await (const page of client.listEvents()) {
      firstPage.push(...page.results);
      break;
    }
    // Assess
    assert.deepEqual(firstPage.map((e) => e.id), events.slice(5).reverse().map((e) => e.id));
    assert.equal(front.requests.length, 1);
  });

  it('filters on types and inboxes, sent as repeated, bracket-encoded q[types] and q[inboxes]', async () => {
    // Prepare
    const front = await fake();
    const inbound = sampleEvent({ type: 'inbound', emittedAt: T0 + 1 }); // its source names its inbox
    const sourceInbox = (inbound.source?.data as Array<{ id: string }>)[0]?.id ?? '';
    const tagInSupport = sampleEvent({ type: 'tag', emittedAt: T0 + 2 });
    const tagElsewhere = sampleEvent({ type: 'tag', emittedAt: T0 + 3 });
    const assign = sampleEvent({ type: 'assign', emittedAt: T0 + 4 });
    front.record(inbound);
    front.record(tagInSupport, { inboxes: ['inb_support'] });
    front.record(tagElsewhere, { inboxes: ['inb_sales'] });
    front.record(assign, { inboxes: ['inb_support'] });
    const { client } = clientFor(front);
    const ids = async (query: Parameters<FrontApiClient['listEvents']>[0]) =>
      (await collect(client.listEvents({ sortOrder: 'asc', ...query }))).flatMap((p) => p.results.map((e) => e.id));
    // Act
    const byType = await ids({ types: ['inbound', 'tag'] });
    const byInbox = await ids({ inboxes: [sourceInbox, 'inb_support'] });
    const byBoth = await ids({ types: ['tag'], inboxes: ['inb_support'] });
    // Assess
    assert.deepEqual(byType, [inbound.id, tagInSupport.id, tagElsewhere.id]);
    assert.deepEqual(byInbox, [inbound.id, tagInSupport.id, assign.id]);
    assert.deepEqual(byBoth, [tagInSupport.id]);
    assert.match(front.requests[0]?.query ?? '', /q%5Btypes%5D=inbound&q%5Btypes%5D=tag/);
    assert.match(front.requests[1]?.query ?? '', new RegExp(`q%5Binboxes%5D=${sourceInbox}&q%5Binboxes%5D=inb_support`));
  });

  it('sends after/before as seconds with 3 decimals, and the fake excludes both bounds', async () => {
    // Prepare
    const front = await fake();
    const at = (offset: number) => sampleEvent({ emittedAt: T0 + offset });
    const [early, onAfter, justIn, middle, onBefore, late] = [at(0.999), at(1), at(1.001), at(2.5), at(3), at(3.0005)];
    for (const event of [early, onAfter, justIn, middle, onBefore, late]) front.record(event);
    const { client } = clientFor(front);
    // Act
    const inWindow = (await collect(client.listEvents({ after: T0 + 1, before: T0 + 3, sortOrder: 'asc' }))).flatMap((p) => p.results.map((e) => e.id));
    await collect(client.listEvents({ after: T0 + 1.2345, before: T0 + 2.0001 }));
    // Assess
    assert.deepEqual(inWindow, [justIn?.id, middle?.id]);
    assert.match(front.requests[0]?.query ?? '', new RegExp(`^\\?q%5Bafter%5D=${T0 + 1}&q%5Bbefore%5D=${T0 + 3}&limit=15`));
    assert.match(front.requests[1]?.query ?? '', new RegExp(`q%5Bafter%5D=${T0 + 1}\\.234&q%5Bbefore%5D=${T0 + 2}\\.001`), 'rounded outwards to the millisecond');
  });

  it('refuses a bad query before sending anything', async () => {
    const front = await fake();
    const { client } = clientFor(front);
    for (const query of [{ limit: 16 }, { limit: 0 }, { after: Date.now() }, { after: T0 + 5, before: T0 }]) {
      await assert.rejects(collect(client.listEvents(query)), RangeError, JSON.stringify(query));
    }
    assert.equal(front.requests.length, 0);
  });
});

describe('getEvent', () => {
  it('returns the full event, and FrontNotFoundError after one request for an unknown id', async () => {
    // Prepare
    const front = await fake();
    const event = sampleEvent({ type: 'tag' });
    front.record(event);
    const { client } = clientFor(front);
    // Act
    const found = await client.getEvent(event.id);
    const missing = await rejectionOf(client.getEvent('evt_missing'));
    // Assess
    assert.deepEqual(found.conversation, event.conversation);
    assert.equal(found.id, event.id);
    assert.ok(missing instanceof FrontNotFoundError);
    assert.equal(missing.status, 404);
    assert.match(missing.message, /GET \/events\/evt_missing.*404/);
    assert.deepEqual(front.requests.map((r) => r.status), [200, 404]);
  });
});

describe('rate limits', () => {
  it('honours a 429 storm: no request before each Retry-After has passed, then succeeds', async () => {
    // Prepare
    const front = await fake();
    const event = sampleEvent();
    front.record(event);
    front.forceRateLimit({ retryAfterSeconds: 1, count: 2 });
    const { client, activities } = clientFor(front);
    // Act
    const found = await client.getEvent(event.id);
    // Assess
    assert.equal(found.id, event.id);
    const log = front.requests;
    assert.deepEqual(log.map((r) => r.status), [429, 429, 200]);
    for (let i = 1; i < log.length; i++) {
      const gap = (log[i]?.at ?? 0) - (log[i - 1]?.at ?? 0);
      assert.ok(gap >= 1000, `request ${i} came ${gap} ms after a 429 with Retry-After: 1`);
    }
    assert.equal(log.filter((r) => r.beforeRetryAfter).length, 0);
    assert.deepEqual(activities.filter((a) => a.kind === 'rate_limit_pause').map((a) => a.kind === 'rate_limit_pause' && a.cause), ['retry_after', 'retry_after']);
  });

  it("pauses every caller of the budget: a second client's request waits for the first one's Retry-After", async () => {
    // Prepare
    const front = await fake();
    const [first, second] = eventsAt(2);
    front.record(first!);
    front.record(second!);
    front.forceRateLimit({ retryAfterSeconds: 1, count: 1 });
    const budget = new InMemoryRateBudget(600, { burstPerSecond: 50 });
    const other = clientFor(front, { budget });
    let secondCall: Promise<unknown> | undefined;
    const { client } = clientFor(front, {
      budget,
      // The other caller starts once Front has told the first one to wait.
      onEvent: (a) => { if (a.kind === 'rate_limit_pause') secondCall ??= other.client.getEvent(second!.id); },
    });
    // Act
    await client.getEvent(first!.id);
    await secondCall;
    // Assess
    const rateLimited = front.requests.find((r) => r.status === 429);
    const secondRequests = front.requests.filter((r) => r.path === `/events/${second!.id}`);
    assert.ok(rateLimited && secondCall);
    assert.deepEqual(secondRequests.map((r) => r.status), [200]);
    const secondAt = secondRequests[0]?.at ?? 0;
    assert.ok(secondAt >= rateLimited.at + 1000, `the second caller came ${secondAt - rateLimited.at} ms after the 429 (Retry-After: 1)`);
    assert.ok(other.activities.some((a) => a.kind === 'budget_wait' && a.waitedMs >= 900));
    assert.equal(front.requests.filter((r) => r.status === 429).length, 1);
  });

  it('when Front has no requests left (x-ratelimit-remaining: 0), waits for x-ratelimit-reset instead of earning a 429', async () => {
    // Prepare: Front allows 2 requests a second; the budget alone would allow many more.
    const front = await fake({ requestsPerMinute: 2, rateWindowMs: 1000 });
    const event = sampleEvent();
    front.record(event);
    const { client, activities } = clientFor(front);
    // Act
    for (let i = 0; i < 3; i++) await client.getEvent(event.id);
    // Assess
    const log = front.requests;
    assert.deepEqual(log.map((r) => r.status), [200, 200, 200]);
    const resetAt = Math.ceil(((log[0]?.at ?? 0) + 1000) / 1000) * 1000;
    assert.ok((log[2]?.at ?? 0) >= resetAt, `third request at ${log[2]?.at}, before the reset at ${resetAt}`);
    assert.ok(activities.some((a) => a.kind === 'rate_limit_pause' && a.cause === 'remaining_zero'));
  });

  it('throws FrontRateLimitedError with retryAfterMs, at once, when the budget has no room before the deadline', async () => {
    // Prepare
    const front = await fake();
    const event = sampleEvent();
    front.record(event);
    const { client } = clientFor(front, { budget: new InMemoryRateBudget(2) });
    await client.getEvent(event.id);
    await client.getEvent(event.id);
    const started = Date.now();
    // Act
    const error = await rejectionOf(client.getEvent(event.id, { deadlineAt: Date.now() + 2000 }));
    // Assess
    assert.ok(error instanceof FrontRateLimitedError, String(error));
    assert.ok(error.retryAfterMs > 59_000 && error.retryAfterMs <= 60_000, `retryAfterMs ${error.retryAfterMs}`);
    assert.match(error.message, /budget of 2 requests per 60 s is spent.*try again after retryAfterMs/);
    assert.ok(Date.now() - started < 1000, 'it did not sit out the deadline');
    assert.equal(front.requests.length, 2);
  });

  it('waits for the budget when the deadline allows', async () => {
    // Prepare: 2 requests per 300 ms window.
    const front = await fake();
    const event = sampleEvent();
    front.record(event);
    const { client } = clientFor(front, { budget: new InMemoryRateBudget(2, { windowMs: 300 }) });
    const started = Date.now();
    // Act
    await Promise.all([0, 1, 2].map(() => client.getEvent(event.id, { deadlineAt: Date.now() + 2000 })));
    // Assess
    const times = front.requests.map((r) => r.at - started).sort((a, b) => a - b);
    assert.equal(times.length, 3);
    assert.ok((times[1] ?? Infinity) < 200, `the second request waited ${times[1]} ms though the window had room`);
    assert.ok((times[2] ?? 0) >= 300, `the third request came ${times[2]} ms after the calls, inside the first 300 ms window`);
  });

  it('throws FrontRateLimitedError when a Retry-After ends past the deadline, and the shared pause stops other callers too', async () => {
    // Prepare
    const front = await fake();
    const event = sampleEvent();
    front.record(event);
    front.forceRateLimit({ retryAfterSeconds: 2, count: 1 });
    const budget = new InMemoryRateBudget(600, { burstPerSecond: 50 });
    const { client } = clientFor(front, { budget });
    const other = clientFor(front, { budget });
    // Act
    const error = await rejectionOf(client.getEvent(event.id, { deadlineAt: Date.now() + 300 }));
    const otherError = await rejectionOf(other.client.getEvent(event.id, { deadlineAt: Date.now() + 300 }));
    // Assess
    for (const e of [error, otherError]) {
      assert.ok(e instanceof FrontRateLimitedError, String(e));
      assert.ok(e.retryAfterMs > 1500 && e.retryAfterMs <= 2000, `retryAfterMs ${e.retryAfterMs}`);
    }
    assert.deepEqual(front.requests.map((r) => r.status), [429], 'the other caller sent nothing');
  });
});

describe('failures', () => {
  it('a bad token gives FrontAuthError after exactly one request, and again only one on the next call', async () => {
    // Prepare
    const front = await fake();
    front.record(sampleEvent());
    const { client } = clientFor(front, { token: async () => 'not-the-token' });
    // Act
    const error = await rejectionOf(collect(client.listEvents({ deadlineAt: Date.now() + 3000 })));
    // Assess
    assert.ok(error instanceof FrontAuthError, String(error));
    assert.equal(error.status, 401);
    assert.match(error.message, /FRONT_API_TOKEN.*retrying will not help/);
    assert.equal(front.requests.length, 1);
    await assert.rejects(client.getEvent('evt_1'), FrontAuthError);
    assert.equal(front.requests.length, 2);
  });

  it('no token configured: FrontAuthError without sending anything', async () => {
    const front = await fake();
    const { client } = clientFor(front, { token: async () => undefined });
    const error = await rejectionOf(client.getEvent('evt_1'));
    assert.ok(error instanceof FrontAuthError);
    assert.match(error.message, /no Front API token is configured.*FRONT_API_TOKEN/);
    assert.equal(front.requests.length, 0);
  });

  it('retries a 5xx twice, then throws FrontUnavailableError; succeeds when Front recovers in time', async () => {
    // Prepare
    const front = await fake();
    const event = sampleEvent();
    front.record(event);
    const { client, activities } = clientFor(front);
    front.failNext({ count: 10, status: 503 });
    // Act
    const error = await rejectionOf(client.getEvent(event.id));
    // Assess
    assert.ok(error instanceof FrontUnavailableError, String(error));
    assert.equal(error.status, 503);
    assert.match(error.message, /failed 3 times, last with 503.*try again later/);
    assert.deepEqual(front.requests.map((r) => r.status), [503, 503, 503]);
    assert.equal(activities.filter((a) => a.kind === 'retry').length, 2);

    // Act: Front fails twice, then answers.
    front.failNext({ count: 2, status: 502 });
    const pages = await collect(client.listEvents());
    // Assess
    assert.equal(pages[0]?.stats.attempts, 3);
    assert.deepEqual(front.requests.slice(3).map((r) => r.status), [502, 502, 200]);
  });

  it('a hung request times out within the bound, retries included', async () => {
    // Prepare
    const front = await fake();
    front.hangNext({ count: 10 });
    const { client, activities } = clientFor(front, { requestTimeoutMs: 200, maxRetries: 2 });
    const started = Date.now();
    // Act
    const error = await rejectionOf(client.getEvent('evt_1'));
    // Assess
    const elapsed = Date.now() - started;
    assert.ok(error instanceof FrontUnavailableError, String(error));
    assert.match(error.message, /no complete answer within 200 ms/);
    assert.ok(elapsed >= 600 && elapsed < 1500, `gave up after ${elapsed} ms (3 attempts of 200 ms and two short delays)`);
    assert.equal(front.requests.length, 3);
    assert.deepEqual(activities.filter((a) => a.kind === 'request_failed').map((a) => a.kind === 'request_failed' && a.reason), ['timeout', 'timeout', 'timeout']);
  });

  it("a hung request ends at the caller's deadline, well before the request timeout", async () => {
    const front = await fake();
    front.hangNext({ count: 10 });
    const { client } = clientFor(front, { requestTimeoutMs: 5000 });
    const started = Date.now();
    const error = await rejectionOf(client.getEvent('evt_1', { deadlineAt: started + 300 }));
    const elapsed = Date.now() - started;
    assert.ok(error instanceof FrontUnavailableError, String(error));
    assert.ok(elapsed >= 290 && elapsed < 1000, `gave up after ${elapsed} ms; the deadline was 300 ms`);
    assert.equal(front.requests.length, 1);
  });

  it('refuses a next URL on another host: the token is never sent there', async (t) => {
    // Prepare: a trap on another loopback port records whatever reaches it.
    const trapped: IncomingHttpHeaders[] = [];
    const trap = createServer((req, res) => { trapped.push(req.headers); res.end('{}'); });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => trap.close(() => resolve())));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const front = await fake();
    for (const event of eventsAt(20)) front.record(event);
    front.rewriteNextUrl((next) => next.replace(front.url, trapUrl));
    const { client, activities } = clientFor(front);
    // Act
    const error = await rejectionOf(collect(client.listEvents()));
    // Assess
    assert.ok(error instanceof FrontResponseError, String(error));
    assert.match(error.message, /127\.0\.0\.1:\d+, which is neither .* the API token was not sent there/);
    assert.equal(trapped.length, 0);
    assert.equal(front.requests.length, 1);
    assert.ok(activities.some((a) => a.kind === 'next_url_refused'));
  });
});

describe('pieces', () => {
  it('trusts the configured origin exactly and https *.frontapp.com, nothing else', () => {
    const fakeBase = new URL('http://127.0.0.1:4010');
    const frontBase = new URL('https://api2.frontapp.com');
    const trusted = (candidate: string, base: URL) => isTrustedFrontUrl(new URL(candidate), base);
    assert.ok(trusted('http://127.0.0.1:4010/events?page_token=a', fakeBase));
    assert.ok(trusted('https://acme.api.frontapp.com/events?page_token=a', fakeBase));
    assert.ok(trusted('https://api2.frontapp.com/events', frontBase));
    assert.ok(trusted('https://acme.api.frontapp.com/events', frontBase));
    for (const candidate of [
      'http://127.0.0.1:4011/events', 'http://localhost:4010/events', 'http://acme.api.frontapp.com/events',
      'https://frontapp.com.evil.example/events', 'https://evilfrontapp.com/events', 'https://api2.frontapp.com.evil.example/',
      'https://user:pw@api2.frontapp.com/events', 'https://evil.example/?next=.frontapp.com',
    ]) {
      assert.equal(trusted(candidate, frontBase), false, candidate);
      assert.equal(trusted(candidate, fakeBase), false, candidate);
    }
  });

  it('reads Retry-After as seconds or an HTTP-date, and x-ratelimit-reset as Unix seconds', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('20', now), 20_000);
    assert.equal(parseRetryAfter(' 1.5 ', now), 1500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    const headers = new Headers({ 'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1454450858' });
    assert.deepEqual(parseRateLimit(headers), { limit: 50, remaining: 0, resetAt: 1_454_450_858_000 });
    assert.deepEqual(parseRateLimit(new Headers()), {});
  });

  it('formats seconds with at most 3 decimals, rounding the window outwards', () => {
    assert.equal(formatSeconds(T0, 'down'), String(T0));
    assert.equal(formatSeconds(T0 + 0.1239, 'down'), `${T0}.123`);
    assert.equal(formatSeconds(T0 + 0.1231, 'up'), `${T0}.124`);
    for (const round of ['down', 'up'] as const) assert.equal(formatSeconds(T0 + 1.001, round), `${T0 + 1}.001`, round);
  });

  it('refuses a base URL that would send the token in clear, and out-of-range options', () => {
    const budget = new InMemoryRateBudget(20);
    const token = async () => FRONT_TOKEN;
    assert.throws(() => new FrontApiClient({ baseUrl: 'http://api2.frontapp.com', token, budget }), /in clear/);
    assert.throws(() => new FrontApiClient({ baseUrl: 'not a url', token, budget }), /not a URL/);
    assert.throws(() => new FrontApiClient({ token, budget, requestTimeoutMs: 60_000 }), RangeError);
    assert.throws(() => new FrontApiClient({ token, budget, maxRetries: 50 }), RangeError);
    assert.equal(new FrontApiClient({ token, budget }).baseUrl.href, 'https://api2.frontapp.com/');
  });
});
