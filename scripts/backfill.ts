/**
 * `npm run backfill -- --since 2h [--until 30m] [--types inbound,tag] [--inboxes inb_1] [--dry-run] [--stage S --region R]`
 * Lists the events Front emitted in a window and enqueues every one not already processed, as the scheduled
 * reconciliation does (same code, lib/reconcile.ts), without moving its watermark: after an outage, or to replay a
 * period on purpose. Events already processed are skipped, so running it twice, or beside the schedule, is safe.
 * Against the local stack by default; a deployed stage with --stage/--region (your AWS credentials; the token from
 * FRONT_API_TOKEN or the stage's SSM parameter).
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseCli, usageError } from './cli.ts';
import { DEFAULT_REQUESTS_PER_MINUTE, FRONT_API_BASE_URL, FrontApiClient } from '../lib/front/api.ts';
import { apiTokenFromEnv } from '../lib/front/token.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { oldestListable, reconcileWindow, type ReconcileProgress, type ReconcileResult } from '../lib/reconcile.ts';
import { DynamoRateBudget } from '../lib/store/budget.ts';
import { createDynamoClient, createDynamoEventStore } from '../lib/store/events.ts';
import { createSsmClient } from '../lib/ssm.ts';
import table from '../lib/table.json' with { type: 'json' };
import { DEFAULT_DYNAMODB_PORT, localDynamoClient } from '../local/dynamodb.ts';
import { DEFAULT_SQS_PORT, LOCAL_PREFIX, localSqsClient } from '../local/sqs.ts';
import { DEFAULT_FAKE_FRONT_PORT, DEV_FRONT_API_TOKEN } from '../local/stack.ts';

const USAGE = `Usage: npm run backfill -- --since WHEN [--until WHEN] [--types T,T] [--inboxes I,I] [--dry-run]
                            [--stage S --region R] [--requests-per-minute N] [--record-days N] [--allow-reprocessing]
                            [--max-minutes N]

  --since WHEN     start of the window: a duration ago (90s, 30m, 2h, 3d) or a date (2026-11-27T08:00:00Z); at most
                   the record window less a day (6d by default, see --record-days)
  --until WHEN     end of the window (default: now)
  --types T,T      only these event types (match your Front rule's "When" events); default all
  --inboxes I,I    only these inbox ids (inb_…); default all
  --dry-run        list and count, queue nothing
  --stage S        a deployed stage (with --region R, and your AWS credentials); default: the local stack
  --requests-per-minute N
                   the stage's share of Front's rate limit, which this run takes from the budget the stage's functions
                   share: its frontApiRequestsPerMinute (serverless.yml). Default ${DEFAULT_REQUESTS_PER_MINUTE}, the stage default:
                   pass your stage's value if you changed it
  --record-days N  how long the stage keeps its state table records: its recordDays (serverless.yml). Default
                   ${table.recordDays}, the stage default: pass your stage's value if you changed it. An event processed longer ago
                   than that may have lost its record and look new, so --since may reach back that long less a day
  --allow-reprocessing
                   let --since reach further back all the same: handlers of events processed back then run again.
                   For an outage longer than that, when nothing of the period was processed
  --max-minutes N  stop after N minutes and print how to resume (default 60)

Against the local stack it needs \`npm start\` running (ports SQS_PORT ${DEFAULT_SQS_PORT}, DYNAMODB_PORT ${DEFAULT_DYNAMODB_PORT},
FAKE_FRONT_PORT ${DEFAULT_FAKE_FRONT_PORT}). A deployed stage needs the token in FRONT_API_TOKEN or in SSM
/front-webhooks/<stage>/api-token (ssm:GetParameter), and sqs:GetQueueUrl and sqs:SendMessage on the queue,
dynamodb:BatchGetItem, GetItem and UpdateItem on the state table.`;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function fail(message: string): never {
  return usageError(message, USAGE);
}

const { values } = parseCli({
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    types: { type: 'string', default: '' },
    inboxes: { type: 'string', default: '' },
    'dry-run': { type: 'boolean', default: false },
    stage: { type: 'string' },
    region: { type: 'string' },
    service: { type: 'string', default: 'front-webhooks' },
    'requests-per-minute': { type: 'string' },
    'record-days': { type: 'string' },
    'allow-reprocessing': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '60' },
  },
}, USAGE);

/** Unix seconds for "2h" (that long ago) or a date. */
export function parseWhen(text: string, nowMs: number): number | undefined {
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (ago) return (nowMs - Number(ago[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[ago[2] as 's' | 'm' | 'h' | 'd'] * 1000) / 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date / 1000;
}

const nowMs = Date.now();
if (!values.since) fail('--since is required: how far back to look, e.g. --since 2h.');
const after = parseWhen(values.since, nowMs);
if (after === undefined) fail(`--since must be a duration (90s, 30m, 2h, 3d) or a date, not "${values.since}".`);
const before = values.until ? parseWhen(values.until, nowMs) : nowMs / 1000;
if (before === undefined) fail(`--until must be a duration (90s, 30m, 2h, 3d) or a date, not "${values.until}".`);
if (before <= after) fail(`The window is empty: --since (${new Date(after * 1000).toISOString()}) must come before --until (${new Date(before * 1000).toISOString()}).`);
const recordDays = Number(values['record-days'] ?? table.recordDays);
if (!Number.isFinite(recordDays) || recordDays < 1 || recordDays > 365) {
  fail(`--record-days must be a number of days from 1 to 365, not "${values['record-days']}": your stage's recordDays (default ${table.recordDays}).`);
}
// The state table forgets a processed event recordDays after it: listing older events would run their handlers again.
const oldest = oldestListable(nowMs / 1000, recordDays);
if (after < oldest && !values['allow-reprocessing']) {
  const reach = `${Math.floor(((nowMs / 1000 - oldest) / 86_400) * 10) / 10}d`;
  fail(`--since ${new Date(after * 1000).toISOString()} is further back than the state table remembers processed events: it keeps their records ${recordDays} day${recordDays === 1 ? '' : 's'} (--record-days), ` +
    `so an event processed before then may look new and its handler would run again. Start at ${new Date(oldest * 1000).toISOString()} or later (--since ${reach} at most), ` +
    'or add --allow-reprocessing if running those handlers again is acceptable (for instance, nothing of that period was processed).');
}
const maxMinutes = Number(values['max-minutes']);
if (!Number.isFinite(maxMinutes) || maxMinutes <= 0) fail(`--max-minutes must be a positive number, not "${values['max-minutes']}".`);
if (values.region && !values.stage) fail('--region goes with --stage: name the deployed stage.');
if (values.stage && !values.region) fail('--stage needs --region: the region the stage is deployed in.');
// The budget's limit is the stage's setting, which only the operator knows here: explicit, never from the shell.
const fromEnv = process.env.FRONT_API_REQUESTS_PER_MINUTE?.trim();
if (fromEnv && values['requests-per-minute'] === undefined) {
  fail(`FRONT_API_REQUESTS_PER_MINUTE is not read: pass --requests-per-minute ${fromEnv} (your stage's frontApiRequestsPerMinute).`);
}
const perMinuteText = values['requests-per-minute'] ?? String(DEFAULT_REQUESTS_PER_MINUTE);
const requestsPerMinute = Number(perMinuteText);
if (!/^\d+$/.test(perMinuteText) || requestsPerMinute < 1 || requestsPerMinute > 1000) {
  fail(`--requests-per-minute must be a whole number from 1 to 1000, not "${perMinuteText}": your stage's frontApiRequestsPerMinute (default ${DEFAULT_REQUESTS_PER_MINUTE}).`);
}
const list = (text: string) => text.split(',').map((t) => t.trim()).filter(Boolean);

async function target() {
  if (!values.stage) {
    const sqs = await localSqsClient(`http://127.0.0.1:${process.env.SQS_PORT ?? DEFAULT_SQS_PORT}`);
    const dynamo = localDynamoClient(`http://127.0.0.1:${process.env.DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT}`);
    return {
      sqs, dynamo, where: 'the local stack',
      queueName: `${LOCAL_PREFIX}-${queues.events.name}`, tableName: `${LOCAL_PREFIX}-${table.name}`,
      frontUrl: `http://127.0.0.1:${process.env.FAKE_FRONT_PORT ?? DEFAULT_FAKE_FRONT_PORT}`,
      token: async () => process.env.FRONT_API_TOKEN?.trim() || DEV_FRONT_API_TOKEN,
    };
  }
  const region = values.region!;
  const prefix = `${values.service}-${values.stage}`;
  const parameter = `/${values.service}/${values.stage}/api-token`;
  const token = apiTokenFromEnv({ FRONT_API_TOKEN: process.env.FRONT_API_TOKEN, FRONT_API_TOKEN_PARAM: parameter }, { ssm: createSsmClient({ region }) });
  return {
    // Every client in --region: the shell's AWS_REGION, if set to another one, must not send a client elsewhere.
    sqs: new SQSClient({ region }), dynamo: createDynamoClient(undefined, { region }), where: `stage ${values.stage} (${region})`,
    queueName: `${prefix}-${queues.events.name}`, tableName: `${prefix}-${table.name}`,
    frontUrl: process.env.FRONT_API_URL?.trim() || FRONT_API_BASE_URL,
    // FRONT_API_TOKEN, else the stage's parameter, read once (and again after 5 minutes) as the functions read it.
    token: () => token.get(),
  };
}

const t = await target();
let queueUrl: string;
try {
  queueUrl = (await t.sqs.send(new GetQueueUrlCommand({ QueueName: t.queueName }))).QueueUrl ?? '';
} catch (error) {
  console.error(`Cannot find queue ${t.queueName} in ${t.where}: ${error instanceof Error ? error.message : String(error)}\n${values.stage ? 'Is the stage deployed in this region, with these credentials?' : 'Is `npm start` running?'}`);
  process.exit(1);
}
let token: string | undefined;
try {
  token = await t.token();
} catch (error) {
  console.error(`Cannot read the Front API token: ${error instanceof Error ? error.message : String(error)}\nCheck ssm:GetParameter on it, or set FRONT_API_TOKEN.`);
  process.exit(1);
}
if (!token) {
  console.error(values.stage
    ? `No Front API token: set FRONT_API_TOKEN, or store it in SSM /${values.service}/${values.stage}/api-token (docs/operations.md).`
    : 'No Front API token for the local fake: is `npm start` running?');
  process.exit(1);
}

const front = new FrontApiClient({
  baseUrl: t.frontUrl,
  token: t.token,
  // The same shared budget, at the same limit, as the deployed functions: a backfill never takes more than the
  // stage's share of the company's limit, and shares it with the reconciliation and hydration running meanwhile.
  budget: new DynamoRateBudget(t.dynamo, t.tableName, requestsPerMinute),
});
const types = list(values.types);
const inboxes = list(values.inboxes);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const tty = process.stderr.isTTY;
const progressLine = (p: ReconcileProgress) =>
  `pages ${p.pages} · seen ${p.seen} · already processed ${p.alreadyProcessed}${p.alreadyFailing ? ` · failing (retried or in the DLQ) ${p.alreadyFailing}` : ''} · ${values['dry-run'] ? 'would enqueue' : 'enqueued'} ${p.enqueued}` +
  `${p.referenced ? ` (${p.referenced} as references)` : ''} · rate-limit waits ${p.rateLimitWaits} (${Math.round(p.waitedMs / 1000)} s) · through ${iso(p.doneThrough)}`;

console.error(`backfill ${t.where}: events emitted ${iso(after)} → ${iso(before)}${types.length ? `, types ${types.join(',')}` : ''}${inboxes.length ? `, inboxes ${inboxes.join(',')}` : ''}${values['dry-run'] ? ' (dry run: nothing is queued)' : ''}`);
if (after < oldest) {
  console.error(`--allow-reprocessing: events emitted before ${iso(oldest)} are listed although their records may have expired (kept ${recordDays} days): ` +
    'the handlers of those processed back then run again.');
}
const abort = new AbortController();
process.once('SIGINT', () => {
  console.error('\nSIGINT: stopping after this page…');
  abort.abort(new Error('stopped by Ctrl-C'));
});

const result: ReconcileResult = await reconcileWindow(
  { front, sqs: t.sqs, queueUrl, store: createDynamoEventStore({ client: t.dynamo, tableName: t.tableName }) },
  { after, before, types, inboxes },
  {
    deadlineAt: Date.now() + maxMinutes * 60_000,
    dryRun: values['dry-run'],
    signal: abort.signal,
    onPage: (p) => { process.stderr.write(tty ? `\r\x1b[2K${progressLine(p)}` : `${progressLine(p)}\n`); },
  },
);
if (tty) process.stderr.write('\n');
const resume = [
  'npm run backfill --', `--since ${iso(result.resumeAfter)}`, `--until ${iso(before)}`,
  ...(types.length ? [`--types ${types.join(',')}`] : []), ...(inboxes.length ? [`--inboxes ${inboxes.join(',')}`] : []),
  ...(values.stage ? [`--stage ${values.stage}`, `--region ${values.region}`] : []),
  ...(values['requests-per-minute'] !== undefined ? [`--requests-per-minute ${requestsPerMinute}`] : []),
  ...(values['record-days'] !== undefined ? [`--record-days ${recordDays}`] : []),
  ...(values['allow-reprocessing'] ? ['--allow-reprocessing'] : []),
].join(' ');
console.log(JSON.stringify({ window: { after: iso(after), before: iso(before) }, dryRun: values['dry-run'], complete: result.complete, ...(result.stoppedBecause && { stoppedBecause: result.stoppedBecause, detail: result.detail }), ...result.progress, doneThrough: iso(result.progress.doneThrough) }));
if (result.complete) {
  console.error(`done: ${result.progress.enqueued} event(s) ${values['dry-run'] ? 'would be' : ''} queued, ${result.progress.alreadyProcessed} already processed, ${result.progress.alreadyFailing ? `${result.progress.alreadyFailing} failing (retried or in the DLQ), ` : ''}of ${result.progress.seen} Front listed.`);
} else {
  console.error(`stopped (${result.stoppedBecause}: ${result.detail}).\nEverything up to ${iso(result.resumeAfter)} is queued. Resume with:\n  ${resume}`);
  process.exitCode = 1;
}
