import { SQSClient } from '@aws-sdk/client-sqs';
import { signedHeaders } from '../../lib/front/samples.ts';
import { handlers as defaultRegistry } from '../../lib/handlers/index.ts';
import type { HandlerRegistry } from '../../lib/handlers/types.ts';
import { createProcessHandler } from '../../lib/process/handler.ts';
import { DEFAULT_SETTINGS, type ProcessSettings } from '../../lib/process/settings.ts';
import { createDynamoClient, createDynamoEventStore } from '../../lib/store/events.ts';
import { DynamoRateBudget } from '../../lib/store/budget.ts';
import { FrontApiClient } from '../../lib/front/api.ts';
import type { Scheme } from '../../lib/signature.ts';
import { recordingLogger, type LogRecord } from '../../lib/testing.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { APP_SECRET, RULE_SECRET } from './ingest.ts';

// The same recorder lib/testing.ts gives handler authors; re-exported for the suites that import it from here.
export { recordingLogger, type LogRecord };

/**
 * The process function's metrics as CloudWatch computes them: from its log lines, through the metric filters in
 * serverless.yml (tests/template.test.ts checks those filters against the lines the built function writes).
 */
export interface LineMetrics {
  /** EventsProcessed, per event type (the saved query "Processed by type" breaks it down the same way). */
  processedByType: Map<string, number>;
  /** EventLag values: `lagMs` of each processed line. */
  lags: number[];
  /** EventsFailed. */
  failures: number;
  /** EventsDeadLettered, by reason. */
  deadLetters: string[];
  skips: number;
  /** EventsRecovered: processed lines with `arrival: recovered`. */
  recoveries: number;
  /** FrontApiAuthFailures (the process function's share). */
  authFailures: number;
}

export function metricsOf(logs: readonly LogRecord[]): LineMetrics {
  const of = (message: string) => logs.filter((l) => l.message === message);
  const processed = of('front event processed');
  const processedByType = new Map<string, number>();
  for (const line of processed) processedByType.set(String(line.eventType), (processedByType.get(String(line.eventType)) ?? 0) + 1);
  return {
    processedByType,
    lags: processed.map((l) => l.lagMs).filter((lag): lag is number => typeof lag === 'number'),
    failures: of('front event failed').length,
    deadLetters: of('front event dead-lettered').map((l) => String(l.reason)),
    skips: of('front event skipped').length,
    recoveries: processed.filter((l) => l.arrival === 'recovered').length,
    authFailures: of('front event deferred').filter((l) => l.reason === 'front_unauthorized').length,
  };
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestStack {
  stack: LocalStack;
  logs: LogRecord[];
  /** The metrics CloudWatch would compute from the lines so far. */
  readonly metrics: LineMetrics;
  /** An SQS client on the stack's fauxqs. */
  sqs: SQSClient;
  /** POSTs `body` to the stack's webhook URL signed under `scheme` with the test secrets. */
  post(body: unknown, scheme?: Scheme, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  /** The "front event processed" lines so far. */
  processed(): LogRecord[];
  /** Waits until every id in `eventIds` has a "front event processed" line. */
  waitProcessed(eventIds: readonly string[], deadlineMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local stack on ephemeral ports with the built ingest function and, as process function, the real
 * process logic (createProcessHandler) with `registry`, recording its log lines and metrics.
 */
export interface TestStackOptions {
  registry?: HandlerRegistry;
  visibilityTimeoutSeconds?: number;
  pollers?: number;
  settings?: Partial<ProcessSettings>;
  /** The process function fetches previews from the stack's fake Front API (HYDRATE_PREVIEWS). */
  hydratePreviews?: boolean;
  /** The fake Front API's own limit, and the functions' share of it (both high by default: tests are fast). */
  front?: { requestsPerMinute?: number; rateWindowMs?: number };
  frontApiRequestsPerMinute?: number;
  /** How long eventually consistent reads lag writes (default: the local stack's 500 ms). */
  dynamoReadLagMs?: number;
  /** Keep the state in this file on stop (as npm start does with .local/state.json). */
  stateFile?: string;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const logs: LogRecord[] = [];
  const stack = await startLocalStack({
    port: 0,
    sqsPort: 0,
    dynamoPort: 0,
    secrets: { rule: RULE_SECRET, app: APP_SECRET },
    ...(options.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    ...(options.pollers !== undefined && { pollers: options.pollers }),
    front: { port: 0, requestsPerMinute: 6000, ...options.front },
    frontApiRequestsPerMinute: options.frontApiRequestsPerMinute ?? 600,
    reconcileEverySeconds: 0,
    ...(options.dynamoReadLagMs !== undefined && { dynamoReadLagMs: options.dynamoReadLagMs }),
    ...(options.stateFile !== undefined && { stateFile: options.stateFile }),
    processHandler: ({ sqsEndpoint, queueUrl, dlqUrl, dynamoEndpoint, tableName, frontUrl, frontToken }) => createProcessHandler({
      registry: options.registry ?? defaultRegistry,
      sqs: new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1' }),
      queueUrl,
      dlqUrl,
      store: createDynamoEventStore({ client: createDynamoClient(dynamoEndpoint), tableName }),
      front: {
        client: new FrontApiClient({ baseUrl: frontUrl, token: async () => frontToken, budget: new DynamoRateBudget(createDynamoClient(dynamoEndpoint), tableName, options.frontApiRequestsPerMinute ?? 600) }),
        token: { source: 'test', get: async () => frontToken },
        hydratePreviews: options.hydratePreviews ?? false,
      },
      logger: recordingLogger(logs),
      settings: { ...DEFAULT_SETTINGS, retryDelaysSeconds: [0], deferSeconds: 0, ...options.settings },
    }),
  });
  const sqs = new SQSClient({ endpoint: stack.sqsEndpoint, region: 'us-east-1' });
  const processed = () => logs.filter((l) => l.message === 'front event processed');
  return {
    stack,
    logs,
    get metrics() { return metricsOf(logs); },
    sqs,
    async post(body, scheme = 'rule', headers = {}) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const response = await fetch(stack.url, {
        method: 'POST',
        headers: { ...signedHeaders(scheme, scheme === 'rule' ? RULE_SECRET : APP_SECRET, raw), ...headers },
        body: raw,
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    },
    processed,
    async waitProcessed(eventIds, deadlineMs = 20_000) {
      const wanted = new Set(eventIds);
      await waitFor(`${wanted.size} events processed`, () => {
        const seen = new Set(processed().map((l) => l.eventId));
        for (const id of wanted) if (!seen.has(id)) return false;
        return true;
      }, deadlineMs);
    },
    async stop() {
      sqs.destroy();
      await stack.stop();
    },
  };
}
