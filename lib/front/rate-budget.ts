import { setTimeout as delay } from 'node:timers/promises';
import { FrontRateLimitedError } from './api-errors.ts';

/** Time as the client and the budget see it; tests pass a virtual one. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      throw signal?.aborted ? signal.reason : error; // The caller's own reason, as fetch rejects with it.
    }
  },
};

export interface AcquireOptions {
  /** Epoch ms: if no request may be sent by then, acquire throws FrontRateLimitedError instead of waiting. */
  deadlineAt: number;
  signal?: AbortSignal;
  /** `METHOD /path`, for the error message only. */
  request?: string;
}

/**
 * The deployment's share of Front's per-company rate limit, shared by every caller (reconciliation,
 * preview hydration, oversize fetches). The in-memory implementation serves one process (tests, benchmarks);
 * DynamoRateBudget (lib/store/budget.ts) serves every Lambda of a deployment through the same interface.
 */
export interface RateBudget {
  /**
   * Resolves when the caller may send one request (the request is counted from then), or throws
   * FrontRateLimitedError with `retryAfterMs` when that moment is after `deadlineAt`.
   */
  acquire(options: AcquireOptions): Promise<void>;
  /** Front said to stop (429 Retry-After, or no requests left until the reset): no caller gets a slot before `epochMs`. */
  pauseUntil(epochMs: number): Promise<void>;
}

/** Front's burst limit on resource-intensive endpoints: "5 requests per second, per resource type". */
export const FRONT_BURST_PER_SECOND = 5;

export interface InMemoryRateBudgetOptions {
  /** The window `requestsPerMinute` counts over: 60 000 ms unless a test shortens it. */
  windowMs?: number;
  /** At most this many requests in any second (Front's burst limit). */
  burstPerSecond?: number;
  clock?: Clock;
}

const BURST_WINDOW_MS = 1000;

/**
 * A sliding-log budget for one process: it keeps the time of each granted request and never grants more
 * than `requestsPerMinute` in any window of `windowMs`, nor `burstPerSecond` in any second.
 * Sliding rather than fixed windows: a fixed window lets twice the budget through around a boundary
 * (N at 0:59, N at 1:00), and Front's own window does not line up with ours, so that burst could spend
 * the customer's share. The log holds at most `requestsPerMinute` timestamps.
 * Waiting callers reserve their slot in order (first come, first served); a pause that arrives while
 * they wait sends them back to the end of the queue, after the pause.
 */
export class InMemoryRateBudget implements RateBudget {
  readonly requestsPerMinute: number;
  private readonly windowMs: number;
  private readonly burstPerSecond: number;
  private readonly clock: Clock;
  /** Granted and reserved request times, ascending. */
  private readonly slots: number[] = [];
  private pausedUntilMs = 0;

  constructor(requestsPerMinute: number, options: InMemoryRateBudgetOptions = {}) {
    const windowMs = options.windowMs ?? 60_000;
    const burstPerSecond = options.burstPerSecond ?? FRONT_BURST_PER_SECOND;
    for (const [name, value] of [['requestsPerMinute', requestsPerMinute], ['burstPerSecond', burstPerSecond], ['windowMs', windowMs]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`InMemoryRateBudget: ${name} must be a positive integer, not ${value}`);
    }
    this.requestsPerMinute = requestsPerMinute;
    this.windowMs = windowMs;
    this.burstPerSecond = burstPerSecond;
    this.clock = options.clock ?? systemClock;
  }

  /** Epoch ms before which no slot is granted (0 when Front never asked for a pause). */
  get pausedUntil(): number {
    return this.pausedUntilMs;
  }

  async pauseUntil(epochMs: number): Promise<void> {
    if (Number.isFinite(epochMs)) this.pausedUntilMs = Math.max(this.pausedUntilMs, epochMs);
  }

  async acquire({ deadlineAt, signal, request = 'a Front API request' }: AcquireOptions): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      this.forgetBefore(now - Math.max(this.windowMs, BURST_WINDOW_MS));
      const slot = this.earliestSlot(now);
      if (slot > deadlineAt) {
        const why = slot === this.pausedUntilMs
          ? `Front asked every caller to pause until ${new Date(slot).toISOString()}`
          : `this deployment's budget of ${this.requestsPerMinute} requests per ${this.windowMs / 1000} s is spent`;
        throw FrontRateLimitedError.beyondDeadline(request, slot - now, why);
      }
      this.slots.push(slot);
      try {
        while (this.clock.now() < slot) await this.clock.sleep(slot - this.clock.now(), signal);
      } catch (error) {
        this.release(slot);
        throw error;
      }
      // A pause that arrived while this caller waited wins over its reservation.
      if (this.pausedUntilMs > slot) {
        this.release(slot);
        continue;
      }
      return;
    }
  }

  /** The first time at or after `now` when one more request fits every limit, after every reservation. */
  private earliestSlot(now: number): number {
    let slot = Math.max(now, this.pausedUntilMs, this.slots.at(-1) ?? 0);
    const nth = (n: number): number | undefined => this.slots[this.slots.length - n];
    const windowStart = nth(this.requestsPerMinute);
    if (windowStart !== undefined) slot = Math.max(slot, windowStart + this.windowMs);
    const burstStart = nth(this.burstPerSecond);
    if (burstStart !== undefined) slot = Math.max(slot, burstStart + BURST_WINDOW_MS);
    return slot;
  }

  private forgetBefore(horizon: number): void {
    let stale = 0;
    while (stale < this.slots.length && (this.slots[stale] ?? Infinity) <= horizon) stale += 1;
    if (stale > 0) this.slots.splice(0, stale);
  }

  private release(slot: number): void {
    const index = this.slots.lastIndexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
  }
}
