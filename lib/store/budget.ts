import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FrontRateLimitedError } from '../front/api-errors.ts';
import { FRONT_BURST_PER_SECOND, InMemoryRateBudget, systemClock, type AcquireOptions, type Clock, type RateBudget } from '../front/rate-budget.ts';
import table from '../table.json' with { type: 'json' };
import { StoreUnavailableError } from './events.ts';

/**
 * The deployment's share of Front's per-company rate limit, shared by every Lambda that calls Front
 * (reconciliation, preview hydration, oversize fetches) through two items of the state table:
 * - `budget#<minute>`: requests granted in that minute (fixed one-minute windows; an item expires after an hour).
 *   A fixed window may let up to twice the limit through around a boundary: the default 20 per minute is
 *   chosen so that even then (40) the customer's smallest plan (50 per minute) keeps room for its other tools.
 * - `budget#pause`: when Front answered 429 or said no request is left, nobody asks before `until`.
 * Each request costs one conditional UpdateItem (and a read of the pause): Front calls are few (a page per
 * reconciliation run, a fetch per preview when hydration is on), so this stays cheap. Within one process the
 * burst limit (5 per second) is kept by an in-memory budget first.
 */
export class DynamoRateBudget implements RateBudget {
  private readonly local: InMemoryRateBudget;
  private readonly clock: Clock;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly requestsPerMinute: number,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    // The per-process budget only enforces the burst limit; the minute limit is the table's.
    this.local = new InMemoryRateBudget(Math.max(requestsPerMinute, FRONT_BURST_PER_SECOND), { clock: this.clock });
  }

  private key(name: string) {
    return { [table.partitionKey]: { S: `budget#${name}` } };
  }

  private async pausedUntil(): Promise<number> {
    try {
      const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key('pause') }));
      return Number(Item?.until?.N ?? 0);
    } catch (error) {
      throw new StoreUnavailableError(`the Front API budget (state table ${this.tableName}) could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** Takes one request of the current minute's share; false when the minute is spent. */
  private async take(minute: number): Promise<boolean> {
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(String(minute)),
        UpdateExpression: 'ADD granted :one SET #ttl = :expires',
        ConditionExpression: 'attribute_not_exists(granted) OR granted < :limit',
        ExpressionAttributeNames: { '#ttl': table.ttlAttribute },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: String(this.requestsPerMinute) }, ':expires': { N: String(Math.floor(this.clock.now() / 1000) + 3600) } },
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreUnavailableError(`the Front API budget (state table ${this.tableName}) could not be updated: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async acquire(options: AcquireOptions): Promise<void> {
    const request = options.request ?? 'a Front API request';
    for (;;) {
      const now = this.clock.now();
      const paused = await this.pausedUntil();
      const minute = Math.floor(now / 60_000);
      let readyAt: number;
      if (paused > now) readyAt = paused;
      else if (await this.take(minute)) return this.local.acquire(options);
      else readyAt = (minute + 1) * 60_000;
      if (readyAt > options.deadlineAt) {
        const why = paused > now
          ? `Front asked every caller to pause until ${new Date(paused).toISOString()}`
          : `this deployment's share of Front's rate limit (${this.requestsPerMinute} per minute) is spent`;
        throw FrontRateLimitedError.beyondDeadline(request, readyAt - now, why);
      }
      await this.clock.sleep(readyAt - now, options.signal);
    }
  }

  async pauseUntil(epochMs: number): Promise<void> {
    await this.local.pauseUntil(epochMs);
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key('pause'),
        // Only ever pushed later: a shorter pause from another caller must not cut a longer one short.
        UpdateExpression: 'SET #until = :until, #ttl = :expires',
        ConditionExpression: 'attribute_not_exists(#until) OR #until < :until',
        ExpressionAttributeNames: { '#until': 'until', '#ttl': table.ttlAttribute },
        ExpressionAttributeValues: { ':until': { N: String(epochMs) }, ':expires': { N: String(Math.floor(epochMs / 1000) + 3600) } },
      }));
    } catch {
      // A later pause is already stored (the condition failed), or the table is unreachable: the local pause
      // holds either way, and other Lambdas meet Front's own 429 and pause themselves.
    }
  }
}
