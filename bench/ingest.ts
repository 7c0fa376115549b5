/**
 * The ingest function beside a baseline that only sends the body to SQS. `node --import tsx bench/ingest.ts`
 * (after `npm run build`), or `npm run bench`.
 *
 * What is measured (rule webhooks, HMAC-SHA1):
 * - warm CPU per request of the built ingest bundle and of bench/baseline-handler.ts (a handler that only does
 *   SendMessage with the same SDK, bundled with scripts/build.ts `bundleOptions`, so with the same esbuild options), each in
 *   its own process (bench/handler-worker.ts), sending the same bodies, with the same queue URL, group and
 *   deduplication ids, to fauxqs in a third process whose CPU is not counted. Rounds of the two alternate in one
 *   run; CPU is process.cpuUsage() (user + system) around N sequential calls, divided by N.
 * - cold start of both: a fresh `node` per run imports the bundle and handles one request (SendMessage to fauxqs).
 * - ingest logic without I/O beside the floor (HMAC + JSON.parse of the same bytes), in this process.
 * - bundle sizes.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { bundleOptions, FUNCTIONS } from '../scripts/build.ts';
import { fromHttpApiEvent, toHttpApiEvent } from '../lib/apigw.ts';
import { sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { createIngest, type WebhookRequest } from '../lib/ingest.ts';
import { fifoId, groupIdOf } from '../lib/queue.ts';
import { createSecretStore } from '../lib/secrets.ts';
import type { WorkerMessage, WorkerReply } from './handler-worker.ts';

const SECRET = 'bench-rule-secret-0123456789abcdef';
const INGEST = 'dist/ingest/index.mjs';
const BASELINE = 'dist/bench/baseline/index.mjs';
const WORKER = 'dist/bench/handler-worker.mjs';
const STEPS_BUNDLE = 'dist/bench/ingest-steps/index.mjs';
/** Distinct events per payload (ids, conversations, signatures), cycled through by the warm rounds. */
const POOL = 50;

interface Payload { label: string; make: () => ReturnType<typeof sampleEvent> }

/** A preview, a small full event (~2 KB) and a ~50 KB full event (a long message). */
const PAYLOADS: Payload[] = [
  { label: 'preview', make: () => sampleEvent({ type: 'assign', preview: true }) },
  { label: 'full event, ~2 KB', make: () => sampleEvent({ type: 'inbound', messageBytes: 300 }) },
  { label: 'full event, ~50 KB', make: () => sampleEvent({ type: 'inbound', messageBytes: 25_000 }) },
];

interface Signed { body: Buffer; ingest: APIGatewayProxyEventV2; baseline: APIGatewayProxyEventV2 }

/** One event as each handler receives it: the same API Gateway event, plus for the baseline the ids ingest uses. */
function signed(event: ReturnType<typeof sampleEvent>): Signed {
  const body = Buffer.from(JSON.stringify(event));
  const request: WebhookRequest = { method: 'POST', path: '/webhooks/front', headers: signedHeaders('rule', SECRET, body), body };
  const ingest = toHttpApiEvent(request);
  const baseline = { ...ingest, headers: { ...ingest.headers, 'x-bench-group-id': groupIdOf(event), 'x-bench-deduplication-id': fifoId(event.id), 'x-bench-event-type': event.type } };
  return { body, ingest, baseline };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return (sorted[low] ?? 0) + ((sorted[low + 1] ?? sorted[low] ?? 0) - (sorted[low] ?? 0)) * (at - low);
}

// ---- fauxqs in its own process ----

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

/**
 * What both handlers' processes get: the Lambda-like environment (credentials in variables), queues in fauxqs.
 * The endpoint is the queue URL's origin, as in AWS: with another origin the SDK would warn on every send.
 */
function handlerEnv(sqs: SqsChild): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: 'bench',
    AWS_ENDPOINT_URL_SQS: new URL(sqs.queueUrl).origin, QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl,
    FRONT_RULE_SECRET: SECRET, FRONT_APP_SECRET: `${SECRET}-app`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_NO_WARNINGS: '1',
  };
}

// ---- warm CPU: ingest and baseline, each in its own process, rounds interleaved ----

class Worker {
  private readonly child: ChildProcess;
  private readonly replies: WorkerReply[] = [];
  private waiting: ((reply: WorkerReply) => void) | undefined;

  constructor(readonly name: string, bundlePath: string, env: NodeJS.ProcessEnv) {
    // Plain node (no tsx), like Lambda; stdout (ingest's log lines) to /dev/null; stderr shown, so a failure says why.
    this.child = fork(WORKER, [resolve(bundlePath)], { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (reply: WorkerReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(reply);
      else this.replies.push(reply);
    });
    this.child.on('exit', (code) => this.waiting?.({ error: `exited with ${code}` }));
  }

  private next(): Promise<WorkerReply> {
    const queued = this.replies.shift();
    return queued ? Promise.resolve(queued) : new Promise((done) => { this.waiting = done; });
  }

  private async ask(message: WorkerMessage): Promise<WorkerReply> {
    this.child.send(message);
    const reply = await this.next();
    if ('error' in reply) throw new Error(`${this.name} worker: ${reply.error}`);
    return reply;
  }

  async start(events: Record<string, APIGatewayProxyEventV2[]>): Promise<void> {
    const imported = await this.next(); // the bundle is imported
    if ('error' in imported) throw new Error(`${this.name} worker: ${imported.error}`);
    await this.ask({ events });
  }

  async step(step: Step): Promise<void> {
    await this.ask({ step });
  }

  async round(payload: string, n: number): Promise<{ cpuUs: number; wallUs: number }> {
    const reply = await this.ask({ payload, n });
    if (!('cpuUs' in reply)) throw new Error(`${this.name}: unexpected reply`);
    return reply;
  }

  stop(): void {
    this.child.kill();
  }
}

export interface WarmRow {
  label: string;
  bytes: number;
  n: number;
  ingest: { cpuUs: number; wallUs: number };
  baseline: { cpuUs: number; wallUs: number };
  /** ingest ÷ baseline CPU of each round pair (the two measured back to back). */
  pairRatios: number[];
}

/** Many short rounds: each pair is measured within a fraction of a second, so load from elsewhere hits both alike. */
const ROUNDS = 31;

async function warmCpu(sqs: SqsChild, pools: Signed[][], scale: number): Promise<WarmRow[]> {
  const env = handlerEnv(sqs);
  const ingest = new Worker('ingest', INGEST, env);
  const baseline = new Worker('baseline', BASELINE, env);
  try {
    await ingest.start(Object.fromEntries(PAYLOADS.map((p, i) => [p.label, pools[i]!.map((s) => s.ingest)])));
    await baseline.start(Object.fromEntries(PAYLOADS.map((p, i) => [p.label, pools[i]!.map((s) => s.baseline)])));
    const n = (i: number) => Math.max(10, Math.round((pools[i]![0]!.body.length > 20_000 ? 50 : 100) * scale));
    // Warm-up: every code path of both handlers on every payload, so no round pays for JIT compilation.
    for (let w = 0; w < 6; w++) {
      for (const [i, p] of PAYLOADS.entries()) {
        await ingest.round(p.label, n(i));
        await baseline.round(p.label, n(i));
      }
    }
    const figures = PAYLOADS.map(() => ({ ingest: [] as Array<{ cpuUs: number; wallUs: number }>, baseline: [] as Array<{ cpuUs: number; wallUs: number }> }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, p] of PAYLOADS.entries()) {
        // Alternate which goes first, so a drift in machine load falls on both alike.
        const order = round % 2 === 0 ? [ingest, baseline] : [baseline, ingest];
        for (const worker of order) {
          const figure = await worker.round(p.label, n(i));
          figures[i]![worker === ingest ? 'ingest' : 'baseline'].push(figure);
        }
      }
    }
    return PAYLOADS.map((p, i) => {
      const f = figures[i]!;
      const pick = (list: Array<{ cpuUs: number; wallUs: number }>) => ({ cpuUs: median(list.map((x) => x.cpuUs)), wallUs: median(list.map((x) => x.wallUs)) });
      return {
        label: p.label,
        bytes: pools[i]![0]!.body.length,
        n: n(i),
        ingest: pick(f.ingest),
        baseline: pick(f.baseline),
        pairRatios: f.ingest.map((x, r) => x.cpuUs / f.baseline[r]!.cpuUs),
      };
    });
  } finally {
    ingest.stop();
    baseline.stop();
  }
}

// ---- where ingest's CPU goes: the rungs of bench/ingest-steps.ts in one process ----

/** The rungs of bench/ingest-steps.ts, in order. */
export const STEPS = ['send', 'attributes', 'deadline', 'no-log', 'ingest'] as const;
export type Step = (typeof STEPS)[number];

export interface StepsRow {
  label: string;
  n: number;
  /** Median CPU per request of each rung. */
  cpuUs: Record<Step, number>;
  /** Median over the rounds of each rung's CPU minus the rung before it in the same round: what that piece adds. */
  addedUs: Record<Step, number>;
  /** Median over the rounds of ingest ÷ send in the same round. */
  ratio: number;
}

const STEP_ROUNDS = 41;

/**
 * Each rung adds one piece of ingest's work to the one before; all run in one process, switched between rounds of n
 * requests (order reversed every other round). What a piece adds is the median, over the rounds, of the difference
 * between its rung and the previous one measured in the same round, so a slow stretch of the machine falls on both.
 */
async function ingestSteps(sqs: SqsChild, pools: Signed[][], scale: number): Promise<StepsRow[]> {
  const worker = new Worker('ingest steps', STEPS_BUNDLE, handlerEnv(sqs));
  try {
    // The baseline's events: the signed API Gateway event plus the ids ingest derives, for the rungs below createIngest.
    await worker.start(Object.fromEntries(PAYLOADS.map((p, i) => [p.label, pools[i]!.map((s) => s.baseline)])));
    const n = (i: number) => Math.max(10, Math.round((pools[i]![0]!.body.length > 20_000 ? 50 : 100) * scale));
    const rounds: Array<Array<Record<Step, number>>> = PAYLOADS.map(() => []);
    for (let round = -3; round < STEP_ROUNDS; round++) {
      for (const [i, p] of PAYLOADS.entries()) {
        const figures = {} as Record<Step, number>;
        for (const step of round % 2 === 0 ? STEPS : [...STEPS].reverse()) {
          await worker.step(step);
          figures[step] = (await worker.round(p.label, n(i))).cpuUs;
        }
        if (round >= 0) rounds[i]!.push(figures); // the first 3 rounds warm every rung up
      }
    }
    return PAYLOADS.map((p, i) => {
      const list = rounds[i]!;
      const each = <T>(f: (step: Step, index: number) => T) => Object.fromEntries(STEPS.map((step, k) => [step, f(step, k)])) as Record<Step, T>;
      return {
        label: p.label,
        n: n(i),
        cpuUs: each((step) => median(list.map((r) => r[step]))),
        addedUs: each((step, k) => (k === 0 ? 0 : median(list.map((r) => r[step] - r[STEPS[k - 1]!])))),
        ratio: median(list.map((r) => r.ingest / r.send)),
      };
    });
  } finally {
    worker.stop();
  }
}

// ---- cold start: a fresh node per run, ingest and baseline interleaved ----

export interface ColdFigure { importMs: number; firstCallMs: number; totalMs: number; processStartToResponseMs: number }

function coldStart(sqs: SqsChild, runs: number): { runs: number; ingest: ColdFigure; baseline: ColdFigure } {
  const preview = signed(sampleEvent({ type: 'assign', preview: true }));
  const code = [
    "import dns from 'node:dns';",
    'const lookup = dns.lookup;',
    "dns.lookup = (host, ...rest) => lookup(host.endsWith('.localhost') ? '127.0.0.1' : host, ...rest);",
    'const t0 = performance.now();',
    'const { handler } = await import(process.env.BENCH_BUNDLE);',
    'const t1 = performance.now();',
    'const result = await handler(JSON.parse(process.env.BENCH_EVENT));',
    'const t2 = performance.now();',
    'process.stderr.write(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1, sinceStartMs: t2, status: result.statusCode }));',
  ].join('\n');
  type Sample = { importMs: number; firstCallMs: number; sinceStartMs: number; status: number };
  const samples: Record<'ingest' | 'baseline', Sample[]> = { ingest: [], baseline: [] };
  const one = (which: 'ingest' | 'baseline') => {
    const env = {
      ...handlerEnv(sqs),
      BENCH_BUNDLE: pathToFileURL(resolve(which === 'ingest' ? INGEST : BASELINE)).href,
      BENCH_EVENT: JSON.stringify(preview[which]),
    };
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
    const json = out.stderr.trim().split('\n').pop() ?? '';
    if (out.status !== 0 || !json.startsWith('{')) throw new Error(`${which} cold start run failed (${out.status}): ${out.stderr}`);
    const sample = JSON.parse(json) as Sample;
    if (sample.status !== 202) throw new Error(`${which} cold start run answered ${sample.status}: ${out.stdout}${out.stderr}`);
    samples[which].push(sample);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) { one('ingest'); one('baseline'); } else { one('baseline'); one('ingest'); }
  }
  const figure = (list: Sample[]): ColdFigure => ({
    importMs: median(list.map((s) => s.importMs)),
    firstCallMs: median(list.map((s) => s.firstCallMs)),
    totalMs: median(list.map((s) => s.importMs + s.firstCallMs)),
    processStartToResponseMs: median(list.map((s) => s.sinceStartMs)),
  });
  return { runs, ingest: figure(samples.ingest), baseline: figure(samples.baseline) };
}

// ---- ingest logic without I/O beside the floor, in this process ----

export interface CpuFigure { cpuUs: number; n: number }

/** CPU per call: n sequential calls after n / 10 warm-up calls, 3 rounds, the median round. */
async function measure(n: number, call: () => unknown): Promise<CpuFigure> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await call();
  const rounds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) await call();
    const used = process.cpuUsage(cpu);
    rounds.push((used.user + used.system) / n);
  }
  return { cpuUs: median(rounds), n };
}

async function logicBesideFloor(pools: Signed[][], scale: number): Promise<Array<{ label: string; floor: CpuFigure; logic: CpuFigure }>> {
  const secrets = createSecretStore({ rule: { kind: 'value', value: SECRET }, app: { kind: 'none' } });
  // send() that returns at once: what is left is the ingest logic's own work.
  const noIo = { send: async () => ({ MessageId: 'bench' }) } as unknown as SQSClient;
  const logic = createIngest({ sqs: noIo, queueUrl: 'q', dlqUrl: 'dlq', secrets, sendDeadlineMs: 2500, log: () => {} });
  for (let i = 0; i < 3000 * scale; i++) await logic(fromHttpApiEvent(pools[i % pools.length]![0]!.ingest));
  const rows = [];
  for (const [i, p] of PAYLOADS.entries()) {
    const { body, ingest } = pools[i]![0]!;
    const n = Math.max(50, Math.round((body.length > 20_000 ? 500 : 1500) * scale));
    const floor = await measure(n, () => {
      createHmac('sha1', SECRET).update(body).digest('base64');
      return JSON.parse(body.toString('utf8'));
    });
    const logicFigure = await measure(n, async () => {
      const response = await logic(fromHttpApiEvent(ingest));
      if (response.statusCode !== 202) throw new Error(`ingest logic answered ${response.statusCode}: ${response.body}`);
    });
    rows.push({ label: p.label, floor, logic: logicFigure });
  }
  return rows;
}

// ---- the run ----

const size = (path: string) => statSync(path).size;

export interface IngestBenchResult {
  warm: WarmRow[];
  steps: StepsRow[];
  cold: ReturnType<typeof coldStart>;
  logic: Awaited<ReturnType<typeof logicBesideFloor>>;
  bytes: { ingest: number; ingestZip: number; baseline: number; functions: Array<{ name: string; bundle: number; zip: number }> };
}

export async function runIngestBench(options: { scale?: number; coldRuns?: number } = {}): Promise<IngestBenchResult> {
  const scale = options.scale ?? 1;
  mkdirSync('dist/bench', { recursive: true });
  await build(bundleOptions('bench/baseline-handler.ts', BASELINE));
  await build(bundleOptions('bench/ingest-steps.ts', STEPS_BUNDLE));
  await build({ entryPoints: ['bench/handler-worker.ts'], outfile: WORKER, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
  const pools = PAYLOADS.map((p) => Array.from({ length: POOL }, () => signed(p.make())));
  const sqs = await startSqsChild();
  try {
    const warm = await warmCpu(sqs, pools, scale);
    const steps = await ingestSteps(sqs, pools, scale);
    const cold = coldStart(sqs, options.coldRuns ?? 15);
    const logic = await logicBesideFloor(pools, scale);
    return {
      warm, steps, cold, logic,
      bytes: {
        ingest: size(INGEST), ingestZip: size('dist/ingest.zip'), baseline: size(BASELINE),
        functions: FUNCTIONS.map((name) => ({ name, bundle: size(`dist/${name}/index.mjs`), zip: size(`dist/${name}.zip`) })),
      },
    };
  } finally {
    await stopSqsChild(sqs);
  }
}

const us = (value: number) => `${value.toFixed(1)} µs`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const x = (value: number) => `${value.toFixed(2)}×`;
const delta = (value: number) => `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(0)} µs`;

export function formatIngest(result: IngestBenchResult): string {
  const { warm, steps, cold, logic, bytes } = result;
  return [
    'Warm CPU per request (user + system, `process.cpuUsage`) of the built ingest bundle beside the baseline',
    '(bench/baseline-handler.ts: a handler that only does `SendMessage` with the same SDK, built by the same',
    '`bundleOptions()` of scripts/build.ts, so with the same esbuild options). Each runs in its own `node` process and sends',
    `the same signed rule webhooks (${POOL} distinct events per payload, same queue URL, group and deduplication ids) to`,
    'fauxqs in a third process, whose CPU is not counted. Ingest logs its one line per request (stdout to /dev/null).',
    `${ROUNDS} rounds of N sequential requests per handler and payload, the two back to back in alternating order, after`,
    '6 warm-up rounds. CPU of a round: all the process used from the end of its previous round to the end of this one,',
    'divided by N, so work a request leaves for later (timers, garbage collection) counts too; the table gives the median',
    'round. Ratio: median of the round pairs\' ratios, and their middle half (25th–75th percentile), a measure of how',
    'steady the machine was:',
    '',
    '| payload | body | baseline CPU | ingest CPU | ingest ÷ baseline | middle half of the pair ratios | wall, baseline / ingest |',
    '|---|---|---|---|---|---|---|',
    ...warm.map((r) =>
      `| ${r.label} | ${r.bytes} B | ${us(r.baseline.cpuUs)} | ${us(r.ingest.cpuUs)} | **${x(median(r.pairRatios))}** | ` +
      `${x(quantile(r.pairRatios, 0.25))}–${x(quantile(r.pairRatios, 0.75))} | ${us(r.baseline.wallUs)} / ${us(r.ingest.wallUs)} (N=${r.n}) |`),
    '',
    'Where ingest\'s CPU goes (bench/ingest-steps.ts): rungs that each add one piece of ingest\'s work, in one `node`',
    `process against the same fauxqs, switched between rounds of N requests (order reversed every other round), ${STEP_ROUNDS} rounds`,
    'after 3 of warm-up. Each cell: the rung\'s median CPU per request and, in brackets, the median over the rounds of its',
    'CPU minus the previous rung\'s in the same round, which is what that piece adds. "send" is SendMessage on the client',
    'ingest builds (bounded times, 3 attempts); "+ attributes" adds the message attributes the process function and the',
    'DLQ tools read; "+ deadline" sends through sendToQueue, which bounds the whole send with an AbortSignal; "+ verify,',
    'parse, validate" is createIngest without its log line; "+ log line" is the handler Lambda runs:',
    '',
    '| payload | send | + attributes | + deadline | + verify, parse, validate | + log line (ingest) | ingest ÷ send |',
    '|---|---|---|---|---|---|---|',
    ...steps.map((r) => {
      const cell = (step: Step) => `${us(r.cpuUs[step])}${step === 'send' ? '' : ` (${delta(r.addedUs[step])})`}`;
      return `| ${r.label} | ${STEPS.map(cell).join(' | ')} | ${x(r.ratio)} (N=${r.n}) |`;
    }),
    '',
    `Cold start, a fresh \`node\` per run, ingest and baseline alternating, median of ${cold.runs} each: the import of the`,
    'bundle, then one signed preview sent to fauxqs (202); secrets from environment variables (no SSM read).',
    '',
    '| bundle | size | zip | import | first call | import + first call | process start to response |',
    '|---|---|---|---|---|---|---|',
    `| baseline (SendMessage only) | ${kib(bytes.baseline)} | – | ${ms(cold.baseline.importMs)} | ${ms(cold.baseline.firstCallMs)} | ${ms(cold.baseline.totalMs)} | ${ms(cold.baseline.processStartToResponseMs)} |`,
    `| ingest | ${kib(bytes.ingest)} | ${kib(bytes.ingestZip)} | ${ms(cold.ingest.importMs)} | ${ms(cold.ingest.firstCallMs)} | ${ms(cold.ingest.totalMs)} (**${x(cold.ingest.totalMs / cold.baseline.totalMs)}**) | ${ms(cold.ingest.processStartToResponseMs)} |`,
    '',
    `Bundles, with the same esbuild options: ${bytes.functions.map((f) => `dist/${f.name}/index.mjs ${f.bundle} B (${kb(f.bundle)}), zip ${f.zip} B`).join('; ')}; ` +
      `baseline ${bytes.baseline} B (${kb(bytes.baseline)}).`,
    '',
    'Ingest logic without I/O (the API Gateway adapter and the createIngest handler with an SQS client whose send()',
    'returns at once: routing, signature, parse, ajv, encodeJsonBody, message and log entry, but not the Logger) beside the',
    'floor of any verifier (HMAC-SHA1 + `JSON.parse` of the same bytes), in one process, median of 3 rounds:',
    '',
    '| payload | floor | ingest logic | × floor |',
    '|---|---|---|---|',
    ...logic.map((r) => `| ${r.label} | ${us(r.floor.cpuUs)} | ${us(r.logic.cpuUs)} | ${(r.logic.cpuUs / r.floor.cpuUs).toFixed(1)} |`),
    '',
    targets(result),
    '',
    'Command: `npm run bench -- ingest` (or `node --import tsx bench/ingest.ts` after `npm run build`).',
  ].join('\n');
}

/** The performance issue's targets, checked against this run's figures. */
function targets(result: IngestBenchResult): string {
  const ratio = (label: string) => median(result.warm.find((r) => r.label === label)?.pairRatios ?? [Number.NaN]);
  const cold = result.cold.ingest.totalMs / result.cold.baseline.totalMs;
  const check = (ok: boolean) => (ok ? 'met' : '**not met**');
  return [
    'Targets of the ingest performance issue, in this run:',
    `warm CPU ≤ 1.15× the baseline at ~2 KB: ${x(ratio('full event, ~2 KB'))}, ${check(ratio('full event, ~2 KB') <= 1.15)};`,
    `at ~50 KB: ${x(ratio('full event, ~50 KB'))}, ${check(ratio('full event, ~50 KB') <= 1.15)};`,
    `cold import + first call ≤ 1.2×: ${x(cold)}, ${check(cold <= 1.2)};`,
    `ingest bundle ≤ 350 kB: ${kb(result.bytes.ingest)}, ${check(result.bytes.ingest <= 350_000)}.`,
  ].join(' ');
}

export async function run(): Promise<string> {
  return `### Ingest function\n\n${formatIngest(await runIngestBench())}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
