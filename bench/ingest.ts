/**
 * The ingest function: CPU time per event beside the floor (HMAC + JSON.parse of the same bytes), the bundle's
 * size, and its cold import time. `node --import tsx bench/ingest.ts` (after `npm run build`), or `npm run bench`.
 *
 * What is measured, for each payload (rule webhook, HMAC-SHA1, signed once outside the loop):
 * - floor: HMAC-SHA1 of the body + JSON.parse of it: what any verifier must do.
 * - ingest logic: the createIngest handler with an SQS client whose send() returns at once, so no SDK and no I/O:
 *   routing, signature check, parse, ajv validation, encodeBody, message building, the log entry.
 * - full path: the same handler with the real SQS client (createSqsClient) sending to fauxqs in a CHILD process:
 *   adds the SDK's serialization, signing (SigV4), HTTP and response parsing. The server's CPU is not counted.
 * CPU is process.cpuUsage() (user + system) around N sequential calls, divided by N; the wall time beside it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { createIngest, type WebhookRequest } from '../lib/ingest.ts';
import { createSqsClient } from '../lib/queue.ts';
import { createSecretStore } from '../lib/secrets.ts';

const SECRET = 'bench-rule-secret-0123456789abcdef';
const BUNDLE = 'dist/ingest/index.mjs';
const ZIP = 'dist/ingest.zip';

interface Payload { label: string; body: Buffer; request: WebhookRequest }

function payload(label: string, event: unknown): Payload {
  const body = Buffer.from(JSON.stringify(event));
  return { label, body, request: { method: 'POST', path: '/webhooks/front', headers: signedHeaders('rule', SECRET, body), body } };
}

/** Events of the sizes asked for: a preview, a small full event, and a ~50 KB full event (a long message). */
function payloads(): Payload[] {
  return [
    payload('preview', sampleEvent({ type: 'assign', preview: true })),
    payload('full event, small message', sampleEvent({ type: 'inbound', messageBytes: 300 })),
    payload('full event, ~50 KB', sampleEvent({ type: 'inbound', messageBytes: 25_000 })),
  ];
}

export interface CpuFigure { cpuUs: number; wallUs: number; n: number; rounds: number }

const ROUNDS = 3;

/**
 * CPU (user + system) and wall time per call: `n` sequential calls after `n / 10` warm-up calls, repeated ROUNDS
 * times; the median round is kept, so a burst of load from elsewhere on the machine moves one round, not the figure.
 */
async function measure(n: number, call: () => unknown): Promise<CpuFigure> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await call();
  const cpuRounds: number[] = [];
  const wallRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) await call();
    wallRounds.push(((performance.now() - started) * 1000) / n);
    const used = process.cpuUsage(cpu);
    cpuRounds.push((used.user + used.system) / n);
  }
  return { cpuUs: median(cpuRounds), wallUs: median(wallRounds), n, rounds: ROUNDS };
}

interface SqsChild { child: ChildProcess; endpoint: string; queueUrl: string; dlqUrl: string }

async function startSqsChild(): Promise<SqsChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sqs-server.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`bench/sqs-server.ts exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as Omit<SqsChild, 'child'>) };
}

function stopSqsChild(sqs: SqsChild): Promise<void> {
  return new Promise((done) => {
    sqs.child.once('exit', () => done());
    sqs.child.stdin?.end();
  });
}

export interface ColdFigure { runs: number; importMs: number; firstCallMs: number; processStartToResponseMs: number }

/**
 * A fresh `node` per run imports the bundle (its top level: config, Logger, SQS client, secret store) and
 * handles one signed preview that it sends to fauxqs; medians over `runs`.
 */
function coldStart(sqs: SqsChild, runs: number): ColdFigure {
  const body = Buffer.from(JSON.stringify(sampleEvent({ type: 'assign', preview: true })));
  const event = toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: signedHeaders('rule', SECRET, body), body });
  const code = [
    // fauxqs names queues http://sqs.<region>.localhost:<port>/…, which this machine's resolver does not know:
    // resolve *.localhost to loopback, as fauxqs's interceptLocalhostDns() does, before the clock starts.
    "import dns from 'node:dns';",
    'const lookup = dns.lookup;',
    "dns.lookup = (host, ...rest) => lookup(host.endsWith('.localhost') ? '127.0.0.1' : host, ...rest);",
    'const t0 = performance.now();',
    `const { handler } = await import(${JSON.stringify(pathToFileURL(resolve(BUNDLE)).href)});`,
    'const t1 = performance.now();',
    'const result = await handler(JSON.parse(process.env.BENCH_EVENT));',
    'const t2 = performance.now();',
    'process.stderr.write(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1, sinceStartMs: t2, status: result.statusCode }));',
  ].join('\n');
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint, QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl,
    FRONT_RULE_SECRET: SECRET, FRONT_APP_SECRET: `${SECRET}-app`,
    POWERTOOLS_LOG_LEVEL: 'WARN', NODE_NO_WARNINGS: '1',
    BENCH_EVENT: JSON.stringify(event),
  };
  const samples: Array<{ importMs: number; firstCallMs: number; sinceStartMs: number; status: number }> = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
    const json = out.stderr.trim().split('\n').pop() ?? '';
    if (out.status !== 0 || !json.startsWith('{')) throw new Error(`cold start run failed (${out.status}): ${out.stderr}`);
    const sample = JSON.parse(json) as (typeof samples)[number];
    if (sample.status !== 202) throw new Error(`cold start run answered ${sample.status}: ${out.stdout}${out.stderr}`);
    samples.push(sample);
  }
  return {
    runs,
    importMs: median(samples.map((s) => s.importMs)),
    firstCallMs: median(samples.map((s) => s.firstCallMs)),
    processStartToResponseMs: median(samples.map((s) => s.sinceStartMs)),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface IngestBenchResult {
  rows: Array<{ label: string; bytes: number; floor: CpuFigure; logic: CpuFigure; full: CpuFigure }>;
  bundleBytes: number;
  zipBytes: number;
  cold: ColdFigure;
}

export async function runIngestBench(options: { scale?: number; coldRuns?: number } = {}): Promise<IngestBenchResult> {
  const scale = options.scale ?? 1;
  // The SDK needs a region and credentials to sign; fauxqs accepts any.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const sqs = await startSqsChild();
  try {
    const secrets = createSecretStore({ rule: { kind: 'value', value: SECRET }, app: { kind: 'none' } });
    const common = { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, secrets, sendDeadlineMs: 2500, log: (e: { status: number; detail?: string }) => { if (e.status >= 500) console.error(e.detail); } };
    // (Only failures are printed: a 5xx ends the run with its cause.)
    // send() that returns at once: what is left is the ingest logic's own work.
    const noIo = { send: async () => ({ MessageId: 'bench' }) } as unknown as SQSClient;
    const logic = createIngest({ ...common, sqs: noIo });
    const client = createSqsClient(2500, sqs.endpoint);
    const full = createIngest({ ...common, sqs: client });
    const rows: IngestBenchResult['rows'] = [];
    const all = payloads();
    // Warm every code path on every payload first, so the first row does not pay for JIT compilation
    // (without this the first payload measured came out 1.5-2x slower than the same payload measured later).
    for (let i = 0; i < 3000 * scale; i++) await logic(all[i % all.length]!.request);
    for (let i = 0; i < 300 * scale; i++) await full(all[i % all.length]!.request);
    for (const p of all) {
      const n = Math.max(50, Math.round((p.body.length > 20_000 ? 500 : 1500) * scale));
      const fullN = Math.max(50, Math.round((p.body.length > 20_000 ? 200 : 400) * scale));
      const floor = await measure(n, () => {
        createHmac('sha1', SECRET).update(p.body).digest('base64');
        return JSON.parse(p.body.toString('utf8'));
      });
      const logicFigure = await measure(n, async () => {
        const response = await logic(p.request);
        if (response.statusCode !== 202) throw new Error(`ingest logic answered ${response.statusCode}: ${response.body}`);
      });
      const fullFigure = await measure(fullN, async () => {
        const response = await full(p.request);
        if (response.statusCode !== 202) throw new Error(`full path answered ${response.statusCode}: ${response.body}`);
      });
      rows.push({ label: p.label, bytes: p.body.length, floor, logic: logicFigure, full: fullFigure });
    }
    client.destroy();
    const cold = coldStart(sqs, options.coldRuns ?? 15);
    return { rows, bundleBytes: statSync(BUNDLE).size, zipBytes: statSync(ZIP).size, cold };
  } finally {
    await stopSqsChild(sqs);
  }
}

const us = (value: number) => `${value.toFixed(1)} µs`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatIngest(result: IngestBenchResult): string {
  const { cold } = result;
  return [
    `CPU time per event (user + system, \`process.cpuUsage\`, N sequential calls after N/10 warm-up, median of ${ROUNDS} rounds; rule webhook, HMAC-SHA1):`,
    '',
    '| payload | body | floor: HMAC + JSON.parse | ingest logic, no I/O | × floor | full path, SQS SDK → fauxqs in a child process | wall per event, full path |',
    '|---|---|---|---|---|---|---|',
    ...result.rows.map((r) =>
      `| ${r.label} | ${r.bytes} B | ${us(r.floor.cpuUs)} | ${us(r.logic.cpuUs)} | ${(r.logic.cpuUs / r.floor.cpuUs).toFixed(1)} | ${us(r.full.cpuUs)} (N=${r.full.n}) | ${us(r.full.wallUs)} |`),
    '',
    '"ingest logic, no I/O" is the createIngest handler with an SQS client whose send() returns at once (routing, signature,',
    'parse, ajv, encodeBody, message and log entry); "full path" adds the AWS SDK (serialization, SigV4, HTTP) against fauxqs',
    'running in another process, whose CPU is not counted. Wall time includes fauxqs\'s answer on loopback.',
    '',
    `Bundle: dist/ingest/index.mjs ${result.bundleBytes} B (${kib(result.bundleBytes)}), dist/ingest.zip ${result.zipBytes} B (${kib(result.zipBytes)}).`,
    '',
    `Cold start, a fresh \`node\` per run, median of ${cold.runs}: import of the bundle ${cold.importMs.toFixed(1)} ms, ` +
      `first call (a signed preview queued in fauxqs, 202) ${cold.firstCallMs.toFixed(1)} ms, ` +
      `import + first call ${(cold.importMs + cold.firstCallMs).toFixed(1)} ms; node process start to first response ${cold.processStartToResponseMs.toFixed(1)} ms.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  return `### Ingest function\n\n${formatIngest(await runIngestBench())}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
