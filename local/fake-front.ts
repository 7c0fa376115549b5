/**
 * A fake of Front's Core API events endpoints, in-process on 127.0.0.1, for `npm start` and the tests:
 * `GET /events` (filters, pagination, sorting), `GET /events/{id}`, bearer auth, and Front's rate limiting
 * (x-ratelimit-* headers, 429 + Retry-After). Events get in through `record()` or, from another process,
 * `POST /_fake/events`. Test hooks force 429 storms, 5xx answers and hung requests; every Front API request
 * is logged (time, method, path, status) so tests can check when requests arrived. `GET /_fake/events` lists
 * what was recorded.
 *
 * Where Front documents nothing, the fake takes the stricter reading, so code that works against it also
 * works against Front:
 * - `q[after]` and `q[before]` are both EXCLUSIVE (`after < emitted_at < before`): a reconciler must overlap
 *   its windows and deduplicate on the event id, which it needs anyway if Front's bounds are inclusive.
 * - `_pagination.next` carries only a `page_token` (like Front's example); the token holds the query and a
 *   cursor after the last event returned, so events recorded meanwhile neither repeat nor shift pages.
 *   With a `page_token`, the other query parameters are ignored.
 * - Rate limiting uses a fixed window that starts with the first request after the previous one ended;
 *   `x-ratelimit-reset` is that window's end in Unix seconds, rounded up. Only answered requests count
 *   (not 401s, 429s or forced failures).
 *
 * Run it alone: `FRONT_API_TOKEN=… node --import tsx local/fake-front.ts` (port FAKE_FRONT_PORT, default 3030).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { EVENTS_PAGE_LIMIT } from '../lib/front/api.ts';
import type { FrontEventBody } from '../lib/front/event.ts';

export interface FakeFrontOptions {
  /** The API token requests must carry as `Authorization: Bearer <token>`. */
  token: string;
  /** Default 0: any free port. The fake listens on 127.0.0.1 only. */
  port?: number;
  /** Front's per-company limit; default 50 (Front's smallest plan). */
  requestsPerMinute?: number;
  /** The window `requestsPerMinute` counts over; default 60 000 ms, shorter in tests. */
  rateWindowMs?: number;
}

export interface FakeFrontRequest {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  /** Path without the query, e.g. `/events` or `/events/evt_1`. */
  path: string;
  /** The raw query string as received (`?q%5Btypes%5D=…`), or ''. */
  query: string;
  /** The status answered; 0 for a request the fake hung up on. */
  status: number;
  /** Seconds, on a 429. */
  retryAfterSeconds?: number;
  /** True when it arrived before a Retry-After the fake had given had elapsed. */
  beforeRetryAfter: boolean;
}

export interface RecordOptions {
  /** Inbox ids the event occurred in, for `q[inboxes]`; default: the inboxes named by its source or target. */
  inboxes?: readonly string[];
}

export interface FakeFront {
  /** `http://127.0.0.1:<port>`: pass it as the client's baseUrl (FRONT_API_URL). */
  readonly url: string;
  /** Every Front API request, in arrival order (not the `/_fake/*` ones). */
  readonly requests: readonly FakeFrontRequest[];
  /** Records an event as Front would have emitted it; false if its id was already recorded (kept as first seen). */
  record(event: FrontEventBody, options?: RecordOptions): boolean;
  /** The next `count` authenticated requests get 429 with `Retry-After: retryAfterSeconds`. */
  forceRateLimit(options: { retryAfterSeconds: number; count: number }): void;
  /** The next `count` authenticated requests get `status` (default 503) with Front's error shape. */
  failNext(options: { count: number; status?: number }): void;
  /** The next `count` authenticated requests are never answered (until the client gives up or the fake closes). */
  hangNext(options: { count: number }): void;
  /** Rewrites each `_pagination.next` before it is sent, e.g. to point it at another host. */
  rewriteNextUrl(rewrite: ((next: string) => string) | undefined): void;
  /** Forgets events, requests, hooks and the rate-limit window. */
  reset(): void;
  close(): Promise<void>;
}

interface StoredEvent {
  event: FrontEventBody;
  emittedAt: number;
  /** Recording order, the tie-breaker between events emitted in the same millisecond. */
  seq: number;
  inboxes: ReadonlySet<string>;
}

/** Everything a `page_token` has to carry for the next page. */
interface ListQuery {
  after?: number;
  before?: number;
  types: string[];
  inboxes: string[];
  order: 'asc' | 'desc';
  limit: number;
  cursor?: { emittedAt: number; seq: number };
}

class BadRequest extends Error {}

const MAX_POST_BYTES = 10 * 1024 * 1024;

const TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Unauthorized', 404: 'Not found', 405: 'Method not allowed', 413: 'Payload too large',
  429: 'Too many requests', 500: 'Internal server error', 502: 'Bad gateway', 503: 'Service unavailable', 504: 'Gateway timeout',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Inbox ids named by a `source`/`target` whose `_meta.type` is `inboxes` (`data` is an array of inboxes). */
function inboxesOf(ref: unknown): string[] {
  if (!isObject(ref) || !isObject(ref._meta) || ref._meta.type !== 'inboxes') return [];
  const data = Array.isArray(ref.data) ? ref.data : [ref.data];
  const ids = data.map((inbox) => (isObject(inbox) && typeof inbox.id === 'string' ? inbox.id : undefined));
  if (typeof ref.id === 'string') ids.push(ref.id);
  return ids.filter((id): id is string => id !== undefined);
}

function compareKey(a: { emittedAt: number; seq: number }, b: { emittedAt: number; seq: number }): number {
  return a.emittedAt - b.emittedAt || a.seq - b.seq;
}

function seconds(name: string, value: string | null): number | undefined {
  if (value === null) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new BadRequest(`${name} must be a timestamp in seconds with up to 3 decimal places, not ${JSON.stringify(value)}`);
  }
  return number;
}

function parseListQuery(params: URLSearchParams): ListQuery {
  const token = params.get('page_token');
  if (token !== null) {
    try {
      const query = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ListQuery;
      if (!isObject(query) || !Array.isArray(query.types) || typeof query.limit !== 'number') throw new Error('shape');
      return query;
    } catch {
      throw new BadRequest('page_token is invalid: use _pagination.next exactly as given');
    }
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? EVENTS_PAGE_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > EVENTS_PAGE_LIMIT) {
    throw new BadRequest(`limit must be an integer between 1 and ${EVENTS_PAGE_LIMIT}, not ${JSON.stringify(limitText)}`);
  }
  const sortBy = params.get('sort_by');
  if (sortBy !== null && sortBy !== 'created_at') throw new BadRequest(`sort_by only supports created_at, not ${JSON.stringify(sortBy)}`);
  const order = params.get('sort_order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new BadRequest(`sort_order must be asc or desc, not ${JSON.stringify(order)}`);
  const after = seconds('q[after]', params.get('q[after]'));
  const before = seconds('q[before]', params.get('q[before]'));
  return {
    ...(after !== undefined && { after }),
    ...(before !== undefined && { before }),
    types: params.getAll('q[types]'),
    inboxes: params.getAll('q[inboxes]'),
    order,
    limit,
  };
}

export async function startFakeFront(options: FakeFrontOptions): Promise<FakeFront> {
  const requestsPerMinute = options.requestsPerMinute ?? 50;
  const rateWindowMs = options.rateWindowMs ?? 60_000;
  if (!options.token) throw new TypeError('startFakeFront: a token is required (what clients must send as Bearer)');
  if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 1) throw new RangeError(`startFakeFront: requestsPerMinute must be a positive integer, not ${requestsPerMinute}`);

  const stored: StoredEvent[] = [];
  const byId = new Map<string, StoredEvent>();
  const requests: FakeFrontRequest[] = [];
  const hung = new Set<ServerResponse>();
  let seq = 0;
  let forced = { count: 0, retryAfterSeconds: 1 };
  let failures = { count: 0, status: 503 };
  let hangs = 0;
  let rewriteNext: ((next: string) => string) | undefined;
  let window = { start: 0, end: 0, used: 0 };
  /** Epoch ms before which a client should not come back (the latest Retry-After given). */
  let retryAfterUntil = 0;
  let url = '';

  const record = (event: FrontEventBody, recordOptions: RecordOptions = {}): boolean => {
    if (!isObject(event) || typeof event.id !== 'string' || event.id === '' || typeof event.type !== 'string') {
      throw new TypeError('a Front event needs a string id (evt_…) and a string type');
    }
    if (byId.has(event.id)) return false;
    // Front always sets emitted_at; an event recorded without one was emitted now.
    const emittedAt = typeof event.emitted_at === 'number' && Number.isFinite(event.emitted_at) ? event.emitted_at : Date.now() / 1000;
    const inboxes = new Set(recordOptions.inboxes ?? [...inboxesOf(event.source), ...inboxesOf(event.target)]);
    const entry: StoredEvent = { event: structuredClone({ ...event, emitted_at: emittedAt }), emittedAt, seq: seq++, inboxes };
    stored.push(entry);
    byId.set(event.id, entry);
    return true;
  };

  /** The event as served: as recorded, with `_links.self` pointing at this fake. */
  const served = (entry: StoredEvent): FrontEventBody => ({
    ...entry.event,
    _links: { ...entry.event._links, self: `${url}/events/${encodeURIComponent(entry.event.id)}` },
  });

  const windowAt = (now: number) => {
    if (now >= window.end) window = { start: now, end: now + rateWindowMs, used: 0 };
    return window;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const frontError = (status: number, message: string) => ({ _error: { status, title: TITLES[status] ?? 'Error', message } });

  const listEvents = (params: URLSearchParams, selfUrl: string) => {
    const query = parseListQuery(params);
    const matching = stored
      .filter((e) => query.after === undefined || e.emittedAt > query.after)
      .filter((e) => query.before === undefined || e.emittedAt < query.before)
      .filter((e) => query.types.length === 0 || query.types.includes(e.event.type))
      .filter((e) => query.inboxes.length === 0 || query.inboxes.some((inbox) => e.inboxes.has(inbox)))
      .sort((a, b) => (query.order === 'asc' ? compareKey(a, b) : compareKey(b, a)))
      .filter((e) => !query.cursor || (query.order === 'asc' ? compareKey(e, query.cursor) > 0 : compareKey(e, query.cursor) < 0));
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    let next: string | null = null;
    if (last && matching.length > page.length) {
      const token = Buffer.from(JSON.stringify({ ...query, cursor: { emittedAt: last.emittedAt, seq: last.seq } })).toString('base64url');
      next = `${url}/events?page_token=${token}`;
      if (rewriteNext) next = rewriteNext(next);
    }
    return { _pagination: { next }, _links: { self: selfUrl }, _results: page.map(served) };
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_POST_BYTES) {
        reject(new BadRequest(`the body is over ${MAX_POST_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

  /** `POST /_fake/events`: one event, an array, or `{event, inboxes}` items (the fake-only way to set inboxes). */
  const recordFromRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (error) {
      send(res, 400, frontError(400, error instanceof BadRequest ? error.message : 'the body is not JSON: send one Front event, an array of them, or {"event": …, "inboxes": ["inb_…"]} items'));
      return;
    }
    const items = Array.isArray(body) ? body : [body];
    const recorded: string[] = [];
    const duplicates: string[] = [];
    for (const [index, item] of items.entries()) {
      const wrapped = isObject(item) && isObject(item.event) && item.id === undefined;
      const event = (wrapped ? item.event : item) as FrontEventBody;
      const inboxes = wrapped && Array.isArray(item.inboxes) ? item.inboxes.filter((id): id is string => typeof id === 'string') : undefined;
      try {
        (record(event, inboxes ? { inboxes } : {}) ? recorded : duplicates).push(event.id);
      } catch (error) {
        send(res, 400, frontError(400, `item ${index}: ${error instanceof Error ? error.message : String(error)}; nothing after it was recorded`));
        return;
      }
    }
    send(res, 201, { recorded, duplicates });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const requestUrl = new URL(req.url ?? '/', url);
    const path = requestUrl.pathname;
    if (path === '/_fake/events') {
      // GET: every recorded event, oldest first, as `{event, inboxes}` items (what POST takes back): the local
      // stack keeps them across restarts under .local/.
      if (req.method === 'GET') return send(res, 200, [...stored].sort((a, b) => a.seq - b.seq).map((e) => ({ event: e.event, inboxes: [...e.inboxes] })));
      if (req.method !== 'POST') return send(res, 405, frontError(405, 'POST one Front event, or an array, to /_fake/events (GET lists them)'), { allow: 'GET, POST' });
      return recordFromRequest(req, res);
    }
    const entry: FakeFrontRequest = { at, method: req.method ?? '', path, query: requestUrl.search, status: 0, beforeRetryAfter: at < retryAfterUntil };
    requests.push(entry);
    const current = windowAt(at);
    const rateHeaders = (): Record<string, string> => ({
      'x-ratelimit-limit': String(requestsPerMinute),
      'x-ratelimit-remaining': String(Math.max(0, requestsPerMinute - current.used)),
      'x-ratelimit-reset': String(Math.ceil(current.end / 1000)),
    });
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      entry.status = status;
      send(res, status, body, { ...rateHeaders(), ...extra });
    };
    const tooMany = (retryAfterSeconds: number): void => {
      entry.retryAfterSeconds = retryAfterSeconds;
      retryAfterUntil = Math.max(retryAfterUntil, at + retryAfterSeconds * 1000);
      answer(429, frontError(429, `Rate limit exceeded: retry after ${retryAfterSeconds} seconds`), { 'retry-after': String(retryAfterSeconds), 'x-ratelimit-remaining': '0' });
    };

    const authorization = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    if (!match || match[1] !== options.token) {
      return answer(401, frontError(401, 'Invalid or missing API token: send Authorization: Bearer <API token>'));
    }
    if (hangs > 0) {
      hangs -= 1;
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (failures.count > 0) {
      failures.count -= 1;
      return answer(failures.status, frontError(failures.status, 'Fake failure forced by failNext()'));
    }
    if (forced.count > 0) {
      forced.count -= 1;
      return tooMany(forced.retryAfterSeconds);
    }
    if (current.used >= requestsPerMinute) return tooMany(Math.max(1, Math.ceil((current.end - at) / 1000)));
    current.used += 1;

    if (req.method !== 'GET') return answer(405, frontError(405, `${req.method} is not allowed on ${path}`), { allow: 'GET' });
    if (path === '/events') {
      try {
        return answer(200, listEvents(requestUrl.searchParams, requestUrl.href));
      } catch (error) {
        if (error instanceof BadRequest) return answer(400, frontError(400, error.message));
        throw error;
      }
    }
    const eventPath = /^\/events\/([^/]+)$/.exec(path);
    if (eventPath?.[1] !== undefined) {
      const found = byId.get(decodeURIComponent(eventPath[1]));
      return found ? answer(200, served(found)) : answer(404, frontError(404, `Event ${decodeURIComponent(eventPath[1])} not found`));
    }
    return answer(404, frontError(404, `The fake serves only GET /events and GET /events/{event_id}, not ${path}`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, frontError(500, `fake-front bug: ${error instanceof Error ? error.message : String(error)}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    record,
    forceRateLimit({ retryAfterSeconds, count }) {
      if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) throw new RangeError('forceRateLimit: retryAfterSeconds must be whole seconds, as Front sends them');
      forced = { count, retryAfterSeconds };
    },
    failNext({ count, status = 503 }) {
      failures = { count, status };
    },
    hangNext({ count }) {
      hangs = count;
    },
    rewriteNextUrl(rewrite) {
      rewriteNext = rewrite;
    },
    reset() {
      stored.length = 0;
      byId.clear();
      requests.length = 0;
      forced = { count: 0, retryAfterSeconds: 1 };
      failures = { count: 0, status: 503 };
      hangs = 0;
      rewriteNext = undefined;
      window = { start: 0, end: 0, used: 0 };
      retryAfterUntil = 0;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const token = process.env.FRONT_API_TOKEN;
  if (!token) {
    console.error('FRONT_API_TOKEN is not set: set it to the token clients of the fake will send (any string).');
    process.exit(2);
  }
  const fake = await startFakeFront({ token, port: Number(process.env.FAKE_FRONT_PORT ?? 3030) });
  console.log(`fake Front API on ${fake.url} (GET /events, GET /events/{id}); record events with POST ${fake.url}/_fake/events`);
  const stop = () => { fake.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
