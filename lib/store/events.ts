import { BatchGetItemCommand, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ConfigError, required } from '../config.ts';
import table from '../table.json' with { type: 'json' };

/**
 * The durable record per Front event id that makes each event's handler succeed at most once, whatever path
 * delivers it again (Front retries, re-sent rule webhooks, redrives, recoveries from the Events API, a message
 * Lambda failed to delete). One item per event in the state table (lib/table.json), key `event#<id>`:
 * `processedAt` once a handler succeeded, `attempts` while it fails, `expiresAt` for DynamoDB TTL.
 *
 * Check-then-mark: one GetItem before the handler, one UpdateItem after it (on success or failure). That is safe
 * without a lock because one event is only ever processed by one invocation at a time: its deliveries share its
 * FIFO message group (its conversation, lib/queue.ts groupIdOf), and SQS FIFO never hands out a group's next
 * message while one is in flight. The read is eventually consistent (half the cost) for a webhook delivery: SQS
 * deduplicates the same event id for 5 minutes, so a second webhook copy comes long after the mark. The copies
 * that can follow the first within a second (a recovered or redriven copy queued behind it, even in the same
 * batch) are read consistently, and the process function also remembers what it just processed
 * (lib/process/handler.ts), so no copy depends on a read that has not seen the write yet.
 */
export interface EventState {
  /** When a handler first succeeded for this event (ISO 8601); absent while none has. */
  processedAt?: string;
  /** Failed handler attempts so far. */
  attempts: number;
}

export interface KnownEvents {
  processed: Set<string>;
  failing: Set<string>;
}

export interface EventStore {
  /**
   * The event's state, or undefined when it has none (or its record expired). Eventually consistent unless
   * `consistent` (twice the read cost): see the header comment for when that matters. Throws StoreUnavailableError.
   */
  get(eventId: string, options?: { consistent?: boolean }): Promise<EventState | undefined>;
  /** Records that the event's handler succeeded; `earlier` is set when another delivery had already recorded it. */
  markProcessed(eventId: string, at: Date): Promise<{ earlier?: string }>;
  /** Records one failed handler attempt and returns the attempts so far, this one included. */
  recordFailure(eventId: string, at: Date): Promise<number>;
  /**
   * Which of these events (at most 100) the pipeline already has: `processed`, a handler succeeded; `failing`, its
   * handler failed and it is being retried or was dead-lettered (an operator redrives it from the DLQ). One
   * BatchGetItem, eventually consistent.
   */
  knownAmong(eventIds: readonly string[]): Promise<KnownEvents>;
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long a record is kept (DynamoDB TTL); default lib/table.json recordDays. */
  recordDays?: number;
  now?: () => number;
}

/** The state table of a deployed or local stage: STATE_TABLE, and RECORD_DAYS (how long records are kept). */
export function stateTableFromEnv(env: NodeJS.ProcessEnv): { tableName: string; recordDays: number } {
  const tableName = required(env, 'STATE_TABLE', 'the name of the DynamoDB state table (idempotency records)');
  const raw = env.RECORD_DAYS;
  const recordDays = raw === undefined || raw === '' ? table.recordDays : Number(raw);
  if (!Number.isFinite(recordDays) || recordDays < 1 || recordDays > 365) {
    throw new ConfigError(`RECORD_DAYS must be a number of days from 1 to 365, not "${raw}".`);
  }
  return { tableName, recordDays };
}

/**
 * The state table's client: bounded connection and request times, a few fast retries. Without `region` the SDK's
 * default chain decides (AWS_REGION in Lambda); a tool that names a region passes it, so every client it builds
 * reaches the same one whatever the shell's AWS_REGION.
 */
export function createDynamoClient(endpoint?: string, options: { region?: string } = {}): DynamoDBClient {
  return new DynamoDBClient({
    ...(endpoint && { endpoint }),
    ...(options.region && { region: options.region }),
    maxAttempts: 3,
    // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes, and waits on.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
  });
}

export function eventKey(eventId: string): Record<string, AttributeValue> {
  return { [table.partitionKey]: { S: `event#${eventId}` } };
}

function unavailable(tableName: string, error: unknown): StoreUnavailableError {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreUnavailableError(`the state table ${tableName} could not be reached: ${detail}`, { cause: error });
}

export function createDynamoEventStore(options: DynamoStoreOptions): EventStore {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  const keepSeconds = Math.round((options.recordDays ?? table.recordDays) * 86_400);
  const ttl = table.ttlAttribute;
  const seconds = () => Math.floor(now() / 1000);
  const expiry = () => ({ N: String(seconds() + keepSeconds) });

  async function read(eventId: string, consistent = false): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: eventKey(eventId), ...(consistent && { ConsistentRead: true }) }));
      return Item;
    } catch (error) {
      throw unavailable(tableName, error);
    }
  }

  /** DynamoDB deletes expired items within days, not at once: an item past its expiry counts as absent. */
  const live = (item: Record<string, AttributeValue> | undefined) =>
    item !== undefined && !(Number(item[ttl]?.N ?? Infinity) <= seconds());

  return {
    async get(eventId, options) {
      const item = await read(eventId, options?.consistent);
      if (!live(item)) return undefined;
      const processedAt = item?.processedAt?.S;
      return { attempts: Number(item?.attempts?.N ?? 0), ...(processedAt && { processedAt }) };
    },

    async markProcessed(eventId, at) {
      try {
        await client.send(new UpdateItemCommand({
          TableName: tableName,
          Key: eventKey(eventId),
          UpdateExpression: 'SET processedAt = :at, #ttl = :expires',
          // Another delivery's mark means the handler ran twice: the caller logs it (it cannot be undone).
          ConditionExpression: 'attribute_not_exists(processedAt) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': ttl },
          ExpressionAttributeValues: { ':at': { S: at.toISOString() }, ':expires': expiry(), ':now': { N: String(seconds()) } },
        }));
        return {};
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw unavailable(tableName, error);
        const earlier = (await read(eventId, true))?.processedAt?.S;
        return earlier ? { earlier } : {};
      }
    },

    async knownAmong(eventIds) {
      const known: KnownEvents = { processed: new Set(), failing: new Set() };
      let keys = [...new Set(eventIds)].map(eventKey);
      // DynamoDB may leave some keys unread under load: ask again for those, twice; an event still unread is
      // treated as unknown, which at worst queues it again (and the state table skips it then).
      for (let round = 0; round < 3 && keys.length > 0; round++) {
        let response;
        try {
          response = await client.send(new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: keys, ProjectionExpression: '#pk, processedAt, attempts, #ttl', ExpressionAttributeNames: { '#pk': table.partitionKey, '#ttl': ttl } } },
          }));
        } catch (error) {
          throw unavailable(tableName, error);
        }
        for (const item of response.Responses?.[tableName] ?? []) {
          if (!live(item)) continue;
          const id = (item[table.partitionKey]?.S ?? '').replace(/^event#/, '');
          if (item.processedAt?.S) known.processed.add(id);
          else if (Number(item.attempts?.N ?? 0) > 0) known.failing.add(id);
        }
        keys = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
      return known;
    },

    async recordFailure(eventId, at) {
      const values = { ':one': { N: '1' }, ':at': { S: at.toISOString() }, ':expires': expiry(), ':now': { N: String(seconds()) } };
      try {
        const { Attributes } = await client.send(new UpdateItemCommand({
          TableName: tableName,
          Key: eventKey(eventId),
          UpdateExpression: 'ADD attempts :one SET lastFailedAt = :at, #ttl = :expires',
          // An expired record's attempts belong to another time: start counting again (below).
          ConditionExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
          ExpressionAttributeNames: { '#ttl': ttl },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }));
        return Number(Attributes?.attempts?.N ?? 1);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw unavailable(tableName, error);
      }
      try {
        await client.send(new UpdateItemCommand({
          TableName: tableName,
          Key: eventKey(eventId),
          UpdateExpression: 'SET attempts = :one, lastFailedAt = :at, #ttl = :expires REMOVE processedAt',
          ExpressionAttributeNames: { '#ttl': ttl },
          ExpressionAttributeValues: { ':one': values[':one'], ':at': values[':at'], ':expires': values[':expires'] },
        }));
        return 1;
      } catch (error) {
        throw unavailable(tableName, error);
      }
    },
  };
}

/**
 * The reconciliation's watermark: the Front `emitted_at` (Unix seconds) up to which every event has been enqueued
 * or found processed. One item, `watermark#reconcile`, never expired; it only moves forward.
 */
export interface Watermark {
  get(): Promise<number | undefined>;
  /** Moves it to `at` unless it is already there or later. */
  advance(at: number): Promise<void>;
}

export function createDynamoWatermark(client: DynamoDBClient, tableName: string, name = 'reconcile'): Watermark {
  const key = { [table.partitionKey]: { S: `watermark#${name}` } };
  return {
    async get() {
      try {
        // Strongly consistent: a run must start from where the previous one stopped.
        const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
        const at = Number(Item?.at?.N);
        return Number.isFinite(at) ? at : undefined;
      } catch (error) {
        throw unavailable(tableName, error);
      }
    },
    async advance(at) {
      try {
        await client.send(new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET #at = :at, updatedAt = :now',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': { N: String(at) }, ':now': { S: new Date().toISOString() } },
        }));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw unavailable(tableName, error);
      }
    },
  };
}
