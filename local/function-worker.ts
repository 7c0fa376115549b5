/**
 * Runs inside a worker thread: one built function (dist/<name>/index.mjs), as a Lambda sandbox runs it, with its
 * own environment (workerData.env, read by the bundle at import like a cold start) and its own stdout, which the
 * local stack reads line by line. Invocations come as messages; a function fed by the queue also runs its event
 * source here (receive a batch, invoke, delete what succeeded), so a batch never crosses threads.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { interceptLocalhostDns } from 'fauxqs';
import { toSqsRecord } from '../lib/process/sqs-event.ts';

export interface FunctionWorkerData {
  name: string;
  file: string;
  env: Record<string, string>;
  timeoutMs: number;
  region: string;
  /** The SQS event source, for a function the queue feeds. */
  poll?: { queueUrl: string; queueArn: string; endpoint: string; pollers: number; batchSize: number };
  /** Scheduling priority of this thread (a nice value, Linux only), for work off the webhook's request path. */
  nice?: number;
}

export type ToWorker =
  | { type: 'invoke'; id: number; event: unknown }
  /** Stop receiving; answer `drained` once every invocation in flight has finished. */
  | { type: 'drain' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; message: string }
  | { type: 'batch'; records: number; failed: number }
  | { type: 'note'; message: string }
  | { type: 'drained' };

const data = workerData as FunctionWorkerData;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

function lambdaContext(timeoutMs: number, requestId: string): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `front-webhooks-local-${data.name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${data.region}:000000000000:function:front-webhooks-local-${data.name}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/front-webhooks-local-${data.name}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

Object.assign(process.env, data.env);
if (data.nice && process.platform === 'linux') setPriority(data.nice);
// fauxqs's queue URLs (http://sqs.<region>.localhost:<port>/…) resolve to loopback in this thread too.
interceptLocalhostDns();
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handler: Handler;
try {
  ({ handler } = (await import(pathToFileURL(data.file).href)) as { handler: Handler });
} catch (error) {
  post({ type: 'failed', message: `Cannot load ${data.file} (run \`npm run build\` first): ${error instanceof Error ? error.message : String(error)}` });
  throw error;
}

let inFlight = 0;
let draining = false;
const abort = new AbortController();
const pollers: Array<Promise<void>> = [];
const settled: Array<() => void> = [];
const whenIdle = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => settled.push(resolve)));

/** One invocation, bounded by the function's timeout as Lambda bounds it: past it, the invocation has failed. */
async function invoke(event: unknown): Promise<unknown> {
  inFlight += 1;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${data.timeoutMs / 1000} seconds`)), data.timeoutMs);
    });
    return await Promise.race([handler(event, lambdaContext(data.timeoutMs, crypto.randomUUID())), timeout]);
  } finally {
    clearTimeout(timer);
    inFlight -= 1;
    if (inFlight === 0) for (const resolve of settled.splice(0)) resolve();
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'invoke') {
    invoke(message.event).then(
      (value) => post({ type: 'result', id: message.id, ok: true, value }),
      (error: unknown) => post({ type: 'result', id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
    );
  } else if (message.type === 'drain') {
    draining = true;
    abort.abort();
    void Promise.allSettled(pollers).then(whenIdle).then(() => post({ type: 'drained' }));
  }
});

// Lambda's SQS event source: batches of up to 10 (several messages of a conversation when there are, see
// local/fauxqs-fifo.ts), only the successes deleted (ReportBatchItemFailures); the rest come back when the
// function made them visible again, or after the queue's visibility timeout.
if (data.poll) {
  const poll = data.poll;
  const client = new SQSClient({ endpoint: poll.endpoint, region: data.region });
  const loop = async () => {
    while (!draining) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await client.send(new ReceiveMessageCommand({
          QueueUrl: poll.queueUrl, MaxNumberOfMessages: poll.batchSize, WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
        }), { abortSignal: abort.signal }));
      } catch (error) {
        if (draining) return;
        post({ type: 'note', message: `poller: receive failed: ${error instanceof Error ? error.message : String(error)}` });
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, poll.queueArn, data.region)) };
      let failed: Set<string>;
      try {
        const response = (await invoke(event)) as SQSBatchResponse | undefined;
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        // A thrown error or a timeout fails the whole batch, as in Lambda.
        post({ type: 'note', message: `${data.name} function error (the batch will be retried): ${error instanceof Error ? error.message : String(error)}` });
        failed = new Set(messages.map((m) => m.MessageId ?? ''));
      }
      post({ type: 'batch', records: messages.length, failed: failed.size });
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
      if (done.length === 0) continue;
      try {
        await client.send(new DeleteMessageBatchCommand({
          QueueUrl: poll.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }));
      } catch (error) {
        post({ type: 'note', message: `poller: delete failed (the messages will be delivered again): ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  };
  for (let i = 0; i < poll.pollers; i++) pollers.push(loop());
}
post({ type: 'ready' });
