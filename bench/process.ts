/**
 * The process function:
 * - `run`: bundle size and cold import time of dist/process/index.mjs (a fresh node process per run, median), what
 *   Powertools Logger adds to both (the function rebuilt with that utility replaced by an
 *   empty stub), and the handler's time per batch of 10 events in-process;
 * - `runStateTable`: what the state table (lib/store/events.ts) adds per event and per batch, against dynalite on
 *   loopback, beside the same handler path with an in-memory store, in the same run;
 * - `runThroughput`: events/s for 1,000 events whose handler awaits 20 ms, conversations of a batch concurrently
 *   (groupConcurrency default) or one record after another (groupConcurrency 1, the first release's behaviour).
 * `node --import tsx bench/process.ts [state-table|throughput]` (after `npm run build`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build, type Plugin } from 'esbuild';
import { randomId, sampleEvent } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import { defineHandlers, type HandlerRegistry } from '../lib/handlers/types.ts';
import { createProcessHandler, type ProcessHandler } from '../lib/process/handler.ts';
import { DEFAULT_SETTINGS } from '../lib/process/settings.ts';
import { createDynamoClient, createDynamoEventStore, type EventState, type EventStore } from '../lib/store/events.ts';
import { ATTR } from '../lib/queue.ts';
import { bundleOptions } from '../scripts/build.ts';

/** Empty stand-ins with the names functions/process.ts imports: only their size and load time matter. */
const STUBS: Record<string, string> = {
  '@aws-lambda-powertools/logger':
    'export class Logger { debug() {} info() {} warn() {} error() {} addContext() {} }\n' +
    'export class LogFormatter {}\nexport class LogItem { constructor() {} addAttributes() { return this; } }',
};

function stub(names: readonly string[]): Plugin {
  return {
    name: 'stub',
    setup(b) {
      b.onResolve({ filter: /^@aws-lambda-powertools\/(logger)$/ }, (args) =>
        names.includes(args.path) ? { path: args.path, namespace: 'stub' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path] ?? '', loader: 'js' }));
    },
  };
}

/** Same esbuild options as scripts/build.ts. */
async function bundle(outfile: string, stubbed: readonly string[]): Promise<number> {
  await build({ ...bundleOptions('functions/process.ts', outfile), logLevel: 'error', plugins: [stub(stubbed)] });
  return statSync(outfile).size;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Milliseconds to import each module (its top level included) in a fresh node process: `runs` rounds, the
 * files interleaved within each round so that machine noise falls on all of them alike; median per file.
 */
export function coldImportMs(files: readonly string[], runs = 11): number[] {
  const env = {
    PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench',
    QUEUE_URL: 'http://127.0.0.1:1/000000000000/q.fifo', DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq.fifo',
    STATE_TABLE: 'bench-state',
    POWERTOOLS_SERVICE_NAME: 'bench', POWERTOOLS_METRICS_NAMESPACE: 'FrontWebhooks',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const times: number[][] = files.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, file] of files.entries()) {
      const code = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(resolve(file)).href)}); process.stdout.write('\\nimport-ms=' + (performance.now() - t));`;
      // The bundle's top level may log (the process function says once whether the Front API is configured).
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
      times[i]?.push(Number(/import-ms=([\d.]+)/.exec(out)?.[1]));
    }
  }
  return times.map(median);
}

/** The state table's logic without its I/O: the baseline the store's cost is measured against. */
function memoryStore(): EventStore {
  const items = new Map<string, EventState>();
  return {
    async get(id) { return items.get(id); },
    async markProcessed(id, at) { items.set(id, { attempts: items.get(id)?.attempts ?? 0, processedAt: at.toISOString() }); return {}; },
    async recordFailure(id) { const attempts = (items.get(id)?.attempts ?? 0) + 1; items.set(id, { attempts }); return attempts; },
    async knownAmong(ids) {
      return { processed: new Set(ids.filter((id) => items.get(id)?.processedAt)), failing: new Set(ids.filter((id) => !items.get(id)?.processedAt && (items.get(id)?.attempts ?? 0) > 0)) };
    },
  };
}

/** A queue record as Lambda passes it: `event` queued by ingest as the `sequence`-th message of its conversation's group. */
function recordOf(event: ReturnType<typeof sampleEvent>, sequence: number): SQSRecord {
  const attr = (value: string) => ({ dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] });
  return {
    messageId: `m-${event.id}`, receiptHandle: `r-${event.id}`, body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'bench', ApproximateFirstReceiveTimestamp: String(Date.now()), MessageGroupId: event.conversation?.id ?? event.id, MessageDeduplicationId: event.id, SequenceNumber: String(sequence) },
    messageAttributes: { [ATTR.eventId]: attr(event.id), [ATTR.eventType]: attr(event.type), [ATTR.scheme]: attr('rule'), [ATTR.receivedAt]: attr(new Date().toISOString()), [ATTR.bodyEncoding]: attr('utf8') },
    md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo', awsRegion: 'us-east-1',
  } as SQSRecord;
}

/** `count` new events (rule webhooks, full and previews), each in its own conversation unless `conversationId` is given. */
function records(count: number, conversationId?: string): SQSRecord[] {
  return Array.from({ length: count }, (_, i) => recordOf(sampleEvent({ type: i % 2 ? 'inbound' : 'tag', preview: i % 3 === 0, ...(conversationId && { conversationId }) }), i));
}

export interface ProcessBenchResult {
  bundleBytes: number;
  zipBytes: number;
  coldImportMs: number;
  variants: Array<{ label: string; bytes: number; coldImportMs: number }>;
  batchOf10Ms: { median: number; p99: number; batches: number };
}

export async function runProcessBench(options: { runs?: number; batches?: number } = {}): Promise<ProcessBenchResult> {
  const runs = options.runs ?? 21;
  const dir = mkdtempSync(join(tmpdir(), 'process-bench-'));
  try {
    const built: Array<{ label: string; bytes: number; file: string }> = [];
    for (const [label, stubbed] of [
      ['as built', []],
      ['without Logger', ['@aws-lambda-powertools/logger']],
    ] as const) {
      const file = join(dir, `${built.length}.mjs`);
      built.push({ label, bytes: await bundle(file, stubbed), file });
    }
    const [distMs = Number.NaN, ...variantMs] = coldImportMs(['dist/process/index.mjs', ...built.map((b) => b.file)], runs);
    const variants = built.map((b, i) => ({ label: b.label, bytes: b.bytes, coldImportMs: variantMs[i] ?? Number.NaN }));

    // In-process: the handler (decode, validate, route, log, metrics) on batches of 10, logs and metrics discarded.
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const handler = createProcessHandler({
      registry: handlers, sqs: new SQSClient({ region: 'us-east-1' }), queueUrl: 'unused', dlqUrl: 'unused', logger: silent,
      store: memoryStore(),
    });
    const batches = options.batches ?? 500;
    const prepared = Array.from({ length: batches + 50 }, () => records(10));
    const times: number[] = [];
    for (const [i, batch] of prepared.entries()) {
      const t0 = performance.now();
      await handler({ Records: batch });
      if (i >= 50) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      bundleBytes: statSync('dist/process/index.mjs').size,
      zipBytes: statSync('dist/process.zip').size,
      coldImportMs: distMs,
      variants,
      batchOf10Ms: { median: median(times), p99: times[Math.ceil(times.length * 0.99) - 1] ?? Number.NaN, batches },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatProcess(result: ProcessBenchResult): string {
  const full = result.variants[0];
  const rows = result.variants.map((v) => {
    const delta = full && v !== full ? ` (${full.label} − this: ${kb(full.bytes - v.bytes)}, ${(full.coldImportMs - v.coldImportMs).toFixed(1)} ms)` : '';
    return `| ${v.label} | ${kb(v.bytes)} | ${v.coldImportMs.toFixed(1)} ms${delta} |`;
  });
  return [
    `dist/process/index.mjs: ${result.bundleBytes} B (${kb(result.bundleBytes)}), dist/process.zip: ${result.zipBytes} B (${kb(result.zipBytes)}); cold import (fresh node per run, median): ${result.coldImportMs.toFixed(1)} ms.`,
    '',
    '| process bundle | size | cold import, median (what the utility adds) |',
    '|---|---|---|',
    ...rows,
    '',
    `Handler time per batch of 10 events, in-process (log lines discarded), ${result.batchOf10Ms.batches} batches: median ${result.batchOf10Ms.median.toFixed(3)} ms, p99 ${result.batchOf10Ms.p99.toFixed(3)} ms.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const result = await runProcessBench();
  const full = result.variants[0];
  const none = result.variants.at(-1);
  const share = full && none ? `Powertools Logger adds ${kb(full.bytes - none.bytes)} (${(((full.bytes - none.bytes) / full.bytes) * 100).toFixed(0)} % of the bundle) and ${(full.coldImportMs - none.coldImportMs).toFixed(1)} ms of cold import; the rest is the AWS SDK's SQS client (retries, DLQ sends) and DynamoDB client (the state table), the ajv standalone validators and our code.` : '';
  return [
    '### Process function',
    '',
    'Cold import: `await import()` of the bundle, its top level included (SQS and DynamoDB clients, Logger built), timed inside a fresh',
    '`node` process per run; all bundles of the table interleaved in each round, median of 21 rounds. "without X" is',
    'functions/process.ts rebuilt with the same esbuild options and that Powertools package replaced by an empty stub: the',
    'difference to "as built" is what the package adds (with @aws-lambda-powertools/commons, which only it uses).',
    'dist/process/index.mjs and the "as built" row are the same code imported from two paths: the gap between their',
    'medians is the noise of the run; cold-import differences smaller than it are not measured differences. Sizes are exact.',
    '',
    formatProcess(result),
    '',
    share,
    '',
    'Command: `npm run bench -- process` (or `node --import tsx bench/process.ts` after `npm run build`).',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The state table and the parallel conversations, against dynalite in its own process.

const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface DynamoChild { child: ChildProcess; endpoint: string; tableName: string }

async function startDynamoChild(): Promise<DynamoChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/dynamo-server.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`bench/dynamo-server.ts exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as Omit<DynamoChild, 'child'>) };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    child.stdin?.end();
  });
}

/** The table the process function uses (lib/store/events.ts, the production client settings) on the emulator. */
function dynamoStore(dynamo: DynamoChild): { store: EventStore; close(): void } {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const client = createDynamoClient(dynamo.endpoint);
  return { store: createDynamoEventStore({ client, tableName: dynamo.tableName }), close: () => client.destroy() };
}

/** dynalite's code and the SDK's are cold at first (JIT): round trips settle after about a thousand. */
async function warmUp(store: EventStore): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const id = randomId('evt');
    await store.get(id);
    await store.markProcessed(id, new Date());
  }
}

function processWith(store: EventStore, registry: HandlerRegistry = handlers, groupConcurrency = DEFAULT_SETTINGS.groupConcurrency): ProcessHandler {
  return createProcessHandler({
    registry, sqs: new SQSClient({ region: 'us-east-1' }), queueUrl: 'unused', dlqUrl: 'unused', logger: silentLogger, store,
    settings: { ...DEFAULT_SETTINGS, groupConcurrency },
  });
}

const p99 = (sorted: readonly number[]) => sorted[Math.ceil(sorted.length * 0.99) - 1] ?? Number.NaN;

export interface StoreCase {
  label: string;
  batches: number;
  memory: { median: number; p99: number };
  dynamo: { median: number; p99: number };
}

/**
 * Wall time per invocation of the same handler path with the in-memory store and with the state table on dynalite,
 * the two interleaved batch by batch so that machine noise falls on both alike. Each case makes its batches
 * (`make`), runs `warmup` of them unmeasured, then `batches`; `before` runs on each batch first (unmeasured).
 */
async function compareStores(dynamo: EventStore, label: string, make: () => SQSRecord[], options: { batches: number; warmup: number; before?: (store: EventStore, batch: SQSRecord[]) => Promise<void> }): Promise<StoreCase> {
  const memory = memoryStore();
  const sides = [{ store: memory, handler: processWith(memory), times: [] as number[] }, { store: dynamo, handler: processWith(dynamo), times: [] as number[] }];
  for (let i = 0; i < options.warmup + options.batches; i++) {
    for (const side of i % 2 ? [...sides].reverse() : sides) {
      const batch = make();
      await options.before?.(side.store, batch);
      const t0 = performance.now();
      const response = await side.handler({ Records: batch });
      const took = performance.now() - t0;
      if (response.batchItemFailures.length > 0) throw new Error(`${label}: ${response.batchItemFailures.length} records failed`);
      if (i >= options.warmup) side.times.push(took);
    }
  }
  const [m, d] = sides.map((side) => side.times.sort((a, b) => a - b));
  return { label, batches: options.batches, memory: { median: median(m!), p99: p99(m!) }, dynamo: { median: median(d!), p99: p99(d!) } };
}

export async function runStateTableBench(options: { batches?: number } = {}): Promise<StoreCase[]> {
  const batches = options.batches ?? 300;
  const dynamo = await startDynamoChild();
  const table = dynamoStore(dynamo);
  try {
    await warmUp(table.store);
    const warmup = 50;
    return [
      await compareStores(table.store, 'one event (batch of 1): GetItem, handler, UpdateItem', () => records(1), { batches, warmup }),
      await compareStores(table.store, 'batch of 10, 10 conversations (concurrently)', () => records(10), { batches, warmup }),
      await compareStores(table.store, 'batch of 10, one conversation (in order)', () => records(10, randomId('cnv')), { batches, warmup }),
      await compareStores(table.store, 'duplicate (batch of 1, already processed): GetItem, skipped', () => records(1), {
        batches, warmup, before: async (store, batch) => { for (const r of batch) await store.markProcessed(JSON.parse(r.body).id, new Date()); },
      }),
    ];
  } finally {
    table.close();
    await stopChild(dynamo.child);
  }
}

export function formatStateTable(cases: readonly StoreCase[]): string {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return [
    '| invocation | in-memory store, median (p99) | state table on dynalite, median (p99) | added by the table, median | per event |',
    '|---|---|---|---|---|',
    ...cases.map((c) => {
      const added = c.dynamo.median - c.memory.median;
      const events = /batch of 10/.test(c.label) ? 10 : 1;
      return `| ${c.label} | ${ms(c.memory.median)} (${ms(c.memory.p99)}) | ${ms(c.dynamo.median)} (${ms(c.dynamo.p99)}) | ${ms(added)} | ${ms(added / events)} |`;
    }),
  ].join('\n');
}

export async function runStateTable(): Promise<string> {
  const cases = await runStateTableBench();
  return [
    '### State table: added time per event and per batch',
    '',
    'The process handler (createProcessHandler: decode, validate, route to lib/handlers, log, metrics, logs and metrics',
    'discarded) on new events, with the state table (lib/store/events.ts, the production client settings, through the',
    'AWS SDK) against dynalite in its own process on loopback, beside the same path with an in-memory store. The two',
    `sides alternate invocation by invocation in one run; ${cases[0]?.batches ?? 0} invocations each after 2,000 GetItem + UpdateItem pairs and 50 invocations of warm-up. The table adds one`,
    'GetItem before the handler and one UpdateItem after it (a duplicate: the GetItem only). A batch\'s conversations',
    'run concurrently (default groupConcurrency 10), so on DynamoDB their requests overlap; dynalite is one Node process',
    '(LevelDB in memory) sharing this 2-core machine with the client, so it serves them mostly one after another, and its',
    'round trip is not DynamoDB\'s (single-digit milliseconds within a region). Read the rows as the round trips an',
    'invocation waits for, not as AWS latencies.',
    '',
    formatStateTable(cases),
    '',
    'Command: `npm run bench -- state-table` (or `node --import tsx bench/process.ts state-table` after `npm run build`).',
  ].join('\n');
}

/** A seeded PRNG (mulberry32): the same conversations for every side and every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `events` new events in arrival order, each in one of `conversations` conversations (seeded), cut into consecutive
 * batches of 10: what Lambda's SQS trigger hands one invocation after another when the queue is not backlogged
 * (each conversation's events in order, several conversations per batch).
 */
function lambdaBatches(events: number, conversations: number, seed = 7): SQSRecord[][] {
  const random = seeded(seed);
  const ids = Array.from({ length: conversations }, () => randomId('cnv'));
  const sequence = new Map<string, number>();
  const all = Array.from({ length: events }, () => {
    const conversationId = ids[Math.floor(random() * conversations)]!;
    sequence.set(conversationId, (sequence.get(conversationId) ?? 0) + 1);
    return recordOf(sampleEvent({ type: 'tag', preview: true, conversationId }), sequence.get(conversationId)!);
  });
  return Array.from({ length: Math.ceil(events / 10) }, (_, i) => all.slice(i * 10, i * 10 + 10));
}

export interface ThroughputCase {
  /** Where the state table is: dynalite in its own process, or the in-memory store. */
  store: 'dynalite' | 'memory';
  conversations: number;
  groupConcurrency: number;
  events: number;
  /** Events per second of the median round, and of every round in the order they ran. */
  perSecond: number;
  rounds: number[];
  /** CPU time of this process (the function; not dynalite's) per event, median round. */
  cpuMsPerEvent: number;
  /** Mean number of conversations per batch. */
  conversationsPerBatch: number;
}

/** Feeds the batches one invocation at a time (as one Lambda instance gets them) and times the whole run. */
async function throughput(store: EventStore, conversations: number, groupConcurrency: number, handlerMs: number, events: number): Promise<Omit<ThroughputCase, 'store' | 'rounds'>> {
  const registry = defineHandlers({ default: () => new Promise<void>((done) => setTimeout(done, handlerMs)) });
  const handler = processWith(store, registry, groupConcurrency);
  const batches = lambdaBatches(events, conversations);
  const groupsPerBatch = batches.map((b) => new Set(b.map((r) => r.attributes.MessageGroupId)).size);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (const batch of batches) {
    const response = await handler({ Records: batch });
    if (response.batchItemFailures.length > 0) throw new Error(`${response.batchItemFailures.length} records failed`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    conversations, groupConcurrency, events, perSecond: events / seconds, cpuMsPerEvent: (used.user + used.system) / 1000 / events,
    conversationsPerBatch: groupsPerBatch.reduce((a, b) => a + b, 0) / batches.length,
  };
}

/**
 * Both sides (default groupConcurrency, then 1) for `rounds` rounds, the order swapped every round so that a drift
 * in the machine's load does not favour one side; each side reported by its median round.
 */
async function bothSides(store: EventStore, label: ThroughputCase['store'], conversations: number, rounds: number, handlerMs: number, events: number): Promise<ThroughputCase[]> {
  const sides = [DEFAULT_SETTINGS.groupConcurrency, 1].map((groupConcurrency) => ({ groupConcurrency, runs: [] as Array<Omit<ThroughputCase, 'store' | 'rounds'>> }));
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) side.runs.push(await throughput(store, conversations, side.groupConcurrency, handlerMs, events));
  }
  return sides.map((side) => {
    const middle = [...side.runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(side.runs.length / 2)]!;
    return { ...middle, store: label, rounds: side.runs.map((r) => r.perSecond) };
  });
}

export async function runThroughputBench(options: { events?: number; handlerMs?: number; rounds?: number } = {}): Promise<{ handlerMs: number; cases: ThroughputCase[] }> {
  const events = options.events ?? 1000;
  const handlerMs = options.handlerMs ?? 20;
  const rounds = options.rounds ?? 3;
  const dynamo = await startDynamoChild();
  const table = dynamoStore(dynamo);
  try {
    await warmUp(table.store);
    await throughput(table.store, 10, DEFAULT_SETTINGS.groupConcurrency, 1, 100);
    return {
      handlerMs,
      cases: [
        ...(await bothSides(table.store, 'dynalite', 100, rounds, handlerMs, events)),
        ...(await bothSides(table.store, 'dynalite', 1, 1, handlerMs, events)),
        // The function's own parallelism, without the emulator.
        ...(await bothSides(memoryStore(), 'memory', 100, 1, handlerMs, events)),
      ],
    };
  } finally {
    table.close();
    await stopChild(dynamo.child);
  }
}

export function formatThroughput(result: { handlerMs: number; cases: readonly ThroughputCase[] }): string {
  const find = (store: string, conversations: number, sequential: boolean) =>
    result.cases.find((c) => c.store === store && c.conversations === conversations && (c.groupConcurrency === 1) === sequential);
  const rows = result.cases.map((c) => [
    `${c.events} events, ${c.conversations} conversation${c.conversations > 1 ? 's' : ''} (${c.conversationsPerBatch.toFixed(1)} per batch)`,
    c.store === 'memory' ? 'in memory' : 'dynalite',
    c.groupConcurrency === 1 ? '1 (one record after another)' : `${c.groupConcurrency} (default)`,
    `**${c.perSecond.toFixed(1)} events/s**${c.rounds.length > 1 ? ` (rounds: ${c.rounds.map((r) => r.toFixed(1)).join(', ')})` : ''}`,
    `${c.cpuMsPerEvent.toFixed(2)} ms`,
  ].join(' | ')).map((row) => `| ${row} |`);
  const ratio = (store: string, conversations: number) => {
    const [fast, slow] = [find(store, conversations, false), find(store, conversations, true)];
    return fast && slow ? `${(fast.perSecond / slow.perSecond).toFixed(2)}×` : 'n/a';
  };
  const events = result.cases[0]?.events ?? 0;
  return [
    '| events | state table | groupConcurrency | throughput (median round) | CPU of the function per event |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Default over one after another, state table on dynalite: **${ratio('dynalite', 100)}** with 100 conversations, **${ratio('dynalite', 1)}** with one`,
    `conversation; with the in-memory store, 100 conversations: **${ratio('memory', 100)}**. One after another cannot beat ${events} × ${result.handlerMs} ms = ${((events * result.handlerMs) / 1000).toFixed(0)} s (${(1000 / result.handlerMs).toFixed(0)} events/s).`,
  ].join('\n');
}

export async function runThroughput(): Promise<string> {
  const result = await runThroughputBench();
  return [
    '### Parallel conversations: throughput',
    '',
    `1,000 new events whose handler awaits ${result.handlerMs} ms (a call to a CRM, say), in arrival order, each in one of 100`,
    'conversations (seeded) or all in one, cut into consecutive batches of 10 and fed one invocation after another, as',
    'one Lambda instance gets them from a queue that is not backlogged (each conversation in order, several per batch).',
    'Same handler path (createProcessHandler, logs and metrics discarded), state table on dynalite in its own process',
    'for both sides; only `groupConcurrency` differs: the default, or 1, which runs a batch\'s records one after another',
    'as the first release did with Powertools\' sequential FIFO processor. A backlogged queue fills each batch from one',
    'conversation instead ("as many messages with the same message group ID as possible"): then a batch runs in order',
    'either way, and the parallelism comes from Lambda running several batches (conversations) at once. The 100',
    'conversations run 3 rounds per side, the order swapped each round; the last two rows repeat them with the in-memory',
    'store: the function\'s own parallelism, without the emulator, which serves the concurrent requests of a batch mostly',
    'one after another on this machine (see the state table section).',
    '',
    formatThroughput(result),
    '',
    'Command: `npm run bench -- throughput` (or `node --import tsx bench/process.ts throughput` after `npm run build`).',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const which = process.argv[2];
  console.log(await (which === 'state-table' ? runStateTable() : which === 'throughput' ? runThroughput() : run()));
}
