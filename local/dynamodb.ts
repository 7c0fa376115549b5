/**
 * The embedded DynamoDB of `npm start`, the tests and the benchmarks: dynalite in-process, listening on loopback
 * only, with the state table created from lib/table.json (the definition serverless.yml reads too).
 *
 * Where dynalite differs from DynamoDB in a way that matters here:
 * - it is always consistent; with `readLagMs`, reads that do not ask for consistency see an item as it was for that
 *   long after it is written, as DynamoDB's eventually consistent reads may (local/eventual-consistency.ts);
 * - it never deletes items past their TTL, and has no UpdateTimeToLive; DynamoDB itself deletes them only within
 *   days, so the code already treats an expired item as absent (lib/store/events.ts), locally as on AWS;
 * - a failed conditional write does not return the old item (ReturnValuesOnConditionCheckFailure); the store
 *   reads it instead, on AWS too.
 */
import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import table from '../lib/table.json' with { type: 'json' };
import { makeDynaliteEventuallyConsistent } from './eventual-consistency.ts';
import { LOCAL_REGION, LOOPBACK } from './sqs.ts';

export const DEFAULT_DYNAMODB_PORT = 8000;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalDynamo {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  tableName: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Creates the state table as serverless.yml declares it: one string partition key, billed per request. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: table.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: table.partitionKey, KeyType: 'HASH' }],
  }));
}

export async function startLocalDynamo(options: { port: number; prefix: string; readLagMs?: number }): Promise<LocalDynamo> {
  makeDynaliteEventuallyConsistent();
  const { default: dynalite } = await import('dynalite');
  // createTableMs 0: the table is ACTIVE at once, as the local stack needs it before the first event.
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, readLagMs: options.readLagMs ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`Cannot start the DynamoDB emulator on ${LOOPBACK}:${options.port} (set DYNAMODB_PORT to another port): ${error.message}`, { cause: error })));
    server.listen(options.port, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = localDynamoClient(endpoint);
  const tableName = `${options.prefix}-${table.name}`;
  const stop = async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    await createStateTable(client, tableName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, tableName, client, stop };
}

/**
 * The same emulator in a worker thread of its own (local/dynamo-thread.ts), as the local stack runs it: off the event
 * loop that answers webhooks, and, with `nice` (Linux), yielding the CPU to it when both want it.
 */
export async function startLocalDynamoThread(options: { port: number; prefix: string; readLagMs?: number; nice?: number }): Promise<LocalDynamo> {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { module: new URL('./dynamo-thread.ts', import.meta.url).href, port: options.port, prefix: options.prefix, readLagMs: options.readLagMs ?? 0, nice: options.nice },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { type: string; port?: number; message?: string }) => {
      if (message.type === 'ready' && message.port) resolve(message.port);
      else reject(new Error(message.message ?? 'the DynamoDB emulator thread did not start'));
    });
    worker.once('error', reject);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const endpoint = `http://${LOOPBACK}:${port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint, port, tableName: `${options.prefix}-${table.name}`, client,
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'stop' });
      });
      await worker.terminate();
    },
  };
}
