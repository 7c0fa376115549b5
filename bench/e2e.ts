/**
 * Local end-to-end benchmark: signed Front events POSTed over loopback to the local stack (the built ingest
 * bundle behind node:http, fauxqs, pollers feeding the process logic), beside a bare node:http server that
 * answers 200 to the same requests, measured in the same run with the same client and concurrency.
 * Reports throughput, acknowledgement latency p50/p99 and time until processed (request sent -> "front event
 * processed" logged). Bounded: a fixed number of requests. `node --import tsx bench/e2e.ts` (after `npm run build`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { randomId, sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import type { EventLogger } from '../lib/handlers/types.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { createDynamoClient, createDynamoEventStore } from '../lib/store/events.ts';
import { startLocalStack } from '../local/stack.ts';

const SECRET = 'bench-rule-secret';

export interface LoadResult {
  requests: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  ackP50: number;
  ackP99: number;
  statuses: Record<number, number>;
}

export interface E2eResult {
  bare: LoadResult;
  stack: LoadResult & { processedP50: number; processedP99: number; drainSeconds: number; processed: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

interface Request { body: string; headers: Record<string, string>; id: string }

function requests(count: number, conversations: number): Request[] {
  const ids = Array.from({ length: conversations }, () => randomId('cnv'));
  return Array.from({ length: count }, (_, i) => {
    const event = sampleEvent({ type: i % 3 === 0 ? 'inbound' : 'tag', preview: i % 2 === 0, conversationId: ids[i % conversations] ?? null });
    const body = JSON.stringify(event);
    return { body, headers: signedHeaders('rule', SECRET, body), id: event.id };
  });
}

/** Sends every request once with `concurrency` workers; returns latencies and when each was acknowledged. */
async function load(url: string, batch: readonly Request[], concurrency: number): Promise<{ result: LoadResult; sentAt: Map<string, number> }> {
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const statuses: Record<number, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (;;) {
      const request = batch[next++];
      if (!request) return;
      const t0 = performance.now();
      sentAt.set(request.id, t0);
      const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
      await response.arrayBuffer();
      const t1 = performance.now();
      latencies.push(t1 - t0);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    result: { requests: batch.length, concurrency, seconds, perSecond: batch.length / seconds, ackP50: percentile(latencies, 50), ackP99: percentile(latencies, 99), statuses },
    sentAt,
  };
}

export async function runE2eBench(options: { requests?: number; concurrency?: number; conversations?: number } = {}): Promise<E2eResult> {
  const count = options.requests ?? 2000;
  const concurrency = options.concurrency ?? 32;
  const conversations = options.conversations ?? 100;

  // The floor: node:http answering 200 after reading the body, on the same loopback, same client.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/webhooks/front`;
  await load(bareUrl, requests(200, conversations), concurrency);
  const bareRun = await load(bareUrl, requests(count, conversations), concurrency);
  await new Promise<void>((resolve) => { bare.close(() => resolve()); bare.closeAllConnections(); });

  // The stack: built ingest bundle, fauxqs, pollers; the process logic records when each event was processed.
  const processedAt = new Map<string, number>();
  const logger: EventLogger = {
    debug() {}, warn() {}, error() {},
    info(message, ...fields) {
      if (message === 'front event processed') processedAt.set(String(Object.assign({}, ...fields).eventId), performance.now());
    },
  };
  const stack = await startLocalStack({
    port: 0, sqsPort: 0, dynamoPort: 0, secrets: { rule: SECRET },
    processHandler: ({ sqsEndpoint, queueUrl, dlqUrl, dynamoEndpoint, tableName }) => createProcessHandler({
      registry: handlers, sqs: new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1' }), queueUrl, dlqUrl, logger,
      store: createDynamoEventStore({ client: createDynamoClient(dynamoEndpoint), tableName }),
    }),
  });
  try {
    const warm = requests(200, conversations);
    await load(stack.url, warm, concurrency);
    const warmDeadline = Date.now() + 60_000;
    while (warm.some((r) => !processedAt.has(r.id)) && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 10));

    const batch = requests(count, conversations);
    const started = performance.now();
    const { result, sentAt } = await load(stack.url, batch, concurrency);
    const deadline = Date.now() + 120_000;
    while (batch.some((r) => !processedAt.has(r.id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const drained = Math.max(...batch.map((r) => processedAt.get(r.id) ?? Number.NaN));
    const untilProcessed = batch
      .filter((r) => processedAt.has(r.id))
      .map((r) => (processedAt.get(r.id) ?? 0) - (sentAt.get(r.id) ?? 0))
      .sort((a, b) => a - b);
    return {
      bare: bareRun.result,
      stack: {
        ...result,
        processed: untilProcessed.length,
        processedP50: percentile(untilProcessed, 50),
        processedP99: percentile(untilProcessed, 99),
        drainSeconds: (drained - started) / 1000,
      },
    };
  } finally {
    await stack.stop();
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function formatE2e(result: E2eResult): string {
  const { bare, stack } = result;
  return [
    `| path | requests | concurrency | throughput | ack p50 | ack p99 | POST → processed p50 | POST → processed p99 | all processed after |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| bare node:http 200 | ${bare.requests} | ${bare.concurrency} | ${bare.perSecond.toFixed(0)} req/s | ${ms(bare.ackP50)} | ${ms(bare.ackP99)} | – | – | – |`,
    `| local stack (ingest → fauxqs → process) | ${stack.requests} | ${stack.concurrency} | ${stack.perSecond.toFixed(0)} req/s | ${ms(stack.ackP50)} | ${ms(stack.ackP99)} | ${ms(stack.processedP50)} | ${ms(stack.processedP99)} | ${stack.drainSeconds.toFixed(2)} s (${stack.processed}/${stack.requests} processed) |`,
    '',
    `Statuses: bare ${JSON.stringify(bare.statuses)}, stack ${JSON.stringify(stack.statuses)}.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const result = await runE2eBench();
  return [
    '### End to end (local stack)',
    '',
    '2000 signed rule webhooks (previews and full events, 100 conversations) POSTed by 32 concurrent `fetch` workers over',
    'loopback, after 200 warm-up requests. "bare node:http 200" is a server that reads the body and answers 200, driven by the',
    'same client in the same run: the floor of this machine and client. "local stack" is `startLocalStack()`: the built',
    'ingest bundle behind node:http, fauxqs, 4 pollers feeding the process logic (createProcessHandler, logs recorded',
    'instead of printed). Everything, client included, shares one Node process and event loop on this machine, so the',
    'figures are those of a laptop-sized local loop, not of Lambda. "POST → processed" runs from the request being sent to',
    'the "front event processed" line; it can be below the ack latency because the process function often handles the',
    'event before the client has read its 202.',
    '',
    formatE2e(result),
    '',
    'Command: `npm run bench -- e2e` (or `node --import tsx bench/e2e.ts` after `npm run build`).',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
