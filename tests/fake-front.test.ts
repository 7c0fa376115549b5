import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sampleEvent } from '../lib/front/samples.ts';
import type { FakeFront } from '../local/fake-front.ts';
import { eventsAt, FRONT_TOKEN, startFake, T0 } from './helpers/front.ts';

/** The fake spoken to directly, as another process (or Front's docs) would: no client in between. */
let front: FakeFront;
before(async () => { front = await startFake(); });
after(async () => { await front.close(); });
beforeEach(() => front.reset());

const auth = { authorization: `Bearer ${FRONT_TOKEN}` };

async function get(path: string, headers: Record<string, string> = auth) {
  const response = await fetch(`${front.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

describe('fake Front API', () => {
  it('listens on 127.0.0.1 only', () => {
    assert.match(front.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers like Front: _pagination.next as a full URL, _links.self, _results; rate-limit headers on every answer', async () => {
    // Prepare
    for (const event of eventsAt(16)) front.record(event);
    // Act
    const page = await get('/events?q%5Btypes%5D=inbound');
    // Assess
    assert.equal(page.status, 200);
    assert.deepEqual(Object.keys(page.json).sort(), ['_links', '_pagination', '_results']);
    assert.equal((page.json._results as unknown[]).length, 15);
    assert.match(String((page.json._pagination as { next: string }).next), new RegExp(`^${front.url}/events\\?page_token=`));
    assert.equal((page.json._links as { self: string }).self, `${front.url}/events?q%5Btypes%5D=inbound`);
    assert.equal(page.headers.get('x-ratelimit-limit'), '50');
    assert.equal(page.headers.get('x-ratelimit-remaining'), '49');
    assert.ok(Number(page.headers.get('x-ratelimit-reset')) * 1000 > Date.now());
    const next = new URL(String((page.json._pagination as { next: string }).next));
    const last = await get(`${next.pathname}${next.search}`);
    assert.deepEqual(last.json._pagination, { next: null });
  });

  it("answers errors in Front's shape: 400 for limit over 15, 401 without the token, 404 for an unknown event", async () => {
    const tooMany = await get('/events?limit=16');
    const noToken = await get('/events', {});
    const wrongToken = await get('/events', { authorization: 'Bearer nope' });
    const missing = await get('/events/evt_missing');
    assert.deepEqual(tooMany.json, { _error: { status: 400, title: 'Bad request', message: 'limit must be an integer between 1 and 15, not "16"' } });
    for (const [answer, status] of [[tooMany, 400], [noToken, 401], [wrongToken, 401], [missing, 404]] as const) {
      assert.equal(answer.status, status);
      assert.equal((answer.json._error as { status: number }).status, status);
      assert.equal(typeof (answer.json._error as { message: unknown }).message, 'string');
      assert.ok(answer.headers.has('x-ratelimit-remaining'));
    }
    assert.deepEqual(front.requests.map((r) => [r.path, r.status]), [['/events', 400], ['/events', 401], ['/events', 401], ['/events/evt_missing', 404]]);
  });

  it('records events posted by another process, one, an array, or with explicit inboxes; duplicates are kept once', async () => {
    // Prepare
    const [a, b, c] = eventsAt(3);
    const post = (body: unknown) => fetch(`${front.url}/_fake/events`, { method: 'POST', body: JSON.stringify(body) });
    // Act
    const one = await post(a);
    const many = await post([b, { event: c, inboxes: ['inb_vip'] }, a]);
    const bad = await post({ type: 'inbound' });
    // Assess
    assert.equal(one.status, 201);
    assert.deepEqual(await many.json(), { recorded: [b?.id, c?.id], duplicates: [a?.id] });
    assert.equal(bad.status, 400);
    const vip = await get('/events?q%5Binboxes%5D=inb_vip');
    assert.deepEqual((vip.json._results as Array<{ id: string }>).map((e) => e.id), [c?.id]);
    const fetched = await get(`/events/${a?.id}`);
    assert.equal((fetched.json._links as { self: string }).self, `${front.url}/events/${a?.id}`);
    assert.deepEqual(fetched.json.conversation, a?.conversation);
    assert.equal(front.requests.filter((r) => r.path.startsWith('/_fake')).length, 0, 'fake-only routes are not in the request log');
  });

  it('excludes events exactly on q[after] and q[before], and reads decimals', async () => {
    for (const offset of [0.5, 1, 1.0005, 1.25, 2]) front.record(sampleEvent({ emittedAt: T0 + offset }));
    const page = await get(`/events?q%5Bafter%5D=${T0 + 1}&q%5Bbefore%5D=${T0 + 2}&sort_order=asc`);
    assert.deepEqual((page.json._results as Array<{ emitted_at: number }>).map((e) => e.emitted_at), [T0 + 1.0005, T0 + 1.25]);
  });

  it('answers 429 with Retry-After once the per-minute limit is spent, and logs which requests came too early', async (t) => {
    // Prepare
    const limited = await startFake({ requestsPerMinute: 2 });
    t.after(() => limited.close());
    const call = () => fetch(`${limited.url}/events`, { headers: auth });
    // Act
    const answers = [await call(), await call(), await call(), await call()];
    // Assess
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 429, 429]);
    assert.deepEqual(answers.map((r) => r.headers.get('x-ratelimit-remaining')), ['1', '0', '0', '0']);
    const retryAfter = Number(answers[2]?.headers.get('retry-after'));
    assert.ok(retryAfter >= 59 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.deepEqual((await answers[2]?.json()) as unknown, { _error: { status: 429, title: 'Too many requests', message: `Rate limit exceeded: retry after ${retryAfter} seconds` } });
    assert.deepEqual(limited.requests.map((r) => r.beforeRetryAfter), [false, false, false, true]);
  });
});
