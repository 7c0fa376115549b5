import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { required } from '../lib/config.ts';
import { handlers } from '../lib/handlers/index.ts';
import { createLogger } from '../lib/logging.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { processSettingsFromEnv } from '../lib/process/settings.ts';
import { createDynamoClient, createDynamoEventStore, stateTableFromEnv } from '../lib/store/events.ts';
import { createFrontApi, frontApiSettingsFromEnv } from '../lib/front/settings.ts';

// Built once per cold start: configuration errors fail here, loudly, not at the first event. Its metrics are
// CloudWatch metric filters on its log lines (serverless.yml): nothing else to publish.
const queueUrl = required(process.env, 'QUEUE_URL', 'the URL of the FIFO queue this function consumes (retries are scheduled on it)');
const dlqUrl = required(process.env, 'DLQ_URL', 'the URL of the FIFO dead-letter queue');
const stateTable = stateTableFromEnv(process.env);
const settings = processSettingsFromEnv(process.env);
const logger = createLogger(process.env.POWERTOOLS_SERVICE_NAME ?? 'front-webhooks-process');

const dynamo = createDynamoClient();
const frontApi = frontApiSettingsFromEnv(process.env);
// Said once per cold start: what this function does with Front's API (fetching needs a token; see docs/operations.md).
logger.info('front api', {
  token: frontApi.token.source,
  hydratePreviews: frontApi.hydratePreviews,
  oversizeEvents: 'fetched from Front when a token is configured, else kept in the DLQ',
});

const processBatch = createProcessHandler({
  registry: handlers,
  sqs: new SQSClient({ maxAttempts: 3 }),
  queueUrl,
  dlqUrl,
  store: createDynamoEventStore({ client: dynamo, ...stateTable }),
  front: {
    client: createFrontApi(frontApi, { client: dynamo, tableName: stateTable.tableName }),
    token: frontApi.token,
    hydratePreviews: frontApi.hydratePreviews,
  },
  logger,
  settings,
});

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return processBatch(event, context);
}
