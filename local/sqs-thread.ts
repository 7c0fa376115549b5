/**
 * fauxqs in a worker thread of its own (local/sqs.ts, `startLocalSqsThread`): the queue's work (every SendMessage of
 * ingest, every receive and delete of the event source) then runs beside the event loop that answers webhooks, not
 * on it. workerData: `{port, prefix, visibilityTimeoutSeconds}`; posts `{type: 'ready', …queues}` (or
 * `{type: 'failed', message}`); answers `{type: 'expire-deduplication'}` with `{type: 'done'}`; stops on `{type: 'stop'}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { expireDeduplication } from './fauxqs-fifo.ts';
import { startLocalSqs } from './sqs.ts';

const data = workerData as { port: number; prefix: string; visibilityTimeoutSeconds?: number };
const port = parentPort!;
try {
  const sqs = await startLocalSqs({
    port: data.port, prefix: data.prefix,
    ...(data.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: data.visibilityTimeoutSeconds }),
  });
  port.on('message', (message: { type: string }) => {
    if (message.type === 'expire-deduplication') {
      expireDeduplication();
      port.postMessage({ type: 'done' });
    } else if (message.type === 'stop') {
      void sqs.stop().finally(() => port.postMessage({ type: 'stopped' }));
    }
  });
  port.postMessage({ type: 'ready', endpoint: sqs.endpoint, port: sqs.port, queueUrl: sqs.queueUrl, queueArn: sqs.queueArn, dlqUrl: sqs.dlqUrl });
} catch (error) {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
