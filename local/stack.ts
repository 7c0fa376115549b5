/**
 * The local stack: the whole pipeline on this machine, no AWS account, no Docker (`npm start` runs it through
 * local/main.ts; the tests and the benchmark start it here).
 * - the emulators, on 127.0.0.1 only: fauxqs (SQS, with the queues of lib/queues.json, named `local-…`, handing out
 *   FIFO batches as SQS does to Lambda), dynalite (DynamoDB, the table of lib/table.json, read eventually
 *   consistently as DynamoDB is), and a fake of Front's Core API;
 * - the BUILT functions (dist/<name>/index.mjs), each in its own worker thread with its own environment
 *   (local/functions.ts): ingest behind POST /webhooks/front as API Gateway's HTTP API calls it; process fed by
 *   the queue as Lambda's SQS event source feeds it; reconcile on a schedule;
 * - with `inspector`, the inspector page at / and its API under /_local/ (local/inspector.ts).
 * The functions' JSON lines come back through `onLine`; the stack's own messages through `print`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { LOCAL_CLOCKS } from '../lib/process/settings.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { DEFAULT_DYNAMODB_PORT, startLocalDynamoThread, type LocalDynamo } from './dynamodb.ts';
import { startFakeFront, type FakeFront } from './fake-front.ts';
import { startFunctionWorker, type FunctionWorker } from './functions.ts';
import { handleInspector } from './inspector.ts';
import { readState, restoreState, saveState, type StateTarget } from './persist.ts';
import { DEFAULT_SQS_PORT, LOCAL_PREFIX, LOCAL_REGION, LOOPBACK, startLocalSqsThread } from './sqs.ts';
import { Timeline, type FunctionName } from './timeline.ts';

/** Used when FRONT_RULE_SECRET / FRONT_APP_SECRET are not set. Public on purpose: local use only. */
export const DEV_SECRETS = {
  rule: 'local-development-rule-secret-NOT-FOR-PRODUCTION',
  app: 'local-development-app-secret-NOT-FOR-PRODUCTION',
} as const;
/** The token of the local fake of Front's API (the functions use it as they would a real one). */
export const DEV_FRONT_API_TOKEN = 'local-front-api-token-NOT-FOR-PRODUCTION';
export const DEFAULT_PORT = 3000;
export const DEFAULT_FAKE_FRONT_PORT = 3030;
/** How often the local stack runs the reconciliation (deployed: every 5 minutes). */
export const LOCAL_RECONCILE_EVERY_SECONDS = 30;
/** API Gateway HTTP APIs refuse larger request bodies before they reach the function. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * Lambda's synchronous invoke payload limit, for the whole API Gateway event as JSON (headers, the body escaped as a
 * JSON string, or base64 for content types API Gateway does not pass as text): a request over it never reaches
 * ingest on AWS, so the local stack refuses it the same way.
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6_291_456;
const INGEST_TIMEOUT_MS = 10_000;
/**
 * On AWS, API Gateway and ingest never share a CPU with the process function or DynamoDB; on a laptop they do. The
 * threads off the webhook's request path (process, reconcile, dynalite) run at the lowest scheduling priority
 * (a nice value; Linux, where it is per thread), so a burst of webhooks is acknowledged first and processed right
 * after, as when the functions run apart. Idle CPU is theirs all the same: alone, they run at full speed.
 */
const BACKGROUND_NICE = 19;
const RECONCILE_TIMEOUT_MS = 240_000;

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
type HttpApiResult = APIGatewayProxyStructuredResultV2;

export interface LocalQueues {
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  /** The state table: dynalite, whose eventually consistent reads lag writes as DynamoDB's may. */
  dynamoEndpoint: string;
  tableName: string;
  /** The fake of Front's API and the token it accepts. */
  frontUrl: string;
  frontToken: string;
}

export interface LocalStackOptions {
  /** HTTP port; default PORT or 3000; 0 picks a free one. */
  port?: number;
  /** fauxqs port; default SQS_PORT or 9324; 0 picks a free one. */
  sqsPort?: number;
  /** dynalite port; default DYNAMODB_PORT or 8000; 0 picks a free one. */
  dynamoPort?: number;
  /**
   * How long after a write an eventually consistent read still sees the item as it was, as on DynamoDB
   * (dynalite alone is always consistent); default DYNAMODB_READ_LAG_MS or 500; 0 turns it off.
   */
  dynamoReadLagMs?: number;
  /** The fake of Front's API; port default FAKE_FRONT_PORT or 3030 (0 picks a free one). */
  front?: { port?: number; requestsPerMinute?: number; rateWindowMs?: number };
  /** The functions' share of Front's limit (FRONT_API_REQUESTS_PER_MINUTE); default as deployed (20). */
  frontApiRequestsPerMinute?: number;
  /** Seconds between reconciliation runs; 0 runs it only when asked (`reconcile()`). Default 30. */
  reconcileEverySeconds?: number;
  /** Signing secrets (comma-separated lists allowed); default FRONT_RULE_SECRET / FRONT_APP_SECRET, else DEV_SECRETS. */
  secrets?: { rule?: string; app?: string };
  /** Replaces the built process function (tests inject handlers and recorders), run in this thread. Called once the queues exist. */
  processHandler?: (queues: LocalQueues) => SqsBatchHandler | Promise<SqsBatchHandler>;
  /** Overrides the main queue's VisibilityTimeout (seconds). */
  visibilityTimeoutSeconds?: number;
  /** Concurrent pollers of the queue (Lambda runs several batches at once); default 4. FIFO group locking keeps order. */
  pollers?: number;
  /** Each line a built function writes (Powertools Logger's JSON), as CloudWatch would get it. */
  onLine?: (fn: FunctionName, line: string) => void;
  /** The stack's own messages (banner, notes); default: none. */
  print?: (line: string) => void;
  /** Keep both queues, the state table and the fake Front's events in this file across restarts (npm start: .local/state.json). */
  stateFile?: string;
  /** Serve the inspector page at / and its API under /_local/ (npm start). */
  inspector?: boolean;
}

export interface LocalStack extends LocalQueues {
  /** http://127.0.0.1:<port>/webhooks/front */
  url: string;
  port: number;
  sqsPort: number;
  dynamoPort: number;
  secrets: { rule: string; app: string; development: { rule: boolean; app: boolean } };
  /** Batches handed to the process function so far and their records. */
  stats: { invocations: number; records: number; failedRecords: number };
  /** The fake of Front's API the functions call (events `npm run send` generates are recorded there). */
  front: FakeFront;
  /** The functions' recent lines, for the inspector. */
  timeline: Timeline;
  /** What the stack restored from stateFile at start: numbers of messages, records and Front events. */
  restored?: { events: number; deadLetters: number; records: number; frontEvents: number };
  /** Runs the built reconcile function once, now (it also runs every reconcileEverySeconds). */
  reconcile(): Promise<void>;
  /** Forgets the queues' FIFO deduplication ids, as SQS does after 5 minutes: a redelivery "much later" (tests). */
  expireDeduplication(): Promise<void>;
  /**
   * Stops as Ctrl-C should: no new request or batch is taken, what is in flight finishes, the state is saved
   * (stateFile), then everything closes.
   */
  stop(): Promise<void>;
}

function portFrom(value: number | undefined, env: string | undefined, fallback: number): number {
  if (value !== undefined) return value;
  const parsed = Number(env);
  return env !== undefined && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

function fingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

function describeSecret(name: string, value: string, development: boolean): string {
  if (development) return `${name} not set: using the DEVELOPMENT secret "${value}" (local only; \`npm run send\` uses it too)`;
  const count = value.split(',').filter((s) => s.trim()).length;
  return `${name} from the environment: ${count} secret(s), sha256 ${value.split(',').map((s) => fingerprint(s.trim())).join(', ')}…`;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolveBody(size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = crypto.randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true, functionName, functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '256', awsRequestId: requestId, logGroupName: `/aws/lambda/${functionName}`, logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done: () => {}, fail: () => {}, succeed: () => {},
  };
}

/**
 * Lambda's SQS event source for a process handler injected by a test (it runs in this thread, with the test's
 * closures): receive a batch, invoke, delete what succeeded.
 */
function pollInThisThread(queue: { client: SQSClient; url: string; arn: string }, handler: SqsBatchHandler, pollers: number, stats: LocalStack['stats'], note: (m: string) => void) {
  const client = queue.client;
  const abort = new AbortController();
  const timeoutMs = queues.processTimeoutSeconds * 1000;
  const loop = async () => {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await client.send(new ReceiveMessageCommand({
          QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
        }), { abortSignal: abort.signal }));
      } catch (error) {
        if (abort.signal.aborted) return;
        note(`poller: receive failed: ${error instanceof Error ? error.message : String(error)}`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toSqsRecord(m, queue.arn, LOCAL_REGION));
      stats.invocations += 1;
      stats.records += records.length;
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records }, lambdaContext('front-webhooks-local-process', timeoutMs));
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        note(`process function error (the batch will be retried): ${error instanceof Error ? error.message : String(error)}`);
        failed = new Set(records.map((r) => r.messageId));
      }
      stats.failedRecords += failed.size;
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
      if (done.length === 0) continue;
      try {
        await client.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      } catch (error) {
        note(`poller: delete failed (the messages will be delivered again): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const running = Array.from({ length: pollers }, loop);
  return { drain: async () => { abort.abort(); await Promise.allSettled(running); } };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const print = options.print ?? (() => {});
  const port = portFrom(options.port, process.env.PORT, DEFAULT_PORT);
  const sqsPort = portFrom(options.sqsPort, process.env.SQS_PORT, DEFAULT_SQS_PORT);
  const dynamoPort = portFrom(options.dynamoPort, process.env.DYNAMODB_PORT, DEFAULT_DYNAMODB_PORT);
  const pollers = options.pollers ?? 4;

  const ruleFromEnv = options.secrets?.rule ?? process.env.FRONT_RULE_SECRET;
  const appFromEnv = options.secrets?.app ?? process.env.FRONT_APP_SECRET;
  const secrets = {
    rule: ruleFromEnv?.trim() ? ruleFromEnv : DEV_SECRETS.rule,
    app: appFromEnv?.trim() ? appFromEnv : DEV_SECRETS.app,
    development: { rule: !ruleFromEnv?.trim(), app: !appFromEnv?.trim() },
  };
  // Local only: the SDK clients of this thread (tests, tools) never sign with real credentials.
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const timeline = new Timeline();
  const onLine = (fn: FunctionName, line: string) => {
    if (line.startsWith('{')) {
      try {
        timeline.add(fn, JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a JSON line: printed as it is, not kept.
      }
    }
    options.onLine?.(fn, line);
  };

  // The emulators; each started one is stopped if a later step fails.
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => { for (const close of closers.splice(0).reverse()) await close().catch(() => {}); };
  try {
    const sqs = await startLocalSqsThread({
      port: sqsPort,
      prefix: LOCAL_PREFIX,
      ...(options.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    });
    closers.push(sqs.stop);
    const lagMs = options.dynamoReadLagMs ?? (Number(process.env.DYNAMODB_READ_LAG_MS ?? 500) || 0);
    const dynamo: LocalDynamo = await startLocalDynamoThread({ port: dynamoPort, prefix: LOCAL_PREFIX, readLagMs: lagMs, nice: BACKGROUND_NICE });
    closers.push(dynamo.stop);
    const frontToken = process.env.FRONT_API_TOKEN?.trim() || DEV_FRONT_API_TOKEN;
    const front = await startFakeFront({
      token: frontToken,
      port: portFrom(options.front?.port, process.env.FAKE_FRONT_PORT, DEFAULT_FAKE_FRONT_PORT),
      ...(options.front?.requestsPerMinute !== undefined && { requestsPerMinute: options.front.requestsPerMinute }),
      ...(options.front?.rateWindowMs !== undefined && { rateWindowMs: options.front.rateWindowMs }),
    }).catch((error: unknown) => {
      throw new Error(`Cannot start the fake Front API (set FAKE_FRONT_PORT to another port): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    closers.push(() => front.close());

    const local: LocalQueues = {
      sqsEndpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl,
      dynamoEndpoint: dynamo.endpoint, tableName: dynamo.tableName, frontUrl: front.url, frontToken,
    };
    const stateTarget: StateTarget = {
      sqs: sqs.client, sqsEndpoint: sqs.endpoint,
      queues: {
        events: { name: `${LOCAL_PREFIX}-${queues.events.name}`, url: sqs.queueUrl },
        deadLetter: { name: `${LOCAL_PREFIX}-${queues.deadLetter.name}`, url: sqs.dlqUrl },
      },
      dynamo: dynamo.client, tableName: dynamo.tableName, frontUrl: front.url,
    };
    let restored: LocalStack['restored'];
    const saved = options.stateFile ? readState(options.stateFile) : undefined;
    if (saved) {
      await restoreState(saved, stateTarget);
      restored = { events: saved.queues.events.length, deadLetters: saved.queues.deadLetter.length, records: saved.table.length, frontEvents: saved.front.length };
    }

    // The functions, as deployed: the same bundles, the environment serverless.yml gives them, local endpoints.
    // The SDK clients take their endpoint from AWS_ENDPOINT_URL_*; the queue URLs' own origin
    // (http://sqs.<region>.localhost:<port>, resolved in-process) keeps them from warning that the two differ.
    const bundleSqs = new URL(sqs.queueUrl).origin;
    const common = {
      AWS_REGION: LOCAL_REGION, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ENDPOINT_URL_SQS: bundleSqs, AWS_ENDPOINT_URL_DYNAMODB: local.dynamoEndpoint,
      QUEUE_URL: sqs.queueUrl, STATE_TABLE: dynamo.tableName,
      FRONT_API_URL: front.url, FRONT_API_TOKEN: frontToken,
      ...(options.frontApiRequestsPerMinute !== undefined && { FRONT_API_REQUESTS_PER_MINUTE: String(options.frontApiRequestsPerMinute) }),
      ...(process.env.POWERTOOLS_LOG_LEVEL && { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL }),
    };
    const note = (message: string) => print(message);
    const workers: FunctionWorker[] = [];
    closers.push(async () => { for (const w of workers.splice(0)) await w.stop(); });
    const ingest = await startFunctionWorker({
      name: 'ingest', region: LOCAL_REGION, timeoutMs: INGEST_TIMEOUT_MS, onLine: (l) => onLine('ingest', l), onNote: note,
      env: { ...common, DLQ_URL: sqs.dlqUrl, FRONT_RULE_SECRET: secrets.rule, FRONT_APP_SECRET: secrets.app, POWERTOOLS_SERVICE_NAME: 'front-webhooks-ingest' },
    });
    workers.push(ingest);
    const reconcileWorker = await startFunctionWorker({
      name: 'reconcile', region: LOCAL_REGION, timeoutMs: RECONCILE_TIMEOUT_MS, onLine: (l) => onLine('reconcile', l), onNote: note, nice: BACKGROUND_NICE,
      env: {
        ...common, POWERTOOLS_SERVICE_NAME: 'front-webhooks-reconcile',
        // Locally the events of a send are listed by the next run: a short settle delay.
        RECONCILE_SETTLE_SECONDS: process.env.RECONCILE_SETTLE_SECONDS ?? '2',
      },
    });
    workers.push(reconcileWorker);
    const stats = { invocations: 0, records: 0, failedRecords: 0 };
    let processSource: { drain(): Promise<void>; stats?: LocalStack['stats'] };
    if (options.processHandler) {
      processSource = pollInThisThread({ client: sqs.client, url: sqs.queueUrl, arn: sqs.queueArn }, await options.processHandler(local), pollers, stats, note);
    } else {
      const processWorker = await startFunctionWorker({
        name: 'process', region: LOCAL_REGION, timeoutMs: queues.processTimeoutSeconds * 1000, onLine: (l) => onLine('process', l), onNote: note,
        env: { ...common, DLQ_URL: sqs.dlqUrl, ...LOCAL_CLOCKS, HYDRATE_PREVIEWS: process.env.HYDRATE_PREVIEWS ?? 'false', POWERTOOLS_SERVICE_NAME: 'front-webhooks-process' },
        poll: { queueUrl: sqs.queueUrl, queueArn: sqs.queueArn, endpoint: sqs.endpoint, pollers, batchSize: 10 },
        nice: BACKGROUND_NICE,
      });
      workers.push(processWorker);
      processSource = { drain: () => processWorker.drain(), stats: processWorker.stats };
    }

    let reconciling: Promise<void> | undefined;
    const reconcile = () => {
      reconciling ??= reconcileWorker.invoke<void>({})
        .catch((error: unknown) => note(`reconcile function error: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => { reconciling = undefined; });
      return reconciling;
    };
    const reconcileEvery = options.reconcileEverySeconds ?? LOCAL_RECONCILE_EVERY_SECONDS;
    const reconcileTimer = reconcileEvery > 0 ? setInterval(() => void reconcile(), reconcileEvery * 1000) : undefined;
    closers.push(async () => clearInterval(reconcileTimer));

    const stack = {} as LocalStack;
    // API Gateway in front of the ingest function, and the inspector.
    const server: Server = createServer((request, response) => {
      void (async () => {
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        if (options.inspector && (path === '/' || path.startsWith('/_local/'))) return handleInspector(request, response, path, stack);
        const body = await readBody(request);
        if (body === undefined) return sendJson(response, 413, { message: 'Request Entity Too Large' });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
        const event: APIGatewayProxyEventV2 = toHttpApiEvent({ method: request.method ?? 'GET', path, headers, body, sourceIp: request.socket.remoteAddress ?? LOOPBACK });
        // The event as Lambda serializes it. Each byte of the body and of the headers (node:http caps them at 16 KiB)
        // takes at most 6 in it (a \u escape), so only a request that could be over the limit is serialized to tell.
        if ((body.length + 16_384) * 6 + 4_096 > MAX_INVOKE_PAYLOAD_BYTES && Buffer.byteLength(JSON.stringify(event)) > MAX_INVOKE_PAYLOAD_BYTES) {
          return sendJson(response, 413, {
            message: 'Request Entity Too Large',
            detail: `The request, as the Lambda event API Gateway builds, is over Lambda's ${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke limit: on AWS it never reaches ingest.`,
          });
        }
        const result = await ingest.invoke<HttpApiResult>(event);
        const out = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
        response.writeHead(result.statusCode ?? 200, Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])));
        response.end(out);
      })().catch((error: unknown) => {
        print(`ingest function error: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal Server Error' });
        else response.destroy();
      });
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', (error) => reject(new Error(`Cannot listen on ${LOOPBACK}:${port} (set PORT to another port): ${error.message}`, { cause: error })));
      server.listen(port, LOOPBACK, () => {
        server.removeAllListeners('error');
        resolveListen();
      });
    });
    closers.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
    const actualPort = (server.address() as AddressInfo).port;

    let stopping: Promise<void> | undefined;
    Object.assign(stack, {
      url: `http://${LOOPBACK}:${actualPort}/webhooks/front`,
      port: actualPort,
      sqsPort: sqs.port,
      dynamoPort: dynamo.port,
      ...local,
      secrets,
      stats: processSource.stats ?? stats,
      front,
      timeline,
      ...(restored && { restored }),
      reconcile,
      expireDeduplication: () => sqs.expireDeduplication(),
      stop() {
        stopping ??= (async () => {
          // No new request, no new batch; what is in flight finishes; then the state is saved and all closes.
          // The inspector's live streams end here: they would keep the server open for ever.
          await new Promise<void>((r) => { server.close(() => r()); server.closeIdleConnections(); timeline.close(); });
          clearInterval(reconcileTimer);
          await reconciling;
          await processSource.drain();
          if (options.stateFile) {
            try {
              await saveState(options.stateFile, stateTarget);
            } catch (error) {
              print(`could not save the local state to ${options.stateFile}: ${error instanceof Error ? error.message : String(error)}`);
            }
          }
          await closeAll();
        })();
        return stopping;
      },
    } satisfies LocalStack);

    const lines = [
      `front-webhooks local stack`,
      `  webhook   POST ${stack.url}${options.inspector ? `   inspector http://${LOOPBACK}:${actualPort}/` : ''}`,
      `  sqs       ${sqs.endpoint} (fauxqs)  queue ${sqs.queueUrl}`,
      `  dlq       ${sqs.dlqUrl}   (npm run dlq -- list)`,
      `  state     ${dynamo.endpoint} (dynalite)  table ${dynamo.tableName}${lagMs > 0 ? `; reads that do not ask for consistency lag writes by ${lagMs} ms, as DynamoDB's may` : ''}`,
      `  process   ${options.processHandler ? 'injected handler' : 'dist/process/index.mjs'}, ${pollers} pollers, batches of 10; a failing event is retried after ${LOCAL_CLOCKS.RETRY_DELAYS_SECONDS} s and dead-lettered after ${queues.processing.maxHandlerAttempts} attempts (deployed: ${queues.processing.retryDelaysSeconds.join(',')} s)`,
      `  front api ${front.url} (fake; token ${frontToken === DEV_FRONT_API_TOKEN ? 'the local development one' : 'FRONT_API_TOKEN'}), reconciliation every ${reconcileEvery || '-'} s (deployed: 5 min), previews ${process.env.HYDRATE_PREVIEWS === 'true' ? 'hydrated' : 'not hydrated (HYDRATE_PREVIEWS=true)'}`,
      `  rule      ${describeSecret('FRONT_RULE_SECRET', secrets.rule, secrets.development.rule)}`,
      `  app       ${describeSecret('FRONT_APP_SECRET', secrets.app, secrets.development.app)}`,
      ...(options.stateFile ? [`  kept      ${options.stateFile}: ${restored ? `restored ${restored.events} queued event(s), ${restored.deadLetters} dead letter(s), ${restored.records} state record(s), ${restored.frontEvents} Front event(s)` : 'nothing to restore'}; saved again on Ctrl-C`] : []),
    ];
    for (const line of lines) print(line);
    return stack;
  } catch (error) {
    await closeAll();
    throw error;
  }
}
