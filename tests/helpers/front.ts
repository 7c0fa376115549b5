import { FrontApiClient, type FrontApiActivity, type FrontApiOptions } from '../../lib/front/api.ts';
import { InMemoryRateBudget } from '../../lib/front/rate-budget.ts';
import type { FrontEventBody } from '../../lib/front/event.ts';
import { sampleEvent } from '../../lib/front/samples.ts';
import { startFakeFront, type FakeFront, type FakeFrontOptions } from '../../local/fake-front.ts';

export const FRONT_TOKEN = 'front-api-test-token';

/** A realistic Unix time in seconds for emitted_at (2023-11-14). */
export const T0 = 1_700_000_000;

export function startFake(options: Partial<FakeFrontOptions> = {}): Promise<FakeFront> {
  return startFakeFront({ token: FRONT_TOKEN, ...options });
}

export interface ClientUnderTest {
  client: FrontApiClient;
  activities: FrontApiActivity[];
}

/**
 * A client of the fake with test-sized bounds: a generous budget unless one is given, fast retries,
 * and every activity kept for assertions.
 */
export function clientFor(fake: FakeFront, options: Partial<FrontApiOptions> = {}): ClientUnderTest {
  const activities: FrontApiActivity[] = [];
  const client = new FrontApiClient({
    baseUrl: fake.url,
    token: async () => FRONT_TOKEN,
    budget: new InMemoryRateBudget(600, { burstPerSecond: 50 }),
    retryBaseDelayMs: 20,
    maxWaitMs: 5000,
    ...options,
    onEvent: (activity) => {
      activities.push(activity);
      options.onEvent?.(activity);
    },
  });
  return { client, activities };
}

/** `count` events emitted `stepSeconds` apart from `start`, as sampleEvent builds them. */
export function eventsAt(count: number, start = T0, stepSeconds = 1, type = 'inbound'): FrontEventBody[] {
  return Array.from({ length: count }, (_, i) => sampleEvent({ type, emittedAt: start + i * stepSeconds }));
}

export async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

/** The promise's rejection, or a failure if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but it resolved');
}
