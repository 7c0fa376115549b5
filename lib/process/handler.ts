import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FrontEvent } from '../front/event.ts';
import { resolveHandler, type EventLogger, type HandlerRegistry } from '../handlers/types.ts';
import { ATTR, failureAttributes, sendToQueue, type QueuedMessage } from '../queue.ts';
import queues from '../queues.json' with { type: 'json' };
import { decodeRecord, lagMs, type PermanentReason } from './record.ts';
import type { ProcessMetrics } from './metrics.ts';

export interface ProcessDeps {
  registry: HandlerRegistry;
  /** Client for the DLQ, where permanently unusable messages are moved. */
  sqs: SQSClient;
  dlqUrl: string;
  logger: EventLogger;
  metrics: ProcessMetrics;
  /** The queue's receive limit (lib/queues.json); only used to log whether a failure will be retried. */
  maxReceiveCount?: number;
  /** Upper bound for the one DLQ send of a malformed message. */
  sendDeadlineMs?: number;
  now?: () => number;
}

export type ProcessHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** The one line per processed event an operator queries in CloudWatch; keep its fields stable (README). */
export function processedFields(event: FrontEvent, extra: { receivedAt?: string; lagMs?: number; handler: string }): Record<string, unknown> {
  return {
    eventId: event.id,
    eventType: event.type,
    conversationId: event.conversationId,
    emittedAt: event.emittedAt === undefined ? undefined : new Date(event.emittedAt * 1000).toISOString(),
    receivedAt: extra.receivedAt,
    lagMs: extra.lagMs,
    scheme: event.scheme,
    preview: event.preview,
    sourceKind: event.source?.kind,
    sourceIds: event.source?.ids,
    targetKind: event.target?.kind,
    targetIds: event.target?.ids,
    handler: extra.handler,
    ...(event.appEventType && { appEventType: event.appEventType, companyId: event.companyId }),
  };
}

function withFields(logger: EventLogger, fields: Record<string, unknown>): EventLogger {
  return {
    debug: (message, ...extra) => logger.debug(message, Object.assign({ ...fields }, ...extra)),
    info: (message, ...extra) => logger.info(message, Object.assign({ ...fields }, ...extra)),
    warn: (message, ...extra) => logger.warn(message, Object.assign({ ...fields }, ...extra)),
    error: (message, ...extra) => logger.error(message, Object.assign({ ...fields }, ...extra)),
  };
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 1024);
}

/**
 * The process function's SQS handler (batches from a FIFO queue, ReportBatchItemFailures):
 * - each message is decoded into a normalized FrontEvent and routed to the registry's handler for its type;
 * - a message that can never succeed (not JSON, not a Front event, binary) is moved to the DLQ with
 *   failure-reason/failure-detail and acknowledged, so it never blocks its conversation;
 * - a handler that throws fails that message alone: it is reported in batchItemFailures and retried, the
 *   messages behind it in the same message group (conversation) are held back with it, other groups go on
 *   (Powertools SqsFifoPartialProcessorAsync, skipGroupOnError). After maxReceiveCount, SQS's redrive
 *   policy moves it to the DLQ.
 */
export function createProcessHandler(deps: ProcessDeps): ProcessHandler {
  const now = deps.now ?? Date.now;
  const maxReceiveCount = deps.maxReceiveCount ?? queues.events.maxReceiveCount;
  const sendDeadlineMs = deps.sendDeadlineMs ?? 5000;

  async function deadLetter(record: SQSRecord, reason: PermanentReason, detail: string): Promise<void> {
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
      if (value.stringValue !== undefined) attributes[name] = value.stringValue;
    }
    Object.assign(attributes, failureAttributes(reason, detail));
    const message: QueuedMessage = {
      body: record.body,
      // Its own group, so every dead letter stays visible to `npm run dlq -- list` (a FIFO group shows only
      // its first messages until they are deleted; malformed messages have no order to keep).
      groupId: `${reason}-${record.messageId}`,
      // The message id is stable across redeliveries of this message, so a retry after a crash between
      // this send and the delete adds nothing; a message redriven back later gets a new id and is kept again.
      deduplicationId: `${reason}-${record.messageId}`,
      attributes,
    };
    // If this send fails the record fails and is retried; after maxReceiveCount SQS dead-letters it anyway.
    await sendToQueue(deps.sqs, deps.dlqUrl, message, sendDeadlineMs);
    deps.metrics.deadLettered(reason);
    deps.logger.warn('front event dead-lettered', {
      messageId: record.messageId,
      reason,
      detail: detail.slice(0, 1024),
      eventId: attributes[ATTR.eventId],
      eventType: attributes[ATTR.eventType],
    });
  }

  async function processRecord(record: SQSRecord): Promise<void> {
    const decoded = decodeRecord(record);
    if (!decoded.ok) {
      await deadLetter(record, decoded.reason, decoded.detail);
      return;
    }
    const { event, receiveCount } = decoded;
    const { name, handle } = resolveHandler(deps.registry, event.type);
    const keys = { eventId: event.id, eventType: event.type, conversationId: event.conversationId };
    try {
      await handle(event, { logger: withFields(deps.logger, keys), messageId: record.messageId, receiveCount });
    } catch (error) {
      deps.metrics.failed(event.type);
      deps.logger.error('front event failed', {
        ...keys,
        reason: describeError(error),
        handler: name,
        receiveCount,
        willRetry: receiveCount < maxReceiveCount,
      });
      throw error;
    }
    const lag = lagMs(event, now());
    deps.metrics.processed(event.type, lag);
    deps.logger.info('front event processed', processedFields(event, {
      ...(decoded.receivedAt && { receivedAt: decoded.receivedAt }),
      ...(lag !== undefined && { lagMs: lag }),
      handler: name,
    }));
  }

  return async (event, context) => {
    // One processor per invocation: its state is per batch, and the local stack may run batches concurrently.
    const processor = new SqsFifoPartialProcessorAsync();
    try {
      return await processPartialResponse(event, processRecord, processor, {
        skipGroupOnError: true,
        // A batch where every message failed is reported like any other, not thrown.
        throwOnFullBatchFailure: false,
        ...(context && { context }),
      });
    } finally {
      deps.metrics.flush();
    }
  };
}
