/**
 * The local stack's Lambda: each built function runs in its own worker thread (local/function-worker.ts) with its
 * own environment, as each Lambda function has its own sandbox. Its stdout and stderr (Powertools Logger's JSON
 * lines) come back here line by line; invocations and the queue's event source run in the worker, off the event
 * loop that answers webhooks.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, FunctionWorkerData, ToWorker } from './function-worker.ts';

export interface FunctionWorker {
  readonly name: string;
  /** Invokes the function once (API Gateway's synchronous invoke, a schedule's). */
  invoke<T>(event: unknown): Promise<T>;
  /** Batches the event source handed to the function so far, and their records. */
  readonly stats: { invocations: number; records: number; failedRecords: number };
  /** Stops taking batches and waits for the invocations in flight to finish (Ctrl-C). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface FunctionWorkerOptions {
  name: string;
  /** The environment the function sees (and reads at import, like a cold start). */
  env: Record<string, string | undefined>;
  timeoutMs: number;
  region: string;
  poll?: FunctionWorkerData['poll'];
  nice?: number;
  /** Each line the function writes to stdout or stderr. */
  onLine: (line: string) => void;
  /** What the runtime itself has to say (a failed receive, a crashed batch). */
  onNote: (message: string) => void;
}

export async function startFunctionWorker(options: FunctionWorkerOptions): Promise<FunctionWorker> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  const data: FunctionWorkerData = {
    name: options.name,
    file: resolve('dist', options.name, 'index.mjs'),
    env,
    timeoutMs: options.timeoutMs,
    region: options.region,
    ...(options.poll && { poll: options.poll }),
    ...(options.nice !== undefined && { nice: options.nice }),
  };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { ...data, module: new URL('./function-worker.ts', import.meta.url).href },
    stdout: true,
    stderr: true,
  });
  for (const stream of [worker.stdout, worker.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => { if (line.length > 0) options.onLine(line); });
  }
  const stats = { invocations: 0, records: 0, failedRecords: 0 };
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  let drained: (() => void) | undefined;
  const ready = new Promise<void>((resolveReady, rejectReady) => {
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready': resolveReady(); break;
        case 'failed': rejectReady(new Error(message.message)); break;
        case 'result': {
          const call = pending.get(message.id);
          pending.delete(message.id);
          if (message.ok) call?.resolve(message.value);
          else call?.reject(new Error(message.message));
          break;
        }
        case 'batch':
          stats.invocations += 1;
          stats.records += message.records;
          stats.failedRecords += message.failed;
          break;
        case 'note': options.onNote(message.message); break;
        case 'drained': drained?.(); break;
      }
    });
    worker.once('error', (error) => rejectReady(error));
  });
  worker.on('error', (error) => {
    options.onNote(`${options.name} function crashed: ${error.message}`);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  });
  await ready;
  const send = (message: ToWorker) => worker.postMessage(message);
  return {
    name: options.name,
    stats,
    invoke<T>(event: unknown) {
      const id = ++next;
      return new Promise<T>((resolveCall, rejectCall) => {
        pending.set(id, { resolve: resolveCall as (value: unknown) => void, reject: rejectCall });
        send({ type: 'invoke', id, event });
      });
    },
    drain() {
      return new Promise<void>((resolveDrain) => {
        drained = resolveDrain;
        send({ type: 'drain' });
      });
    },
    async stop() {
      await worker.terminate();
    },
  };
}
