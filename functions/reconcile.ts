import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { required } from '../lib/config.ts';
import { createFrontApi, frontApiSettingsFromEnv, reconcileSettingsFromEnv } from '../lib/front/settings.ts';
import { createLogger } from '../lib/logging.ts';
import { reconcileScheduled, type NotCovered, type ReconcileResult } from '../lib/reconcile.ts';
import { createDynamoClient, createDynamoEventStore, createDynamoWatermark, stateTableFromEnv } from '../lib/store/events.ts';

// Built once per cold start: configuration errors fail here, loudly.
const queueUrl = required(process.env, 'QUEUE_URL', 'the URL of the FIFO queue recovered events are sent to');
const stateTable = stateTableFromEnv(process.env);
const frontApi = frontApiSettingsFromEnv(process.env);
const settings = reconcileSettingsFromEnv(process.env);
const logger = createLogger(process.env.POWERTOOLS_SERVICE_NAME ?? 'front-webhooks-reconcile');
const dynamo = createDynamoClient();
const deps = {
  front: createFrontApi(frontApi, { client: dynamo, tableName: stateTable.tableName }),
  sqs: new SQSClient({ maxAttempts: 3 }),
  queueUrl,
  store: createDynamoEventStore({ client: dynamo, ...stateTable }),
  watermark: createDynamoWatermark(dynamo, stateTable.tableName),
};
/** Kept back from Lambda's timeout to write the watermark and the log line. */
const MARGIN_MS = 3000;
let saidNoToken = false;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function summary(result: ReconcileResult & { watermarkBefore?: number; notCovered?: NotCovered }): Record<string, unknown> {
  return {
    windowAfter: iso(result.window.after),
    windowBefore: iso(result.window.before),
    ...(result.notCovered && { notCoveredAfter: iso(result.notCovered.after), notCoveredBefore: iso(result.notCovered.before) }),
    ...(result.watermarkBefore !== undefined && { watermarkBefore: iso(result.watermarkBefore) }),
    watermark: iso(result.resumeAfter),
    complete: result.complete,
    ...(result.stoppedBecause && { stoppedBecause: result.stoppedBecause, detail: result.detail }),
    types: settings.types,
    inboxes: settings.inboxes,
    ...result.progress,
    doneThrough: iso(result.progress.doneThrough),
  };
}

/** Every few minutes (EventBridge schedule): enqueue the events Front emitted that never reached the queue. */
export async function handler(_event: unknown, context: Context): Promise<void> {
  logger.addContext(context);
  let token: string | undefined;
  try {
    token = await frontApi.token.get();
  } catch (error) {
    logger.error('front reconcile skipped', { reason: 'token_unavailable', detail: error instanceof Error ? error.message : String(error) });
    return;
  }
  if (!token) {
    if (!saidNoToken) logger.info('front reconcile off', { reason: `no Front API token (${frontApi.token.source}): missed webhooks are not recovered` });
    saidNoToken = true;
    return;
  }
  saidNoToken = false;
  const deadlineAt = Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS;
  let result;
  try {
    result = await reconcileScheduled(deps, settings, { deadlineAt, recordDays: stateTable.recordDays });
  } catch (error) {
    // Only reading the watermark can throw here (the state table is unreachable): the next run tries again.
    logger.error('front reconcile run', { complete: false, stoppedBecause: 'store_unavailable', detail: error instanceof Error ? error.message : String(error) });
    return;
  }
  const line = summary(result);
  if (result.notCovered) {
    // The watermark (or the first run's look-back) is older than the state table remembers processed events: what
    // lies before the window was not listed, and never will be by a scheduled run. An operator decides about it.
    const { after, before } = result.notCovered;
    logger.warn('front reconcile gap', {
      notCoveredAfter: iso(after),
      notCoveredBefore: iso(before),
      recordDays: stateTable.recordDays,
      reason: 'older_than_record_window',
      detail: `events Front emitted from ${iso(after)} to ${iso(before)} are not listed: records are kept ${stateTable.recordDays} days, ` +
        'so an event of then that was processed may have lost its record, would look new, and its handler would run again. ' +
        `If none of them was processed (the webhook path was down then too), recover them with npm run backfill -- --since ${iso(after)} --until ${iso(before)} --allow-reprocessing.`,
    });
  }
  if (result.stoppedBecause === 'unauthorized') {
    // A bad token is an alarmed error (the front-api-token alarm counts this line), not a loop: the next run tries
    // once more, nothing retries in between.
    logger.error('front reconcile run', line);
  } else if (!result.notCovered && (result.complete || result.stoppedBecause === 'deadline' || result.stoppedBecause === 'rate_limited')) {
    logger.info('front reconcile run', line);
  } else {
    logger.warn('front reconcile run', line);
  }
}
