/**
 * The local stack as the inspector's browser tests and the README's screenshots run it: ephemeral ports, state in
 * `dir`, reconciliation only when asked. By default the built functions; with `failing`, the process logic
 * (createProcessHandler, as bundled) runs in this thread with a handler for one type that always throws, and its
 * lines go to the inspector's timeline as the built function's would.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { join } from 'node:path';
import { FrontApiClient } from '../../lib/front/api.ts';
import { handlers } from '../../lib/handlers/index.ts';
import { defineHandlers, type EventLogger } from '../../lib/handlers/types.ts';
import { createProcessHandler } from '../../lib/process/handler.ts';
import { DEFAULT_SETTINGS } from '../../lib/process/settings.ts';
import { DynamoRateBudget } from '../../lib/store/budget.ts';
import { createDynamoClient, createDynamoEventStore } from '../../lib/store/events.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import type { Timeline } from '../../local/timeline.ts';

export interface InspectorStackOptions {
  /** The state file goes here. */
  dir: string;
  port?: number;
  secrets?: { rule: string; app: string };
  /** Events of this type fail every attempt with this error, and are dead-lettered. */
  failing?: { type: string; error: string };
}

/** A logger writing Powertools-shaped lines (level, message, timestamp, fields) into the stack's timeline. */
function timelineLogger(timeline: () => Timeline | undefined): EventLogger {
  const at = (level: string) => (message: string, ...fields: Array<Record<string, unknown>>) =>
    timeline()?.add('process', { level, message, timestamp: new Date().toISOString(), ...Object.assign({}, ...fields) });
  return { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

/** The state table's eventually consistent reads lag writes by this much, as the stack's default (and DynamoDB) may. */
export const READ_LAG_MS = 500;

export async function startInspectorStack(options: InspectorStackOptions): Promise<LocalStack> {
  let timeline: Timeline | undefined;
  const failing = options.failing;
  const stack = await startLocalStack({
    inspector: true, port: options.port ?? 0, sqsPort: 0, dynamoPort: 0, dynamoReadLagMs: READ_LAG_MS,
    front: { port: 0, requestsPerMinute: 6000 }, frontApiRequestsPerMinute: 600,
    reconcileEverySeconds: 0, stateFile: join(options.dir, 'state.json'),
    ...(options.secrets && { secrets: options.secrets }),
    ...(failing && {
      processHandler: ({ sqsEndpoint, queueUrl, dlqUrl, dynamoEndpoint, tableName, frontUrl, frontToken }) => createProcessHandler({
        registry: defineHandlers({ ...handlers, [failing.type]: async () => { throw new Error(failing.error); } }),
        sqs: new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1' }),
        queueUrl,
        dlqUrl,
        store: createDynamoEventStore({ client: createDynamoClient(dynamoEndpoint), tableName }),
        front: {
          client: new FrontApiClient({ baseUrl: frontUrl, token: async () => frontToken, budget: new DynamoRateBudget(createDynamoClient(dynamoEndpoint), tableName, 600) }),
          token: { source: 'local', get: async () => frontToken },
          hydratePreviews: false,
        },
        logger: timelineLogger(() => timeline),
        settings: { ...DEFAULT_SETTINGS, retryDelaysSeconds: [0, 1], deferSeconds: 0 },
      }),
    }),
  });
  timeline = stack.timeline;
  return stack;
}
