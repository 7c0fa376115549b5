/**
 * `npm start`: the whole pipeline on this machine, no AWS account, no Docker.
 * - fauxqs (SQS emulator) in-process on 127.0.0.1:${SQS_PORT:-9324}, with the queues of lib/queues.json
 *   (names prefixed `local-`, same attributes, same redrive policy);
 * - POST http://127.0.0.1:${PORT:-3000}/webhooks/front turned into an API Gateway HTTP API (2.0) event for the
 *   BUILT ingest function (dist/ingest/index.mjs);
 * - pollers that feed the BUILT process function (dist/process/index.mjs) the way Lambda's SQS event source
 *   does: batches of up to 10, only the successes deleted (ReportBatchItemFailures), failures left to come
 *   back after the visibility timeout, and fauxqs's redrive policy moving them to the DLQ after maxReceiveCount.
 * The functions' JSON log lines go to stdout as they would to CloudWatch; everything the stack itself says
 * goes to stderr, so `npm start | jq` sees only the functions' lines.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { LOCAL_CLOCKS } from '../lib/process/settings.ts';
import { DEFAULT_DYNAMODB_PORT, startLocalDynamo } from './dynamodb.ts';
import { startEventualConsistency, type EventualConsistency } from './eventual-consistency.ts';
import { startFakeFront, type FakeFront } from './fake-front.ts';
import { DEFAULT_SQS_PORT, LOCAL_PREFIX, LOCAL_REGION, LOOPBACK, startLocalSqs } from './sqs.ts';

/** Used when FRONT_RULE_SECRET / FRONT_APP_SECRET are not set. Public on purpose: local use only. */
export const DEV_SECRETS = {
  rule: 'local-development-rule-secret-NOT-FOR-PRODUCTION',
  app: 'local-development-app-secret-NOT-FOR-PRODUCTION',
} as const;
/** The token of the local fake of Front's API (the functions use it as they would a real one). */
export const DEV_FRONT_API_TOKEN = 'local-front-api-token-NOT-FOR-PRODUCTION';
export const DEFAULT_FAKE_FRONT_PORT = 3030;
/** How often the local stack runs the reconciliation (deployed: every 5 minutes). */
export const LOCAL_RECONCILE_EVERY_SECONDS = 30;

export const DEFAULT_PORT = 3000;
const HOST = LOOPBACK;
const REGION = LOCAL_REGION;
/** API Gateway HTTP APIs refuse larger request bodies before they reach the function. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * Lambda's synchronous invoke payload limit, for the whole API Gateway event as JSON (headers, the body escaped as a
 * JSON string, or base64 for content types API Gateway does not pass as text): a request over it never reaches
 * ingest on AWS, so the local stack refuses it the same way.
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6_291_456;

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalQueues {
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  /** The state table as the functions reach it: dynalite, behind eventually consistent reads. */
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
  /** Replaces the built process function (tests inject handlers and recorders). Called once the queues exist. */
  processHandler?: (queues: LocalQueues) => SqsBatchHandler | Promise<SqsBatchHandler>;
  /** Overrides the main queue's VisibilityTimeout (seconds) so tests see retries quickly. */
  visibilityTimeoutSeconds?: number;
  /** Concurrent pollers (Lambda runs several batches at once); default 4. FIFO group locking keeps order. */
  pollers?: number;
  /** No banner, and the built functions' own log lines silenced (POWERTOOLS_LOG_LEVEL=SILENT at import). */
  quiet?: boolean;
  /** Where the stack's own messages go; default stderr. */
  print?: (line: string) => void;
}

export interface LocalStack extends LocalQueues {
  /** http://127.0.0.1:<port>/webhooks/front */
  url: string;
  port: number;
  sqsPort: number;
  dynamoPort: number;
  secrets: { rule: string; app: string; development: { rule: boolean; app: boolean } };
  /** Process invocations so far and their failed records (for tests and the benchmark). */
  stats: { invocations: number; records: number; failedRecords: number };
  /** The fake of Front's API the functions call (events `npm run send` generates are recorded there). */
  front: FakeFront;
  /** Runs the built reconcile function once, now (it also runs every reconcileEverySeconds). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

let instance = 0;

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

/** Imports a built bundle with env set for its module scope; the query makes each stack a fresh module instance. */
async function importBundle<T>(name: string, env: Record<string, string | undefined>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const url = `${pathToFileURL(resolve('dist', name, 'index.mjs')).href}?instance=${++instance}`;
    return (await import(url)) as T;
  } catch (error) {
    throw new Error(`Cannot load dist/${name}/index.mjs (run \`npm run build\` first): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    // Only the logging switches are per import; the rest describes the stack and stays.
    for (const key of ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_DISABLED']) {
      if (key in env) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  }
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
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

function send(response: ServerResponse, status: number, headers: Record<string, string | number | boolean>, body: string | Buffer): void {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = String(value);
  response.writeHead(status, out);
  response.end(body);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const say = options.quiet ? () => {} : print;
  const port = portFrom(options.port, process.env.PORT, DEFAULT_PORT);
  const sqsPort = portFrom(options.sqsPort, process.env.SQS_PORT, DEFAULT_SQS_PORT);
  const dynamoPort = portFrom(options.dynamoPort, process.env.DYNAMODB_PORT, DEFAULT_DYNAMODB_PORT);

  const ruleFromEnv = options.secrets?.rule ?? process.env.FRONT_RULE_SECRET;
  const appFromEnv = options.secrets?.app ?? process.env.FRONT_APP_SECRET;
  const secrets = {
    rule: ruleFromEnv?.trim() ? ruleFromEnv : DEV_SECRETS.rule,
    app: appFromEnv?.trim() ? appFromEnv : DEV_SECRETS.app,
    development: { rule: !ruleFromEnv?.trim(), app: !appFromEnv?.trim() },
  };

  // Local only: never sign requests to the emulator with real credentials.
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  // The same queues as serverless.yml, from the one definition in lib/queues.json.
  const sqs = await startLocalSqs({
    port: sqsPort,
    prefix: LOCAL_PREFIX,
    ...(options.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
  });
  const { client, queueUrl, queueArn, dlqUrl, endpoint: sqsEndpoint, port: actualSqsPort } = sqs;

  let server: Server | undefined;
  const abort = new AbortController();
  const pollers: Array<Promise<void>> = [];
  let dynamo: Awaited<ReturnType<typeof startLocalDynamo>> | undefined;
  let front: FakeFront | undefined;
  let lagging: EventualConsistency | undefined;
  const stopEmulators = async () => {
    await front?.close();
    await lagging?.stop();
    await dynamo?.stop();
    await sqs.stop();
  };

  try {
    dynamo = await startLocalDynamo({ port: dynamoPort, prefix: LOCAL_PREFIX });
    const lagMs = options.dynamoReadLagMs ?? (Number(process.env.DYNAMODB_READ_LAG_MS ?? 500) || 0);
    lagging = lagMs > 0 ? await startEventualConsistency({ target: dynamo.endpoint, lagMs }) : undefined;
    const functionsDynamo = lagging?.endpoint ?? dynamo.endpoint;
    const frontToken = process.env.FRONT_API_TOKEN?.trim() || DEV_FRONT_API_TOKEN;
    front = await startFakeFront({
      token: frontToken,
      port: portFrom(options.front?.port, process.env.FAKE_FRONT_PORT, DEFAULT_FAKE_FRONT_PORT),
      ...(options.front?.requestsPerMinute !== undefined && { requestsPerMinute: options.front.requestsPerMinute }),
      ...(options.front?.rateWindowMs !== undefined && { rateWindowMs: options.front.rateWindowMs }),
    }).catch((error: unknown) => {
      throw new Error(`Cannot start the fake Front API (set FAKE_FRONT_PORT to another port): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    const frontEnv = {
      FRONT_API_URL: front.url,
      FRONT_API_TOKEN: frontToken,
      FRONT_API_TOKEN_PARAM: undefined,
      ...(options.frontApiRequestsPerMinute !== undefined && { FRONT_API_REQUESTS_PER_MINUTE: String(options.frontApiRequestsPerMinute) }),
    };
    const local: LocalQueues = { sqsEndpoint, queueUrl, dlqUrl, dynamoEndpoint: functionsDynamo, tableName: dynamo.tableName, frontUrl: front.url, frontToken };
    // The bundles' SDK clients take the endpoint from AWS_ENDPOINT_URL_SQS; with the queue URLs' own origin
    // (http://sqs.<region>.localhost:<port>, resolved in-process) they do not warn that the two differ.
    const bundleEndpoint = new URL(queueUrl).origin;

    const quietEnv = options.quiet ? { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' } : {};
    const ingest = (await importBundle<{ handler: HttpApiHandler }>('ingest', {
      QUEUE_URL: queueUrl,
      DLQ_URL: dlqUrl,
      AWS_ENDPOINT_URL_SQS: bundleEndpoint,
      FRONT_RULE_SECRET: secrets.rule,
      FRONT_APP_SECRET: secrets.app,
      FRONT_RULE_SECRET_PARAM: undefined,
      FRONT_APP_SECRET_PARAM: undefined,
      ...quietEnv,
    })).handler;
    const processBatch: SqsBatchHandler = options.processHandler
      ? await options.processHandler(local)
      : (await importBundle<{ handler: SqsBatchHandler }>('process', {
          QUEUE_URL: queueUrl,
          DLQ_URL: dlqUrl,
          STATE_TABLE: dynamo.tableName,
          AWS_ENDPOINT_URL_SQS: bundleEndpoint,
          AWS_ENDPOINT_URL_DYNAMODB: functionsDynamo,
          ...LOCAL_CLOCKS,
          ...frontEnv,
          HYDRATE_PREVIEWS: process.env.HYDRATE_PREVIEWS ?? 'false',
          POWERTOOLS_SERVICE_NAME: process.env.POWERTOOLS_SERVICE_NAME ?? 'front-webhooks-process',
          POWERTOOLS_METRICS_NAMESPACE: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'FrontWebhooks',
          ...quietEnv,
        })).handler;

    const reconcileBundle = (await importBundle<{ handler: (event: unknown, context: Context) => Promise<void> }>('reconcile', {
      QUEUE_URL: queueUrl,
      STATE_TABLE: dynamo.tableName,
      AWS_ENDPOINT_URL_SQS: bundleEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: functionsDynamo,
      ...frontEnv,
      POWERTOOLS_SERVICE_NAME: 'front-webhooks-reconcile',
      // Locally the events of a send are listed by the next run: a short settle delay.
      RECONCILE_SETTLE_SECONDS: process.env.RECONCILE_SETTLE_SECONDS ?? '2',
      ...quietEnv,
    })).handler;
    let reconciling: Promise<void> | undefined;
    const reconcile = () => {
      reconciling ??= reconcileBundle({}, lambdaContext('front-webhooks-local-reconcile', 60_000))
        .catch((error: unknown) => print(`reconcile function error: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => { reconciling = undefined; });
      return reconciling;
    };
    const reconcileEvery = options.reconcileEverySeconds ?? LOCAL_RECONCILE_EVERY_SECONDS;
    const reconcileTimer = reconcileEvery > 0 ? setInterval(() => void reconcile(), reconcileEvery * 1000) : undefined;
    abort.signal.addEventListener('abort', () => clearInterval(reconcileTimer));

    // API Gateway in front of the ingest function.
    server = createServer((request, response) => {
      void (async () => {
        const body = await readBody(request);
        if (body === undefined) return send(response, 413, { 'content-type': 'application/json' }, '{"message":"Request Entity Too Large"}');
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        const event = toHttpApiEvent({ method: request.method ?? 'GET', path, headers, body, sourceIp: request.socket.remoteAddress ?? HOST });
        if (Buffer.byteLength(JSON.stringify(event)) > MAX_INVOKE_PAYLOAD_BYTES) {
          return send(response, 413, { 'content-type': 'application/json' }, JSON.stringify({
            message: 'Request Entity Too Large',
            detail: `The request, as the Lambda event API Gateway builds, is over Lambda's ${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke limit: on AWS it never reaches ingest.`,
          }));
        }
        const result = await ingest(event);
        const out = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
        send(response, result.statusCode ?? 200, { ...result.headers }, out);
      })().catch((error: unknown) => {
        print(`ingest function error: ${error instanceof Error ? error.stack : String(error)}`);
        if (!response.headersSent) send(response, 500, { 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
        else response.destroy();
      });
    });
    const listening = server;
    await new Promise<void>((resolveListen, reject) => {
      listening.once('error', (error) => reject(new Error(`Cannot listen on ${HOST}:${port} (set PORT to another port): ${error.message}`, { cause: error })));
      listening.listen(port, HOST, () => {
        listening.removeAllListeners('error');
        resolveListen();
      });
    });
    const actualPort = (listening.address() as AddressInfo).port;

    // Lambda's SQS event source: receive a batch, invoke, delete what succeeded.
    const stats = { invocations: 0, records: 0, failedRecords: 0 };
    const timeoutMs = queues.processTimeoutSeconds * 1000;
    async function poll(): Promise<void> {
      while (!abort.signal.aborted) {
        let messages: Message[];
        try {
          const received = await client.send(new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }), { abortSignal: abort.signal });
          messages = received.Messages ?? [];
        } catch (error) {
          if (abort.signal.aborted) return;
          print(`poller: receive failed: ${error instanceof Error ? error.message : String(error)}`);
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        if (messages.length === 0) continue;
        const records = messages.map((m) => toSqsRecord(m, queueArn, REGION));
        stats.invocations += 1;
        stats.records += records.length;
        let failed: Set<string>;
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`Task timed out after ${queues.processTimeoutSeconds} seconds`)), timeoutMs);
          });
          const response = await Promise.race([processBatch({ Records: records }, lambdaContext('front-webhooks-local-process', timeoutMs)), timeout]);
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          // A thrown error or a timeout fails the whole batch, as in Lambda.
          print(`process function error (the batch will be retried): ${error instanceof Error ? error.message : String(error)}`);
          failed = new Set(records.map((r) => r.messageId));
        } finally {
          clearTimeout(timer);
        }
        stats.failedRecords += failed.size;
        const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
        if (done.length === 0) continue;
        try {
          await client.send(new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }));
        } catch (error) {
          print(`poller: delete failed (the messages will be delivered again): ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    for (let i = 0; i < (options.pollers ?? 4); i++) pollers.push(poll());

    const url = `http://${HOST}:${actualPort}/webhooks/front`;
    say(`front-webhooks local stack`);
    say(`  webhook   POST ${url}`);
    say(`  sqs       ${sqsEndpoint} (fauxqs)  queue ${queueUrl}`);
    say(`  dlq       ${dlqUrl}   (npm run dlq -- list)`);
    say(`  state     ${dynamo.endpoint} (dynalite)  table ${dynamo.tableName}${lagging ? `; the functions read it eventually consistent (${lagMs} ms), as on DynamoDB` : ''}`);
    say(`  process   ${options.processHandler ? 'injected handler' : 'dist/process/index.mjs'}, ${options.pollers ?? 4} pollers, batches of 10; a failing event is retried after ${LOCAL_CLOCKS.RETRY_DELAYS_SECONDS} s and dead-lettered after ${queues.processing.maxHandlerAttempts} attempts (deployed: ${queues.processing.retryDelaysSeconds.join(',')} s)`);
    say(`  front api ${front.url} (fake; token ${frontToken === DEV_FRONT_API_TOKEN ? 'the local development one' : 'FRONT_API_TOKEN'}), reconciliation every ${reconcileEvery || '-'} s (deployed: 5 min), previews ${process.env.HYDRATE_PREVIEWS === 'true' ? 'hydrated' : 'not hydrated (HYDRATE_PREVIEWS=true)'}`);
    say(`  rule      ${describeSecret('FRONT_RULE_SECRET', secrets.rule, secrets.development.rule)}`);
    say(`  app       ${describeSecret('FRONT_APP_SECRET', secrets.app, secrets.development.app)}`);
    say(`Function log lines follow on stdout. Ctrl-C stops.`);

    let stopping: Promise<void> | undefined;
    return {
      url,
      port: actualPort,
      sqsPort: actualSqsPort,
      dynamoPort: dynamo.port,
      ...local,
      secrets,
      stats,
      front,
      reconcile,
      stop() {
        stopping ??= (async () => {
          abort.abort();
          await reconciling;
          await Promise.allSettled(pollers);
          await new Promise<void>((resolveClose) => {
            listening.close(() => resolveClose());
            listening.closeAllConnections();
          });
          await stopEmulators();
        })();
        return stopping;
      },
    };
  } catch (error) {
    abort.abort();
    await Promise.allSettled(pollers);
    if (server?.listening) {
      const open = server;
      await new Promise<void>((r) => { open.close(() => r()); open.closeAllConnections(); });
    }
    await stopEmulators();
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let stack: LocalStack;
  try {
    stack = await startLocalStack();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stderr.write(`${signal}: stopping…\n`);
    stack.stop().then(() => {
      process.stderr.write('stopped\n');
      process.exit(0);
    }, (error: unknown) => {
      process.stderr.write(`stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
