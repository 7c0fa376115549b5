import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrontRateLimitedError } from '../lib/front/api-errors.ts';
import { InMemoryRateBudget, type Clock } from '../lib/front/rate-budget.ts';

function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail('expected a rejection, but it resolved'), (error: unknown) => error);
}

/** Time that moves only when someone sleeps: sequential acquires run instantly and exactly. */
function virtualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => { now += Math.max(0, ms); },
    advance: (ms) => { now += ms; },
  };
}

describe('InMemoryRateBudget', () => {
  it('never grants more than the limit in any window, nor the burst in any second, nor before a pause ends', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 200, max: 5000 }),
      fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 1500 }), pauseMs: fc.option(fc.integer({ min: 0, max: 3000 }), { freq: 5 }) }), { minLength: 1, maxLength: 60 }),
      async (limit, burst, windowMs, calls) => {
        // Prepare
        const clock = virtualClock();
        const budget = new InMemoryRateBudget(limit, { windowMs, burstPerSecond: burst, clock });
        const granted: number[] = [];
        let pausedUntil = 0;
        // Act
        for (const call of calls) {
          clock.advance(call.gapMs);
          if (call.pauseMs !== null) {
            pausedUntil = Math.max(pausedUntil, clock.now() + call.pauseMs);
            await budget.pauseUntil(clock.now() + call.pauseMs);
          }
          const asked = clock.now();
          await budget.acquire({ deadlineAt: Infinity });
          granted.push(clock.now());
          // Assess
          assert.ok(clock.now() >= pausedUntil, 'granted before the pause ended');
          assert.ok(clock.now() >= asked);
        }
        for (const [i, t] of granted.entries()) {
          const inWindow = granted.filter((u, j) => j <= i && u > t - windowMs).length;
          const inSecond = granted.filter((u, j) => j <= i && u > t - 1000).length;
          assert.ok(inWindow <= limit, `${inWindow} grants within ${windowMs} ms (limit ${limit})`);
          assert.ok(inSecond <= burst, `${inSecond} grants within 1 s (burst ${burst})`);
        }
      },
    ), { numRuns: 300 });
  });

  it('grants at once while there is room, then exactly when the oldest grant leaves the window', async () => {
    const clock = virtualClock();
    const budget = new InMemoryRateBudget(3, { clock });
    const start = clock.now();
    for (let i = 0; i < 3; i++) await budget.acquire({ deadlineAt: Infinity });
    assert.equal(clock.now(), start);
    clock.advance(10_000);
    await budget.acquire({ deadlineAt: Infinity });
    assert.equal(clock.now(), start + 60_000);
  });

  it('throws FrontRateLimitedError with the wait when the next slot is past the deadline, and keeps no reservation', async () => {
    // Prepare
    const clock = virtualClock();
    const budget = new InMemoryRateBudget(1, { clock });
    await budget.acquire({ deadlineAt: Infinity });
    clock.advance(15_000);
    // Act
    const error = await rejectionOf(budget.acquire({ deadlineAt: clock.now() + 1000, request: 'GET /events' }));
    // Assess
    assert.ok(error instanceof FrontRateLimitedError);
    assert.equal(error.retryAfterMs, 45_000);
    assert.match(error.message, /^GET \/events may not be sent for another 45000 ms \(this deployment's budget of 1 requests per 60 s is spent\)/);
    const before = clock.now();
    await budget.acquire({ deadlineAt: Infinity });
    assert.equal(clock.now() - before, 45_000, 'the refused call took no slot');
  });

  it('names the pause when a pause is what stands past the deadline', async () => {
    const clock = virtualClock();
    const budget = new InMemoryRateBudget(20, { clock });
    await budget.pauseUntil(clock.now() + 2000);
    const error = await rejectionOf(budget.acquire({ deadlineAt: clock.now() + 500 }));
    assert.ok(error instanceof FrontRateLimitedError);
    assert.equal(error.retryAfterMs, 2000);
    assert.match(error.message, /Front asked every caller to pause until/);
  });

  it('serves concurrent callers in order, and a pause that arrives while they wait holds them too', async () => {
    // Prepare: 1 request per 100 ms, real time.
    const budget = new InMemoryRateBudget(1, { windowMs: 100 });
    const start = Date.now();
    const grantedAt: number[] = [];
    // Act
    const callers = [0, 1, 2].map((i) => budget.acquire({ deadlineAt: start + 5000 }).then(() => { grantedAt[i] = Date.now() - start; }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await budget.pauseUntil(start + 400);
    await Promise.all(callers);
    // Assess
    assert.ok((grantedAt[0] ?? Infinity) < 20, `first caller waited ${grantedAt[0]} ms`);
    assert.ok((grantedAt[1] ?? 0) >= 400, `second caller granted at ${grantedAt[1]} ms, inside the pause`);
    assert.ok((grantedAt[2] ?? 0) >= 500, `third caller granted at ${grantedAt[2]} ms, within 100 ms of the second`);
  });

  it('an aborted wait gives its slot back', async () => {
    // Prepare: 1 request per 300 ms, real time; the second caller gives up while it waits.
    const budget = new InMemoryRateBudget(1, { windowMs: 300 });
    const start = Date.now();
    await budget.acquire({ deadlineAt: start + 5000 });
    const giveUp = new AbortController();
    const second = budget.acquire({ deadlineAt: start + 5000, signal: giveUp.signal });
    setTimeout(() => giveUp.abort(new Error('caller gave up')), 20);
    // Act
    await assert.rejects(second, /caller gave up/);
    await budget.acquire({ deadlineAt: start + 5000 });
    // Assess
    const third = Date.now() - start;
    assert.ok(third >= 300 && third < 550, `third caller granted at ${third} ms; the abandoned slot was at 300 ms`);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new InMemoryRateBudget(0), /requestsPerMinute must be a positive integer/);
    assert.throws(() => new InMemoryRateBudget(2.5), RangeError);
    assert.throws(() => new InMemoryRateBudget(20, { burstPerSecond: 0 }), /burstPerSecond/);
  });
});
