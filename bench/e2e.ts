/**
 * Local end-to-end benchmark (issue: "a local loop that keeps up"): signed Front events POSTed over loopback by 25
 * concurrent senders to the local stack exactly as `npm start` runs it (the built functions in worker threads,
 * fauxqs, dynalite with eventually consistent reads, the fake Front API), beside a bare node:http server that
 * answers 200 to the same kind of requests, driven by the same client in the same run. The client runs in its own
 * process (bench/load-client.ts), each conversation through one sender, in order.
 *
 * Rounds alternate, bare then stack, so that a change in the machine's load moves both sides of a pair; the ratio
 * is the median of the pairs' ratios. After each stack round the bench waits until the round's events are all
 * processed, so that processing never runs during a bare round. Both servers are warmed up first (the stack until
 * its functions' code is compiled: a long-running `npm start` is past that).
 * Reports requests/s, acknowledgement latency p50/p99, time until processed, and checks that every event was
 * processed exactly once and, per conversation, in the order it was sent.
 * `node --import tsx bench/e2e.ts` (after `npm run build`).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { randomId, sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { startLocalStack } from '../local/stack.ts';

const SECRET = 'bench-rule-secret';
export const SENDERS = 25;

export interface E2eOptions {
  /** Requests per round (each side). */
  requests?: number;
  rounds?: number;
  /** Requests sent to the stack (and half as many to the bare server) before the first round. */
  warmup?: number;
  conversations?: number;
}

export interface Round { bare: number; stack: number }

export interface E2eResult {
  options: Required<E2eOptions>;
  /** Requests per second of each round pair. */
  rounds: Round[];
  bare: { perSecond: number; ackP50: number; ackP99: number; statuses: Record<number, number> };
  stack: {
    perSecond: number; ackP50: number; ackP99: number; statuses: Record<number, number>;
    processedP50: number; processedP99: number; drainSeconds: number[];
    requests: number; processedOnce: number; duplicates: number; missing: number; outOfOrder: number;
  };
  /** Median over the round pairs of stack ÷ bare requests per second. */
  ratio: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);

interface Request { id: string; body: string; headers: Record<string, string>; conversation: string }

function requests(count: number, conversations: number): Request[] {
  const ids = Array.from({ length: conversations }, () => randomId('cnv'));
  return Array.from({ length: count }, (_, i) => {
    const conversation = ids[i % conversations]!;
    const event = sampleEvent({ type: i % 3 === 0 ? 'inbound' : 'tag', preview: i % 2 === 0, conversationId: conversation });
    const body = JSON.stringify(event);
    return { id: event.id, body, headers: signedHeaders('rule', SECRET, body), conversation };
  });
}

interface Load { seconds: number; latencies: number[]; statuses: Record<number, number>; sentAt: Record<string, number> }

/** Runs the client process against `url` with `batch`. */
async function load(url: string, batch: readonly Request[]): Promise<Load> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load-client.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stdin.end(JSON.stringify({ url, senders: SENDERS, requests: batch }));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`bench/load-client.ts exited with ${code}`);
  return JSON.parse(Buffer.concat(out).toString('utf8')) as Load;
}

function addStatuses(into: Record<number, number>, from: Record<number, number>): void {
  for (const [status, count] of Object.entries(from)) into[Number(status)] = (into[Number(status)] ?? 0) + count;
}

export async function runE2eBench(options: E2eOptions = {}): Promise<E2eResult> {
  const o: Required<E2eOptions> = { requests: 500, rounds: 4, warmup: 2000, conversations: 100, ...options };

  // The floor: node:http answering 200 after reading the body, same loopback, same client.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/webhooks/front`;

  // The stack as npm start runs it; "front event processed" lines come back from the process worker.
  const processed = new Map<string, number[]>();
  const order = new Map<string, string[]>();
  const stack = await startLocalStack({
    port: 0, sqsPort: 0, dynamoPort: 0, front: { port: 0 }, reconcileEverySeconds: 0, secrets: { rule: SECRET },
    onLine: (fn, line) => {
      if (fn !== 'process' || !line.includes('"front event processed"')) return;
      const parsed = JSON.parse(line) as { eventId: string; conversationId: string };
      processed.set(parsed.eventId, [...(processed.get(parsed.eventId) ?? []), Date.now()]);
      order.set(parsed.conversationId, [...(order.get(parsed.conversationId) ?? []), parsed.eventId]);
    },
  });
  const allProcessed = async (batch: readonly Request[], limitMs: number) => {
    const deadline = Date.now() + limitMs;
    while (batch.some((r) => !processed.has(r.id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    const warm = requests(o.warmup, o.conversations);
    await load(stack.url, warm);
    await allProcessed(warm, 120_000);
    await load(bareUrl, requests(Math.ceil(o.warmup / 2), o.conversations));

    const rounds: Round[] = [];
    const bareLatencies: number[] = [];
    const stackLatencies: number[] = [];
    const bareStatuses: Record<number, number> = {};
    const stackStatuses: Record<number, number> = {};
    const untilProcessed: number[] = [];
    const drainSeconds: number[] = [];
    const sent: Request[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const b = await load(bareUrl, requests(o.requests, o.conversations));
      bareLatencies.push(...b.latencies);
      addStatuses(bareStatuses, b.statuses);

      const batch = requests(o.requests, o.conversations);
      sent.push(...batch);
      const started = Date.now();
      const s = await load(stack.url, batch);
      await allProcessed(batch, 180_000);
      const done = batch.filter((r) => processed.has(r.id));
      drainSeconds.push((Math.max(...done.map((r) => processed.get(r.id)![0]!)) - started) / 1000);
      untilProcessed.push(...done.map((r) => processed.get(r.id)![0]! - (s.sentAt[r.id] ?? 0)));
      stackLatencies.push(...s.latencies);
      addStatuses(stackStatuses, s.statuses);
      rounds.push({ bare: o.requests / b.seconds, stack: o.requests / s.seconds });
    }
    // Per conversation: the order of the "processed" lines against the order the events were sent.
    const byConversation = new Map<string, string[]>();
    for (const r of sent) byConversation.set(r.conversation, [...(byConversation.get(r.conversation) ?? []), r.id]);
    let outOfOrder = 0;
    for (const [id, ids] of byConversation) {
      const wanted = new Set(ids);
      const seen = (order.get(id) ?? []).filter((e) => wanted.has(e));
      if (JSON.stringify(seen) !== JSON.stringify(ids)) outOfOrder += 1;
    }
    const sorted = (values: number[]) => values.sort((a, b) => a - b);
    sorted(bareLatencies);
    sorted(stackLatencies);
    sorted(untilProcessed);
    return {
      options: o,
      rounds,
      ratio: median(rounds.map((r) => r.stack / r.bare)),
      bare: { perSecond: median(rounds.map((r) => r.bare)), ackP50: percentile(bareLatencies, 50), ackP99: percentile(bareLatencies, 99), statuses: bareStatuses },
      stack: {
        perSecond: median(rounds.map((r) => r.stack)),
        ackP50: percentile(stackLatencies, 50), ackP99: percentile(stackLatencies, 99), statuses: stackStatuses,
        processedP50: percentile(untilProcessed, 50), processedP99: percentile(untilProcessed, 99), drainSeconds,
        requests: sent.length,
        processedOnce: sent.filter((r) => processed.get(r.id)?.length === 1).length,
        duplicates: sent.filter((r) => (processed.get(r.id)?.length ?? 0) > 1).length,
        missing: sent.filter((r) => !processed.has(r.id)).length,
        outOfOrder,
      },
    };
  } finally {
    await stack.stop();
    await new Promise<void>((resolve) => { bare.close(() => resolve()); bare.closeAllConnections(); });
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function formatE2e(result: E2eResult): string {
  const { bare, stack, options: o } = result;
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  return [
    `| path | requests | senders | requests/s (median of ${o.rounds} rounds) | ack p50 | ack p99 | POST → processed p50 | POST → processed p99 | round processed after |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| bare node:http 200 | ${o.rounds} × ${o.requests} | ${SENDERS} | ${bare.perSecond.toFixed(0)} | ${ms(bare.ackP50)} | ${ms(bare.ackP99)} | – | – | – |`,
    `| local stack (npm start) | ${o.rounds} × ${o.requests} | ${SENDERS} | ${stack.perSecond.toFixed(0)} | ${ms(stack.ackP50)} | ${ms(stack.ackP99)} | ${ms(stack.processedP50)} | ${ms(stack.processedP99)} | ${stack.drainSeconds.map((s) => `${s.toFixed(2)} s`).join(', ')} |`,
    '',
    `Rounds (bare / stack requests/s): ${result.rounds.map((r) => `${r.bare.toFixed(0)} / ${r.stack.toFixed(0)}`).join(', ')}.`,
    `Local stack ÷ bare: **${(result.ratio * 100).toFixed(0)} %** of the requests per second (target ≥ 25 %: ${met(result.ratio >= 0.25)}); ack p99 **${ms(stack.ackP99)}** (target ≤ 100 ms: ${met(stack.ackP99 <= 100)}).`,
    `Processed exactly once: ${stack.processedOnce} of ${stack.requests} (${stack.duplicates} more than once, ${stack.missing} not processed); conversations out of order: ${stack.outOfOrder}.`,
    `Statuses: bare ${JSON.stringify(bare.statuses)}, stack ${JSON.stringify(stack.statuses)}.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const result = await runE2eBench();
  const o = result.options;
  return [
    '### End to end (local stack)',
    '',
    `Signed rule webhooks (previews and full events, ${o.conversations} conversations) POSTed by ${SENDERS} concurrent senders over`,
    'loopback from a client in its own process (bench/load-client.ts; each conversation through one sender, in order).',
    '"bare node:http 200" reads the body and answers 200: the floor of this machine and client. "local stack" is',
    '`startLocalStack()` as `npm start` runs it: the built functions in worker threads (ingest behind node:http, process',
    'fed by 4 pollers), fauxqs, dynalite in its own thread with eventually consistent reads. Rounds alternate, bare then',
    `stack, ${o.rounds} of each, ${o.requests} requests per round, after ${o.warmup} warm-up requests; each stack round is processed`,
    'to the last event before the next round starts. "POST → processed" runs from the request being sent to the "front event',
    'processed" line; "round processed after" from the round\'s first request to its last event processed.',
    '',
    formatE2e(result),
    '',
    'Command: `npm run bench -- e2e` (or `node --import tsx bench/e2e.ts` after `npm run build`).',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
