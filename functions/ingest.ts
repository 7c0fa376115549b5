import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { fromHttpApiEvent, toHttpApiResult } from '../lib/apigw.ts';
import { ingestConfigFromEnv } from '../lib/config.ts';
import { createIngest, type IngestLogEntry } from '../lib/ingest.ts';
import { createLogger } from '../lib/logging.ts';
import { createSqsClient } from '../lib/queue.ts';
import { createSecretStore, secretSourcesFromEnv } from '../lib/secrets.ts';

// Built once per cold start: configuration errors fail here, loudly, not at the first request.
const config = ingestConfigFromEnv(process.env);
const logger = createLogger(process.env.POWERTOOLS_SERVICE_NAME ?? 'front-webhooks-ingest');
const secrets = createSecretStore(secretSourcesFromEnv(process.env));
// Start reading SSM during init, which Lambda runs before the first request's clock starts.
const preloaded = secrets.preload();

const ingest = createIngest({
  sqs: createSqsClient(config.sendDeadlineMs),
  queueUrl: config.queueUrl,
  dlqUrl: config.dlqUrl,
  secrets,
  sendDeadlineMs: config.sendDeadlineMs,
  log: (entry: IngestLogEntry) => {
    const message = 'front webhook request';
    if (entry.status >= 500) logger.error(message, { ...entry });
    else if (entry.outcome === 'rejected' || entry.outcome === 'dead_lettered' || entry.outcome === 'too_large') logger.warn(message, { ...entry });
    else logger.info(message, { ...entry });
  },
});

export async function handler(event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> {
  // The request id and cold start on the line (lib/logging.ts); a test may call the handler without a context.
  if (context) logger.addContext(context);
  await preloaded;
  let request;
  try {
    request = fromHttpApiEvent(event);
  } catch {
    // Not an HTTP API payload 2.0 event (a console test, a misconfigured integration): nothing to verify or keep.
    logger.warn('front webhook request', { outcome: 'rejected', status: 400, reason: 'bad_request', bytes: 0, durationMs: 0 });
    return toHttpApiResult({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'bad_request', message: 'Expected an API Gateway HTTP API (payload 2.0) event.' }) });
  }
  return toHttpApiResult(await ingest(request));
}
