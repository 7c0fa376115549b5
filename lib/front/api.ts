import {
  FrontAuthError,
  FrontNotFoundError,
  FrontRateLimitedError,
  FrontRequestError,
  FrontResponseError,
  FrontUnavailableError,
} from './api-errors.ts';
import type { FrontEventBody } from './event.ts';
import { systemClock, type Clock, type RateBudget } from './rate-budget.ts';

export * from './api-errors.ts';
export { InMemoryRateBudget, systemClock, type Clock, type RateBudget } from './rate-budget.ts';

/**
 * A client of Front's Core API for what this project needs: listing events (reconciliation) and reading one
 * event (preview hydration, events too large for SQS). Every request goes through the deployment's shared
 * RateBudget, honours Front's Retry-After and x-ratelimit-* headers, and is bounded in time.
 */

export const FRONT_API_BASE_URL = 'https://api2.frontapp.com';

/**
 * The deployment's default share of Front's per-company limit: 20 of the 50 requests per minute the smallest
 * plan gets (100 and 200 on larger plans), so the customer's other integrations keep most of it.
 */
export const DEFAULT_REQUESTS_PER_MINUTE = 20;

/** One attempt, connect to last body byte. Lambda callers also pass their own deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
export const MAX_REQUEST_TIMEOUT_MS = 30_000;
/** Retries after a 5xx, network failure or timeout; 401/403/404/4xx are never retried, 429 waits instead. */
export const DEFAULT_MAX_RETRIES = 2;
const MAX_RETRIES_CEILING = 5;
/** How long one call may wait for the budget or a Retry-After when the caller gives no deadline. */
export const DEFAULT_MAX_WAIT_MS = 30_000;
/** `GET /events` returns at most 15 events per page (core-api.json: "max 15"). */
export const EVENTS_PAGE_LIMIT = 15;

/** A 429 that names no wait (no Retry-After, no usable reset): Front's legacy example waited 20 s; 5 s then re-ask. */
const FALLBACK_RETRY_AFTER_MS = 5000;
/** Front answered 429 without a usable wait, or said 0: never hammer it in a tight loop. */
const MIN_RETRY_AFTER_MS = 1000;
/** Front's windows last a minute: a reset further away is clock skew or a changed header, not a reason to stop for hours. */
const MAX_RESET_PAUSE_MS = 60_000;
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
/** Budget waits shorter than this are routine and not reported. */
const REPORTED_WAIT_MS = 10;
/** Front's own error text is quoted in error messages, cut to this length. */
const FRONT_MESSAGE_CHARS = 200;

export interface FrontApiOptions {
  /** Default https://api2.frontapp.com; callers pass FRONT_API_URL. https, or http on loopback (the local fake). */
  baseUrl?: string;
  /** The API token (from SSM or FRONT_API_TOKEN); read before each call, so a rotated token is picked up. */
  token: () => Promise<string | undefined>;
  budget: RateBudget;
  /** One attempt's bound, default 5000 ms, at most 30 000 ms; always cut to the caller's deadline. */
  requestTimeoutMs?: number;
  /** Retries after a 5xx, a network failure or a timeout: default 2, at most 5. */
  maxRetries?: number;
  /** First retry delay; doubles each retry, with jitter. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Wait allowed per call when it gives no `deadlineAt`. Default 30 000 ms. */
  maxWaitMs?: number;
  clock?: Clock;
  /** Observability: waits, pauses, retries and responses. Carries no body content and no token. */
  onEvent?: (activity: FrontApiActivity) => void;
}

export interface FrontCallOptions {
  /** Epoch ms by which the call must be over: no request is sent, and no wait lasts, past it. */
  deadlineAt?: number;
  signal?: AbortSignal;
}

export interface ListEventsQuery extends FrontCallOptions {
  /** Unix seconds (up to 3 decimals are sent, rounded outwards): events emitted after this. */
  after?: number;
  /** Unix seconds: events emitted before this. Fix it for a reconciliation window, so pages do not shift. */
  before?: number;
  /** Event types (`inbound`, `tag`, …), sent as repeated `q[types]`. */
  types?: readonly string[];
  /** Inbox ids (`inb_…`), sent as repeated `q[inboxes]`. */
  inboxes?: readonly string[];
  /** Front's default is `desc`, newest first; reconciliation wants `asc`. */
  sortOrder?: 'asc' | 'desc';
  /** Events per page, 1 to 15 (default 15). */
  limit?: number;
}

export interface FrontRateLimitState {
  limit?: number;
  remaining?: number;
  /** Epoch ms at which Front's window resets. */
  resetAt?: number;
}

export interface FrontRequestStats {
  /** Requests sent for this page or event, retries and 429s included. */
  attempts: number;
  /** Time spent waiting for the budget, a Retry-After or a retry delay. */
  waitedMs: number;
  /** From the call to the answer, waits included. */
  durationMs: number;
  /** Front's x-ratelimit-* headers on the last answer. */
  rateLimit: FrontRateLimitState;
}

export interface FrontEventsPage {
  results: FrontEventBody[];
  /** `_pagination.next` exactly as Front gave it; absent on the last page. */
  next?: string;
  stats: FrontRequestStats;
}

export type FrontApiActivity =
  | { kind: 'response'; request: string; attempt: number; status: number; durationMs: number; rateLimitRemaining?: number }
  | { kind: 'request_failed'; request: string; attempt: number; reason: 'timeout' | 'network'; durationMs: number }
  | { kind: 'budget_wait'; request: string; waitedMs: number }
  | { kind: 'rate_limit_pause'; request: string; cause: 'retry_after' | 'remaining_zero'; pauseMs: number; pausedUntil: number }
  | { kind: 'retry'; request: string; attempt: number; delayMs: number; reason: string }
  | { kind: 'next_url_refused'; request: string; host: string };

/** `Retry-After` as milliseconds from `nowMs`: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

export function parseRateLimit(headers: Headers): FrontRateLimitState {
  const state: FrontRateLimitState = {};
  const limit = headerNumber(headers, 'x-ratelimit-limit');
  const remaining = headerNumber(headers, 'x-ratelimit-remaining');
  const reset = headerNumber(headers, 'x-ratelimit-reset');
  if (limit !== undefined) state.limit = limit;
  if (remaining !== undefined) state.remaining = remaining;
  // Front documents Unix seconds; a value that can only be milliseconds is taken as such.
  if (reset !== undefined && reset > 0) state.resetAt = reset > 1e12 ? reset : reset * 1000;
  return state;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether the bearer token may be sent to `candidate`: the configured origin exactly (the local fake on
 * http://127.0.0.1:port), or https to the configured host or any *.frontapp.com host (Front's `next` and
 * `_links` name the company host, `https://<company>.api.frontapp.com`). Never a URL with credentials in it.
 */
export function isTrustedFrontUrl(candidate: URL, base: URL): boolean {
  if (candidate.username !== '' || candidate.password !== '') return false;
  if (candidate.origin === base.origin) return true;
  if (candidate.protocol !== 'https:') return false;
  const host = candidate.hostname.toLowerCase();
  return (base.protocol === 'https:' && host === base.hostname.toLowerCase()) || host.endsWith('.frontapp.com');
}

/** Unix seconds with at most 3 decimals, rounded down (`after`) or up (`before`) so the window never shrinks. */
export function formatSeconds(seconds: number, round: 'down' | 'up'): string {
  const thousandths = Math.round(seconds * 1e6) / 1000; // Through microseconds first: 1.001 * 1000 is 1000.9999….
  const millis = round === 'down' ? Math.floor(thousandths) : Math.ceil(thousandths);
  return (millis / 1000).toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEventBody(value: unknown): value is FrontEventBody {
  return isObject(value) && typeof value.id === 'string' && value.id !== '' && typeof value.type === 'string';
}

/** `_error.message` of Front's error shape, cut short; never a body that is not an error. */
function frontErrorMessage(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    const error = isObject(parsed) ? parsed._error : undefined;
    const message = isObject(error) ? error.message : undefined;
    return typeof message === 'string' ? message.slice(0, FRONT_MESSAGE_CHARS) : undefined;
  } catch {
    return undefined;
  }
}

interface Answer {
  json: unknown;
  stats: FrontRequestStats;
}

export class FrontApiClient {
  readonly baseUrl: URL;
  private readonly token: () => Promise<string | undefined>;
  private readonly budget: RateBudget;
  private readonly requestTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private readonly onEvent: ((activity: FrontApiActivity) => void) | undefined;
  /** This client's own copy of Front's last pause, in case a shared budget is slow to show it. */
  private pausedUntil = 0;

  constructor(options: FrontApiOptions) {
    this.baseUrl = FrontApiClient.checkBaseUrl(options.baseUrl ?? FRONT_API_BASE_URL);
    this.token = options.token;
    this.budget = options.budget;
    this.requestTimeoutMs = FrontApiClient.bounded('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 1, MAX_REQUEST_TIMEOUT_MS);
    this.maxRetries = FrontApiClient.bounded('maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES, 0, MAX_RETRIES_CEILING);
    this.retryBaseDelayMs = FrontApiClient.bounded('retryBaseDelayMs', options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS, 0, 10_000);
    this.maxWaitMs = FrontApiClient.bounded('maxWaitMs', options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, 0, 15 * 60_000);
    this.clock = options.clock ?? systemClock;
    this.onEvent = options.onEvent;
  }

  private static bounded(name: string, value: number, min: number, max: number): number {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`FrontApiClient: ${name} must be an integer from ${min} to ${max}, not ${value}`);
    }
    return value;
  }

  private static checkBaseUrl(value: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TypeError(`FRONT_API_URL ${JSON.stringify(value)} is not a URL: use ${FRONT_API_BASE_URL}, or http://127.0.0.1:<port> for the local fake`);
    }
    const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !loopbackHttp) {
      throw new TypeError(`FRONT_API_URL ${url.origin} would send the API token in clear: use https, or http only on 127.0.0.1/localhost`);
    }
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
      throw new TypeError(`FRONT_API_URL must be an origin with an optional path, without credentials, query or fragment (got ${url.origin}${url.pathname})`);
    }
    return url;
  }

  /**
   * Pages of `GET /events`, oldest first with `sortOrder: 'asc'`. Follows `_pagination.next` exactly as Front
   * gives it, only to trusted hosts. Stop early by leaving the loop; `deadlineAt` bounds every request and wait.
   */
  async *listEvents(query: ListEventsQuery = {}): AsyncGenerator<FrontEventsPage, void, undefined> {
    let url: URL | undefined = this.eventsUrl(query);
    const visited = new Set<string>();
    const call: FrontCallOptions = {
      ...(query.deadlineAt !== undefined && { deadlineAt: query.deadlineAt }),
      ...(query.signal && { signal: query.signal }),
    };
    while (url) {
      visited.add(url.href);
      const request: string = `GET ${url.pathname}`;
      const { json, stats } = await this.send(url, call);
      if (!isObject(json) || !Array.isArray(json._results)) {
        throw new FrontResponseError(`Front's answer to ${request} has no _results list: check that FRONT_API_URL (${this.baseUrl.origin}) is Front's Core API`, request, 200);
      }
      const results: unknown[] = json._results;
      const bad = results.findIndex((result) => !isEventBody(result));
      if (bad >= 0) {
        throw new FrontResponseError(`Front's answer to ${request} holds a result (index ${bad}) without a string id and type: report it; the page was not used`, request, 200);
      }
      const pagination = json._pagination;
      const next: unknown = isObject(pagination) ? pagination.next : undefined;
      if (next !== undefined && next !== null && typeof next !== 'string') {
        throw new FrontResponseError(`Front's answer to ${request} has a _pagination.next that is not a URL: report it`, request, 200);
      }
      url = next ? this.nextUrl(next, request, visited) : undefined;
      yield { results: results as FrontEventBody[], ...(next ? { next } : {}), stats };
    }
  }

  /** `GET /events/{id}`: the full event. Throws FrontNotFoundError when Front has no such event. */
  async getEvent(id: string, options: FrontCallOptions = {}): Promise<FrontEventBody> {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new TypeError(`getEvent: ${JSON.stringify(id)} is not a Front event id (evt_…)`);
    const url = this.apiUrl(`/events/${id}`);
    const { json } = await this.send(url, options);
    if (!isEventBody(json)) {
      throw new FrontResponseError(`Front's answer to GET /events/${id} is not an event (no string id and type): check that FRONT_API_URL (${this.baseUrl.origin}) is Front's Core API`, `GET /events/${id}`, 200);
    }
    return json;
  }

  private apiUrl(path: string): URL {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${this.baseUrl.pathname.replace(/\/+$/, '')}${path}`;
    return url;
  }

  private eventsUrl(query: ListEventsQuery): URL {
    const limit = query.limit ?? EVENTS_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > EVENTS_PAGE_LIMIT) {
      throw new RangeError(`listEvents: limit must be an integer from 1 to ${EVENTS_PAGE_LIMIT} (Front's maximum for GET /events), not ${limit}`);
    }
    for (const [name, value] of [['after', query.after], ['before', query.before]] as const) {
      if (value !== undefined && (!Number.isFinite(value) || value < 0 || value > 1e11)) {
        throw new RangeError(`listEvents: ${name} must be Unix seconds (not milliseconds), not ${value}`);
      }
    }
    if (query.after !== undefined && query.before !== undefined && query.after >= query.before) {
      throw new RangeError(`listEvents: after (${query.after}) must be earlier than before (${query.before})`);
    }
    if (query.sortOrder !== undefined && query.sortOrder !== 'asc' && query.sortOrder !== 'desc') {
      throw new RangeError(`listEvents: sortOrder must be asc or desc, not ${String(query.sortOrder)}`);
    }
    const params = new URLSearchParams();
    if (query.after !== undefined) params.append('q[after]', formatSeconds(query.after, 'down'));
    if (query.before !== undefined) params.append('q[before]', formatSeconds(query.before, 'up'));
    for (const type of query.types ?? []) params.append('q[types]', type);
    for (const inbox of query.inboxes ?? []) params.append('q[inboxes]', inbox);
    params.append('limit', String(limit));
    if (query.sortOrder) {
      params.append('sort_by', 'created_at');
      params.append('sort_order', query.sortOrder);
    }
    const url = this.apiUrl('/events');
    url.search = params.toString(); // URLSearchParams encodes the brackets: q%5Btypes%5D=…
    return url;
  }

  private nextUrl(next: string, request: string, visited: Set<string>): URL {
    let url: URL;
    try {
      url = new URL(next);
    } catch {
      throw new FrontResponseError(`Front's answer to ${request} has a _pagination.next that is not an absolute URL: report it`, request, 200);
    }
    if (!isTrustedFrontUrl(url, this.baseUrl)) {
      this.emit({ kind: 'next_url_refused', request, host: url.host });
      throw new FrontResponseError(
        `Front's answer to ${request} points the next page at ${url.protocol}//${url.host}, which is neither ${this.baseUrl.origin} nor https://*.frontapp.com: the API token was not sent there; check FRONT_API_URL and what answers on it`,
        request,
        200,
      );
    }
    if (visited.has(url.href)) {
      throw new FrontResponseError(`Front's answer to ${request} points the next page at a page already read: stopped to avoid a loop; report it`, request, 200);
    }
    return url;
  }

  private emit(activity: FrontApiActivity): void {
    try {
      this.onEvent?.(activity);
    } catch {
      // An observer's bug must not fail the request it observes.
    }
  }

  /** Waits until the budget and Front's last pause allow one request, or throws FrontRateLimitedError. */
  private async waitForTurn(request: string, deadlineAt: number, signal: AbortSignal | undefined): Promise<void> {
    const now = this.clock.now();
    if (this.pausedUntil > now) {
      if (this.pausedUntil > deadlineAt) {
        throw FrontRateLimitedError.beyondDeadline(request, this.pausedUntil - now, `Front asked to wait until ${new Date(this.pausedUntil).toISOString()}`);
      }
      while (this.clock.now() < this.pausedUntil) await this.clock.sleep(this.pausedUntil - this.clock.now(), signal);
    }
    await this.budget.acquire({ deadlineAt, request, ...(signal && { signal }) });
  }

  private async pause(request: string, cause: 'retry_after' | 'remaining_zero', pauseMs: number): Promise<void> {
    const pausedUntil = this.clock.now() + pauseMs;
    this.pausedUntil = Math.max(this.pausedUntil, pausedUntil);
    await this.budget.pauseUntil(pausedUntil);
    this.emit({ kind: 'rate_limit_pause', request, cause, pauseMs, pausedUntil });
  }

  private retryDelay(retry: number): number {
    const ceiling = this.retryBaseDelayMs * 2 ** (retry - 1);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // Equal jitter: callers that failed together spread out.
  }

  /**
   * One GET with everything around it: budget, token, timeout, Retry-After and reset pauses, bounded retries
   * of 5xx/network/timeout, and the mapping of statuses to error classes.
   */
  private async send(url: URL, call: FrontCallOptions): Promise<Answer> {
    const request = `GET ${url.pathname}`;
    const { signal } = call;
    const started = this.clock.now();
    const deadlineAt = call.deadlineAt ?? started + this.maxWaitMs;
    const token = await this.token();
    if (!token) throw FrontAuthError.missingToken(request);
    let attempts = 0;
    let failures = 0;
    let waitedMs = 0;

    const fail = async (reason: string, status: number | undefined, retryAfterMs: number | undefined, cause?: unknown): Promise<void> => {
      failures += 1;
      const tried = `${request} failed ${attempts} time${attempts === 1 ? '' : 's'}, last with ${reason}`;
      if (failures > this.maxRetries) {
        throw new FrontUnavailableError(`${tried}: Front or the network to it is down; try again later`, request, status, { cause });
      }
      const delayMs = Math.max(this.retryDelay(failures), retryAfterMs ?? 0);
      if (this.clock.now() + delayMs >= deadlineAt) {
        throw new FrontUnavailableError(`${tried}, and the caller's deadline leaves no time to retry: try again later`, request, status, { cause });
      }
      this.emit({ kind: 'retry', request, attempt: attempts, delayMs, reason });
      const before = this.clock.now();
      await this.clock.sleep(delayMs, signal);
      waitedMs += this.clock.now() - before;
    };

    for (;;) {
      signal?.throwIfAborted();
      const waitStart = this.clock.now();
      await this.waitForTurn(request, deadlineAt, signal);
      const waited = this.clock.now() - waitStart;
      waitedMs += waited;
      if (waited >= REPORTED_WAIT_MS) this.emit({ kind: 'budget_wait', request, waitedMs: waited });

      const timeLeft = deadlineAt - this.clock.now();
      if (timeLeft <= 0) {
        throw new FrontUnavailableError(`${request} could not be sent before the caller's deadline (${attempts} attempts so far): try again later`, request);
      }
      const timeoutMs = Math.min(this.requestTimeoutMs, timeLeft);
      const timeout = AbortSignal.timeout(timeoutMs);
      attempts += 1;
      const sentAt = this.clock.now();
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          // Redirects are not followed: fetch would carry the token to wherever Location points.
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        text = await response.text(); // Inside the timeout: a body that trickles in forever is a hung request too.
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const timedOut = timeout.aborted;
        const durationMs = this.clock.now() - sentAt;
        this.emit({ kind: 'request_failed', request, attempt: attempts, reason: timedOut ? 'timeout' : 'network', durationMs });
        const reason = timedOut
          ? `no complete answer within ${timeoutMs} ms`
          : `a network error (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})`;
        await fail(reason, undefined, undefined, error);
        continue;
      }

      const { status, headers } = response;
      const rateLimit = parseRateLimit(headers);
      this.emit({
        kind: 'response', request, attempt: attempts, status, durationMs: this.clock.now() - sentAt,
        ...(rateLimit.remaining !== undefined && { rateLimitRemaining: rateLimit.remaining }),
      });
      const now = this.clock.now();

      if (status === 429) {
        const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
        const untilReset = rateLimit.resetAt !== undefined ? Math.min(rateLimit.resetAt - now, MAX_RESET_PAUSE_MS) : undefined;
        const pauseMs = Math.max(MIN_RETRY_AFTER_MS, retryAfter ?? untilReset ?? FALLBACK_RETRY_AFTER_MS);
        await this.pause(request, 'retry_after', pauseMs);
        continue; // waitForTurn sends nothing before the pause ends, or throws when it ends past the deadline.
      }
      if (rateLimit.remaining !== undefined && rateLimit.remaining <= 0 && rateLimit.resetAt !== undefined && rateLimit.resetAt > now) {
        await this.pause(request, 'remaining_zero', Math.min(rateLimit.resetAt - now, MAX_RESET_PAUSE_MS));
      }

      if (status >= 200 && status < 300) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new FrontResponseError(
            `Front's answer to ${request} is not JSON (content-type ${headers.get('content-type') ?? 'none'}): check that FRONT_API_URL (${this.baseUrl.origin}) is Front's Core API`,
            request, status, { cause: error },
          );
        }
        return { json, stats: { attempts, waitedMs, durationMs: this.clock.now() - started, rateLimit } };
      }
      const frontMessage = frontErrorMessage(text);
      const said = frontMessage ? ` (Front said: ${frontMessage})` : '';
      if (status === 401 || status === 403) throw FrontAuthError.fromStatus(request, status, frontMessage);
      if (status === 404) {
        throw new FrontNotFoundError(`Front has nothing at ${request} (404)${said}: the id is wrong, the resource was deleted, or it belongs to another company than the token's`, request, status);
      }
      if (status >= 500) {
        await fail(`${status}${said}`, status, parseRetryAfter(headers.get('retry-after'), now));
        continue;
      }
      if (status >= 300 && status < 400) {
        throw new FrontResponseError(`Front answered ${request} with a ${status} redirect, which is not followed (it would carry the token): check FRONT_API_URL (${this.baseUrl.origin})`, request, status);
      }
      throw new FrontRequestError(`Front refused ${request} with ${status}${said}: the query is wrong; fix the caller, retrying will not help`, request, status);
    }
  }
}
