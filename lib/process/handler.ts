import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FrontEvent } from '../front/event.ts';
import { resolveHandler, type EventLogger, type HandlerRegistry } from '../handlers/types.ts';
import { ATTR, failureAttributes, sendToQueue, type QueuedMessage } from '../queue.ts';
import { StoreUnavailableError, type EventStore } from '../store/events.ts';
import { runFifoBatch, type RecordOutcome, type Unfinished } from './fifo-batch.ts';
import { decodeRecord, lagMs } from './record.ts';
import { resolveEvent, type FrontFetch } from './hydrate.ts';
import { DEFAULT_SETTINGS, deferDelay, retryDelay, type ProcessSettings } from './settings.ts';

export interface ProcessDeps {
  registry: HandlerRegistry;
  /** Client for the queue (visibility of retried messages) and the DLQ. */
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** The durable record per event: what makes each handler succeed at most once. */
  store: EventStore;
  /** Front's API, when the stage has a token: fetches events too large for SQS, and previews when hydrating. */
  front?: FrontFetch;
  /**
   * Where the function's lines go (Powertools Logger in Lambda). They are also its metrics: CloudWatch metric
   * filters count them (serverless.yml), so no metric is emitted from here.
   */
  logger: EventLogger;
  settings?: ProcessSettings;
  /** Upper bound for one DLQ send. */
  sendDeadlineMs?: number;
  /** How many processed event ids the function instance remembers (15 minutes each); default 10,000. */
  recentlyProcessedLimit?: number;
  now?: () => number;
}

export type ProcessHandler = (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

/** Why the process function dead-letters a message itself. */
export type DeadLetterReason = 'invalid_json' | 'invalid_shape' | 'not_an_event' | 'handler_failed' | 'payload_too_large';

/** Lambda's own limit when no context is given (tests): the configured process timeout is never longer. */
const NO_CONTEXT_BUDGET_MS = 30_000;

export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
}

function isoOrUndefined(seconds: number | undefined): string | undefined {
  const date = new Date((seconds ?? Number.NaN) * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The one line per processed event an operator queries in CloudWatch; keep its fields stable (docs/operations.md). */
export function processedFields(event: FrontEvent, extra: { receivedAt?: string; lagMs: number | undefined; handler: string; arrival: string; attempt: number; durationMs: number; hydrated: boolean }): Record<string, unknown> {
  return {
    eventId: event.id,
    eventType: event.type,
    conversationId: event.conversationId,
    emittedAt: isoOrUndefined(event.emittedAt),
    receivedAt: extra.receivedAt,
    lagMs: extra.lagMs,
    scheme: event.scheme,
    preview: event.preview,
    ...(extra.hydrated && { hydrated: true }),
    arrival: extra.arrival,
    attempt: extra.attempt,
    durationMs: extra.durationMs,
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

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The process function's SQS handler (batches from the FIFO queue, ReportBatchItemFailures). Each record:
 * 1. is decoded; a message that can never succeed (not JSON, not a Front event) is dead-lettered with its reason;
 * 2. is checked against the state table: an event whose handler already succeeded is skipped ("front event skipped");
 * 3. runs its handler, with a deadline (the handler timeout, within Lambda's remaining time);
 * 4. on success is marked processed and logged ("front event processed"); on failure its attempt is counted:
 *    retried after a delay that grows with the attempts, and after maxHandlerAttempts failures of its own handler
 *    dead-lettered by the function ("handler_failed"), so the events behind it in its conversation go on.
 * Conversations run concurrently, each in order (fifo-batch.ts). A record that cannot be tried (state table or DLQ
 * unreachable) is retried later without counting an attempt. Records not done are reported in batchItemFailures,
 * and their visibility set so they come back when their retry is due, not after the queue's visibility timeout.
 * Nothing here throws: every outcome is in the batch response.
 */
export function createProcessHandler(deps: ProcessDeps): ProcessHandler {
  const now = deps.now ?? Date.now;
  const settings = deps.settings ?? DEFAULT_SETTINGS;
  const sendDeadlineMs = deps.sendDeadlineMs ?? 3000;
  const { logger, store } = deps;
  /** A record that could not be tried now: back later, later each time it comes back; no attempt counted. */
  const defer = (record: SQSRecord, atLeastSeconds = 0): Extract<RecordOutcome, { kind: 'retry' }> => ({
    kind: 'retry',
    delaySeconds: Math.max(atLeastSeconds, deferDelay(settings, Number(record.attributes?.ApproximateReceiveCount) || 1)),
  });
  let saidNoToken = false;
  /**
   * Events this function instance processed lately (event id → when), checked before the state table: a second copy
   * of an event in the same batch, or in the next batch of its conversation, comes within the time an eventually
   * consistent read may not show the mark yet. Bounded, and short-lived beside the record window.
   */
  const recent = new Map<string, { at: string; until: number }>();
  const RECENT_MAX = deps.recentlyProcessedLimit ?? 10_000;
  const RECENT_MS = 15 * 60_000;
  const rememberProcessed = (eventId: string, at: string) => {
    // Stryker disable next-line CallExpression: equivalent, a live id is skipped, never processed again, and an expired one was deleted when read.
    recent.delete(eventId);
    recent.set(eventId, { at, until: now() + RECENT_MS });
    if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  };
  const recentlyProcessed = (eventId: string): string | undefined => {
    const entry = recent.get(eventId);
    if (entry && entry.until > now()) return entry.at;
    // Stryker disable next-line ConditionalExpression,CallExpression: equivalent, expired entries are the oldest, so the size bound evicts them first anyway; this frees memory sooner.
    if (entry) recent.delete(eventId);
    return undefined;
  };

  /**
   * Moves a message to the DLQ with the reason; if the DLQ cannot be reached the record is retried later.
   * `conversationId`, when the message could be read, goes on the line (the conversation query finds it by it).
   */
  async function deadLetter(record: SQSRecord, reason: DeadLetterReason, detail: string, known: { conversationId?: string | undefined; extra?: Record<string, string> } = {}): Promise<RecordOutcome> {
    const extra = known.extra ?? {};
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
      if (value.stringValue !== undefined) attributes[name] = value.stringValue;
    }
    Object.assign(attributes, failureAttributes(reason, detail), extra);
    const sequence = record.attributes?.SequenceNumber;
    if (sequence) attributes[ATTR.sequence] = sequence;
    const message: QueuedMessage = {
      body: record.body,
      // Its own group, so every dead letter stays visible to `npm run dlq -- list` (a FIFO group shows only its
      // first messages until they are deleted); `queue-sequence` keeps a conversation's order for a redrive.
      groupId: `${reason}-${record.messageId}`,
      // Stable across redeliveries of this message: a retry after a crash between this send and the delete adds
      // nothing; a message redriven back later gets a new message id and is kept again.
      deduplicationId: `${reason}-${record.messageId}`,
      attributes,
    };
    try {
      await sendToQueue(deps.sqs, deps.dlqUrl, message, sendDeadlineMs);
    } catch (error) {
      const later = defer(record);
      logger.error('front event deferred', { messageId: record.messageId, eventId: attributes[ATTR.eventId], reason: 'dlq_unavailable', detail: describeError(error), retryInSeconds: later.delaySeconds });
      return later;
    }
    safely(() => {
      logger.warn('front event dead-lettered', {
        messageId: record.messageId,
        reason,
        detail: detail.slice(0, 1024),
        eventId: attributes[ATTR.eventId],
        eventType: attributes[ATTR.eventType],
        ...(known.conversationId && { conversationId: known.conversationId }),
        ...(extra[ATTR.attempts] && { attempts: Number(extra[ATTR.attempts]) }),
      });
    });
    // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent, runFifoBatch takes every outcome but 'retry' as done.
    return { kind: 'done' };
  }

  /** Logging and metrics can never fail a record: a handler that succeeded stays succeeded. */
  function safely(write: () => void, fallback?: () => void): void {
    try {
      write();
    } catch (error) {
      try {
        fallback?.();
        logger.error('front event logging failed', { reason: describeError(error) });
      } catch {
        // Nothing left to report with.
      }
    }
  }

  /** Runs the handler against its deadline; the handler is told through its AbortSignal when it is out of time. */
  async function runHandler(run: (signal: AbortSignal) => Promise<void> | void, started: number, deadline: number): Promise<{ ok: true } | { ok: false; error: unknown; timedOut: boolean }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const running = Promise.resolve().then(() => run(controller.signal));
    // A handler that settles after its deadline must not become an unhandled rejection (it would fail the invocation).
    // Stryker disable next-line CallExpression: equivalent today, Promise.race below handles the rejection of running.then(); kept so no later change can let one through.
    running.catch(() => {});
    // Stryker disable next-line StringLiteral: equivalent, any result but 'ok' is the timeout.
    const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), Math.max(0, deadline - now())); });
    try {
      const result = await Promise.race([running.then(() => 'ok' as const), expired]);
      if (result === 'ok') return { ok: true };
      const error = new HandlerTimeoutError(`the handler did not finish within ${Math.round(deadline - started)} ms`);
      controller.abort(error);
      return { ok: false, error, timedOut: true };
    } catch (error) {
      return { ok: false, error, timedOut: false };
    } finally {
      clearTimeout(timer);
    }
  }

  function deferred(record: SQSRecord, fields: Record<string, unknown>, reason: string, detail: string, atLeastSeconds = 0): RecordOutcome {
    const later = defer(record, atLeastSeconds);
    logger.error('front event deferred', { ...fields, reason, detail, retryInSeconds: later.delaySeconds });
    return later;
  }

  async function processRecord(record: SQSRecord, batch: { start: number; deadline: number }): Promise<RecordOutcome> {
    const decoded = decodeRecord(record);
    if (!decoded.ok) return deadLetter(record, decoded.reason, decoded.detail);
    const { arrival } = decoded;
    const queued = decoded.kind === 'event'
      ? { eventId: decoded.event.id, eventType: decoded.event.type, conversationId: decoded.event.conversationId }
      : { eventId: decoded.reference.eventId, eventType: decoded.reference.eventType, conversationId: decoded.reference.conversationId };

    let state: Awaited<ReturnType<EventStore['get']>>;
    try {
      const remembered = recentlyProcessed(queued.eventId);
      // Copies that can follow the first one within a second are read consistently (lib/store/events.ts).
      state = remembered ? { processedAt: remembered, attempts: 0 } : await store.get(queued.eventId, { consistent: arrival !== 'webhook' });
    } catch (error) {
      // Never processed without the check: the record waits until the table answers.
      return deferred(record, queued, 'store_unavailable', describeError(error));
    }
    if (state?.processedAt) {
      safely(() => {
        logger.info('front event skipped', { ...queued, firstProcessedAt: state.processedAt, arrival, messageId: record.messageId });
      });
      // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent, runFifoBatch takes every outcome but 'retry' as done.
      return { kind: 'done' };
    }

    // The event itself, or fetched from Front (an event too large for SQS; a preview when the stage hydrates them).
    const resolved = await resolveEvent(decoded, deps.front, Math.min(now() + settings.handlerTimeoutMs, batch.deadline));
    if (!resolved.ok && resolved.kind === 'dead_letter') return deadLetter(record, 'payload_too_large', resolved.detail, { conversationId: queued.conversationId });
    // A refused token is the reason `front_unauthorized` on this line, which the front-api-token alarm counts.
    if (!resolved.ok) return deferred(record, queued, resolved.reason, resolved.detail, resolved.retryAfterSeconds);
    if (resolved.note === 'no_token' && !saidNoToken) {
      saidNoToken = true;
      logger.warn('front previews not hydrated', { reason: 'HYDRATE_PREVIEWS is on but there is no Front API token: previews reach handlers as they came' });
    }
    if (resolved.note === 'not_found' || resolved.note === 'not_an_event') logger.warn('front event not hydrated', { ...queued, reason: resolved.note });
    const event = resolved.event;
    const keys = { eventId: event.id, eventType: event.type, conversationId: event.conversationId };

    const attempt = (state?.attempts ?? 0) + 1;
    const { name, handle } = resolveHandler(deps.registry, event.type);
    const started = now();
    const deadline = Math.min(started + settings.handlerTimeoutMs, batch.deadline);
    const result = await runHandler((signal) => handle(event, {
      logger: withFields(logger, keys),
      messageId: record.messageId,
      receiveCount: decoded.receiveCount,
      attempt,
      arrival,
      signal,
    }), started, deadline);
    const durationMs = round(now() - started);

    if (result.ok) {
      let earlier: string | undefined;
      const processedAt = new Date(now());
      rememberProcessed(event.id, processedAt.toISOString());
      try {
        ({ earlier } = await store.markProcessed(event.id, processedAt));
      } catch (error) {
        // The handler succeeded: retrying would run it again. Acknowledge, and say the record is missing.
        logger.error('front event not recorded', { ...keys, reason: 'store_unavailable', detail: describeError(error) });
      }
      if (earlier) logger.warn('front event processed twice', { ...keys, firstProcessedAt: earlier });
      // Its `arrival: recovered` is what the events-recovered alarm counts: Front's webhook never brought it.
      safely(() => {
        logger.info('front event processed', processedFields(event, {
          ...(decoded.receivedAt && { receivedAt: decoded.receivedAt }),
          lagMs: lagMs(event, now()),
          handler: name,
          arrival,
          attempt,
          durationMs,
          hydrated: resolved.hydrated,
        }));
      }, () => logger.info('front event processed', { ...keys, handler: name }));
      // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent, runFifoBatch takes every outcome but 'retry' as done.
      return { kind: 'done' };
    }

    // A handler cut short by the batch's deadline before it had a fair share of the invocation is not at fault. The
    // time it was given decides, not the time measured: a timer can fire a little before the clock says it is due,
    // and a handler that overran its own limit would then pass for one the batch cut short.
    const budget = batch.deadline - batch.start;
    if (result.timedOut && deadline - started < Math.min(settings.handlerTimeoutMs, budget / 2)) {
      logger.warn('front event deferred', { ...keys, reason: 'out_of_time', durationMs, retryInSeconds: 0 });
      return { kind: 'retry', delaySeconds: 0 };
    }

    const reason = describeError(result.error);
    let attempts: number;
    try {
      attempts = await store.recordFailure(event.id, new Date(now()));
    } catch (error) {
      // Without the count the attempt cannot be weighed: retry it later; SQS's receive limit remains the safety net.
      const later = defer(record);
      logger.error('front event failed', { ...keys, reason, handler: name, attempt, durationMs, willRetry: true, retryInSeconds: later.delaySeconds, countNotRecorded: describeError(error) });
      return later;
    }
    const willRetry = attempts < settings.maxHandlerAttempts;
    const delaySeconds = retryDelay(settings, attempts);
    safely(() => {
      logger.error('front event failed', {
        ...keys,
        reason,
        handler: name,
        attempt: attempts,
        maxAttempts: settings.maxHandlerAttempts,
        durationMs,
        willRetry,
        ...(willRetry && { retryInSeconds: delaySeconds }),
      });
    });
    if (willRetry) return { kind: 'retry', delaySeconds };
    return deadLetter(record, 'handler_failed', reason, { conversationId: event.conversationId, extra: { [ATTR.attempts]: String(attempts) } });
  }

  /** Makes each unfinished message visible again when its retry is due (SQS: whole seconds, up to 10 per call). */
  async function scheduleRetries(unfinished: readonly Unfinished[]): Promise<void> {
    for (let i = 0; i < unfinished.length; i += 10) {
      const chunk = unfinished.slice(i, i + 10);
      try {
        // Stryker disable next-line ArrayDeclaration: equivalent, SQS always answers with Failed (a required member), fauxqs too.
        const { Failed = [] } = await deps.sqs.send(new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.queueUrl,
          Entries: chunk.map((u, n) => ({ Id: String(n), ReceiptHandle: u.record.receiptHandle, VisibilityTimeout: Math.round(u.delaySeconds) })),
        }), { abortSignal: AbortSignal.timeout(sendDeadlineMs) });
        // Stryker disable next-line OptionalChaining: equivalent, Failed[0] exists when Failed.length > 0.
        if (Failed.length > 0) logger.warn('retry schedule not set', { messages: Failed.length, detail: Failed[0]?.Message });
      } catch (error) {
        // The messages then come back after the queue's visibility timeout instead: later, never lost.
        logger.warn('retry schedule not set', { messages: chunk.length, detail: describeError(error) });
      }
    }
  }

  return async (event, context) => {
    const start = now();
    const remaining = context?.getRemainingTimeInMillis() ?? NO_CONTEXT_BUDGET_MS;
    const batch = { start, deadline: start + Math.max(0, remaining - settings.deadlineMarginMs) };
    try {
      const records = Array.isArray(event?.Records) ? event.Records : [];
      const unfinished = await runFifoBatch(records, (record) => processRecord(record, batch), {
        concurrency: settings.groupConcurrency,
        deadline: batch.deadline,
        now,
      });
      await scheduleRetries(unfinished);
      return { batchItemFailures: unfinished.map((u) => ({ itemIdentifier: u.record.messageId })) };
    } catch (error) {
      // Only a bug gets here (every record's outcome is handled above): retry the batch rather than throw.
      safely(() => logger.error('front batch failed', { reason: describeError(error) }));
      // Stryker disable next-line OptionalChaining,ArrayDeclaration: equivalent, only reached once the try found an array in event.Records.
      const records = Array.isArray(event?.Records) ? event.Records : [];
      // Every record that has an id; an entry that is not a record (a null: what likely brought us here) has none.
      return { batchItemFailures: records.flatMap((r) => (typeof r?.messageId === 'string' ? [{ itemIdentifier: r.messageId }] : [])) };
    }
  };
}
