/**
 * dynalite in a worker thread of its own (local/dynamodb.ts, `startLocalDynamoThread`): the state table's reads and
 * writes then cost the event loop that answers webhooks nothing. workerData: `{port, prefix, readLagMs, nice}`;
 * posts `{type: 'ready', port}` (or `{type: 'failed', message}`), stops on `{type: 'stop'}`.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { startLocalDynamo } from './dynamodb.ts';

const data = workerData as { port: number; prefix: string; readLagMs: number; nice?: number };
const port = parentPort!;
if (data.nice && process.platform === 'linux') setPriority(data.nice);
try {
  const dynamo = await startLocalDynamo({ port: data.port, prefix: data.prefix, readLagMs: data.readLagMs });
  port.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void dynamo.stop().finally(() => port.postMessage({ type: 'stopped' }));
  });
  port.postMessage({ type: 'ready', port: dynamo.port });
} catch (error) {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
