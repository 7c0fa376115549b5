/**
 * The process function: bundle size and cold import time of dist/process/index.mjs (a fresh node process per
 * run, median), what each Powertools utility (Logger, Metrics, Batch) adds to both (the function rebuilt
 * with that utility replaced by an empty stub), and the handler's time per batch of 10 events in-process.
 * `node --import tsx bench/process.ts` (after `npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build, type Plugin } from 'esbuild';
import { sampleEvent } from '../lib/front/samples.ts';
import { handlers } from '../lib/handlers/index.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { noMetrics } from '../lib/process/metrics.ts';
import type { EventState, EventStore } from '../lib/store/events.ts';
import { ATTR } from '../lib/queue.ts';

const BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** Empty stand-ins with the names functions/process.ts imports: only their size and load time matter. */
const STUBS: Record<string, string> = {
  '@aws-lambda-powertools/logger': 'export class Logger { debug() {} info() {} warn() {} error() {} addContext() {} }',
  '@aws-lambda-powertools/metrics': "export const MetricUnit = { Count: 'Count', Milliseconds: 'Milliseconds' }; export class Metrics { addMetric() {} addDimension() {} singleMetric() { return this; } publishStoredMetrics() {} }",
};

function stub(names: readonly string[]): Plugin {
  return {
    name: 'stub',
    setup(b) {
      b.onResolve({ filter: /^@aws-lambda-powertools\/(logger|metrics)$/ }, (args) =>
        names.includes(args.path) ? { path: args.path, namespace: 'stub' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path] ?? '', loader: 'js' }));
    },
  };
}

/** Same esbuild options as scripts/build.ts. */
async function bundle(outfile: string, stubbed: readonly string[]): Promise<number> {
  await build({
    entryPoints: ['functions/process.ts'], outfile, bundle: true, platform: 'node', target: 'node22', format: 'esm',
    mainFields: ['module', 'main'], minify: true, legalComments: 'none', banner: { js: BANNER }, logLevel: 'error',
    plugins: [stub(stubbed)],
  });
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
    POWERTOOLS_SERVICE_NAME: 'bench', POWERTOOLS_METRICS_NAMESPACE: 'FrontWebhooks',
  };
  const times: number[][] = files.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, file] of files.entries()) {
      const code = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(resolve(file)).href)}); process.stdout.write(String(performance.now() - t));`;
      times[i]?.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' })));
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
    async processedAmong(ids) { return new Set(ids.filter((id) => items.get(id)?.processedAt)); },
  };
}

function records(count: number): SQSRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const event = sampleEvent({ type: i % 2 ? 'inbound' : 'tag', preview: i % 3 === 0 });
    const attr = (value: string) => ({ dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] });
    return {
      messageId: `m-${i}`, receiptHandle: `r-${i}`, body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'bench', ApproximateFirstReceiveTimestamp: String(Date.now()), MessageGroupId: event.conversation?.id ?? event.id, MessageDeduplicationId: event.id, SequenceNumber: String(i) },
      messageAttributes: { [ATTR.eventId]: attr(event.id), [ATTR.eventType]: attr(event.type), [ATTR.scheme]: attr('rule'), [ATTR.receivedAt]: attr(new Date().toISOString()), [ATTR.bodyEncoding]: attr('utf8') },
      md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo', awsRegion: 'us-east-1',
    } as SQSRecord;
  });
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
      ['without Metrics', ['@aws-lambda-powertools/metrics']],
      ['without Logger, Metrics', Object.keys(STUBS)],
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
      store: memoryStore(), metrics: noMetrics,
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
    `Handler time per batch of 10 events, in-process (logs and metrics discarded), ${result.batchOf10Ms.batches} batches: median ${result.batchOf10Ms.median.toFixed(3)} ms, p99 ${result.batchOf10Ms.p99.toFixed(3)} ms.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const result = await runProcessBench();
  const full = result.variants[0];
  const none = result.variants.at(-1);
  const share = full && none ? `Together Logger, Metrics and Batch add ${kb(full.bytes - none.bytes)} (${(((full.bytes - none.bytes) / full.bytes) * 100).toFixed(0)} % of the bundle) and ${(full.coldImportMs - none.coldImportMs).toFixed(1)} ms of cold import; the rest is the AWS SDK's SQS client (for the DLQ send), the ajv standalone validators and our code.` : '';
  return [
    '### Process function',
    '',
    'Cold import: `await import()` of the bundle, its top level included (SQS client, Logger, Metrics built), timed inside a fresh',
    '`node` process per run; all bundles of the table interleaved in each round, median of 21 rounds. "without X" is',
    'functions/process.ts rebuilt with the same esbuild options and that Powertools package replaced by an empty stub: the',
    'difference to "as built" is what the package adds (shared @aws-lambda-powertools/commons only shows in the last row).',
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
