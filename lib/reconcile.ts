import type { SQSClient } from '@aws-sdk/client-sqs';
import { FrontAuthError, FrontRateLimitedError, FrontUnavailableError, type FrontApiClient, type ListEventsQuery } from './front/api.ts';
import type { FrontEventBody } from './front/event.ts';
import type { ReconcileSettings } from './front/settings.ts';
import { contentId, eventMessage, MAX_MESSAGE_BYTES, messageBytes, QueueUnavailableError, referenceMessage, sendBatchToQueue, type QueuedMessage } from './queue.ts';
import { StoreUnavailableError, type EventStore, type Watermark } from './store/events.ts';

/**
 * Recovers what Front never delivered: lists the events Front emitted in a window (GET /events, oldest first) and
 * enqueues every one not already processed, exactly as a webhook delivery would be queued (same FIFO group, same
 * deduplication id) and marked `recovered`. Events the webhook path already queued collapse in SQS's 5-minute
 * deduplication; any other duplicate is skipped by the state table when processed. So the whole window can be
 * listed again at any time, and a run that stops halfway (deadline, rate limit, Front or AWS down) loses nothing.
 */
export interface ReconcileDeps {
  front: Pick<FrontApiClient, 'listEvents'>;
  sqs: SQSClient;
  queueUrl: string;
  store: Pick<EventStore, 'knownAmong'>;
  /** Bound of one SQS call. */
  sendDeadlineMs?: number;
  now?: () => number;
}

export interface ReconcileWindow {
  /** Unix seconds: events emitted after this. */
  after: number;
  /** Unix seconds: events emitted before this. */
  before: number;
  types?: readonly string[];
  inboxes?: readonly string[];
}

export interface ReconcileProgress {
  pages: number;
  /** Events Front listed. */
  seen: number;
  /** Of those, events whose handler had already succeeded. */
  alreadyProcessed: number;
  /**
   * Of those, events the webhook path delivered whose handler failed: retried, or in the DLQ for an operator to
   * redrive. Not queued again: a second copy would only fail beside the first, and they were not missed.
   */
  alreadyFailing: number;
  /** Events queued (or that would be, in a dry run), references for events too large for SQS included. */
  enqueued: number;
  /** Of the enqueued, events too large for SQS, queued as a reference the process function fetches. */
  referenced: number;
  /** Events Front listed without a string id and type: they cannot be queued (reported, never silently dropped). */
  unusable: number;
  /** Pages that waited for the shared budget or Front's Retry-After, and how long in all. */
  rateLimitWaits: number;
  waitedMs: number;
  /** Unix seconds up to which every event of the window is enqueued or found processed. */
  doneThrough: number;
}

export type StopReason = 'deadline' | 'rate_limited' | 'front_unavailable' | 'unauthorized' | 'queue_unavailable' | 'store_unavailable' | 'failed';

export interface ReconcileResult {
  window: ReconcileWindow;
  progress: ReconcileProgress;
  /** True when every page of the window was listed and enqueued. */
  complete: boolean;
  stoppedBecause?: StopReason;
  /** What stopped it, in words (never a token or a body). */
  detail?: string;
  /** Unix seconds to pass as `after` to carry on where it stopped. */
  resumeAfter: number;
}

/** Kept between the oldest event listed and the end of the record window (at most: see oldestListable). */
export const RECORD_WINDOW_MARGIN_SECONDS = 86_400;

/**
 * Unix seconds: the oldest `emitted_at` a reconciliation or a backfill may list without risking a handler running
 * twice. An event's record is kept `recordDays` after the event was processed, so after it was emitted: an event
 * emitted within the last `recordDays` still has its record if it was processed. An older one may have lost it
 * (lib/store/events.ts treats an expired record as absent), would look new, and its handler would run again.
 * The margin (a day, or half the window when records are kept under two days) keeps clear of the edge: Front's
 * clock against ours, and the time between this answer and the reads of the records.
 */
export function oldestListable(nowSeconds: number, recordDays: number): number {
  const kept = recordDays * 86_400;
  return nowSeconds - kept + Math.min(RECORD_WINDOW_MARGIN_SECONDS, kept / 2);
}

/** Time kept back before the deadline: a page and its sends must fit in it. */
const PAGE_MARGIN_MS = 5000;

function stopReason(error: unknown): StopReason {
  if (error instanceof FrontAuthError) return 'unauthorized';
  if (error instanceof FrontRateLimitedError) return 'rate_limited';
  if (error instanceof FrontUnavailableError) return 'front_unavailable';
  if (error instanceof QueueUnavailableError) return 'queue_unavailable';
  if (error instanceof StoreUnavailableError) return 'store_unavailable';
  return 'failed';
}

function usable(event: FrontEventBody): boolean {
  return typeof event?.id === 'string' && event.id.length > 0 && typeof event.type === 'string' && event.type.length > 0;
}

/** The message an event listed by Front becomes: the event itself, or a reference when it is over SQS's limit. */
export function recoveredMessage(event: FrontEventBody, receivedAt: string): { message: QueuedMessage; referenced: boolean } {
  const raw = Buffer.from(JSON.stringify(event));
  const fields = { scheme: 'rule' as const, receivedAt, arrival: 'recovered' as const };
  const message = eventMessage(raw, event, fields);
  if (messageBytes(message) <= MAX_MESSAGE_BYTES) return { message, referenced: false };
  const conversationId = event.conversation?.id;
  return {
    message: referenceMessage({ eventId: event.id, eventType: event.type, ...(conversationId && { conversationId }), bytes: raw.length, sha256: contentId(raw) }, fields),
    referenced: true,
  };
}

/** A run's counts before its first page; everything up to `doneThrough` is done. */
function noProgress(doneThrough: number): ReconcileProgress {
  return { pages: 0, seen: 0, alreadyProcessed: 0, alreadyFailing: 0, enqueued: 0, referenced: 0, unusable: 0, rateLimitWaits: 0, waitedMs: 0, doneThrough };
}

/**
 * Lists one window oldest first and enqueues what is missing, page by page; stops before `deadlineAt`.
 * `onPage` runs after each page is fully enqueued (the scheduled run moves its watermark there).
 */
export async function reconcileWindow(
  deps: ReconcileDeps,
  window: ReconcileWindow,
  options: { deadlineAt: number; dryRun?: boolean; onPage?: (progress: ReconcileProgress) => void | Promise<void>; signal?: AbortSignal },
): Promise<ReconcileResult> {
  const now = deps.now ?? Date.now;
  const sendDeadlineMs = deps.sendDeadlineMs ?? 5000;
  const progress = noProgress(window.after);
  // Pages must come oldest first for the watermark to move page by page; if Front ever returned them otherwise,
  // nothing moves until the whole window is done.
  let ordered = true;
  let newest = window.after;
  const result = (complete: boolean, stoppedBecause?: StopReason, detail?: string): ReconcileResult => ({
    window,
    progress,
    complete,
    ...(stoppedBecause && { stoppedBecause }),
    ...(detail && { detail }),
    resumeAfter: complete ? window.before : progress.doneThrough,
  });

  const query: ListEventsQuery = {
    after: window.after,
    before: window.before,
    sortOrder: 'asc',
    deadlineAt: options.deadlineAt - PAGE_MARGIN_MS,
    ...(window.types && window.types.length > 0 && { types: window.types }),
    ...(window.inboxes && window.inboxes.length > 0 && { inboxes: window.inboxes }),
    ...(options.signal && { signal: options.signal }),
  };
  try {
    for await (const page of deps.front.listEvents(query)) {
      progress.pages += 1;
      progress.seen += page.results.length;
      if (page.stats.waitedMs > 0) {
        progress.rateLimitWaits += 1;
        progress.waitedMs += page.stats.waitedMs;
      }
      const events = page.results.filter(usable);
      progress.unusable += page.results.length - events.length;
      for (const event of events) {
        const emitted = typeof event.emitted_at === 'number' ? event.emitted_at : undefined;
        if (emitted === undefined || emitted < newest) ordered = false;
        else newest = emitted;
      }
      const known = events.length > 0 ? await deps.store.knownAmong(events.map((e) => e.id)) : { processed: new Set<string>(), failing: new Set<string>() };
      const receivedAt = new Date(now()).toISOString();
      const missing = events.filter((e) => !known.processed.has(e.id) && !known.failing.has(e.id)).map((e) => recoveredMessage(e, receivedAt));
      if (!options.dryRun) await sendBatchToQueue(deps.sqs, deps.queueUrl, missing.map((m) => m.message), sendDeadlineMs);
      progress.alreadyProcessed += known.processed.size;
      progress.alreadyFailing += known.failing.size;
      progress.enqueued += missing.length;
      progress.referenced += missing.filter((m) => m.referenced).length;
      if (ordered) progress.doneThrough = Math.min(Math.max(progress.doneThrough, newest), window.before);
      await options.onPage?.(progress);
      if (page.next && now() > options.deadlineAt - PAGE_MARGIN_MS) return result(false, 'deadline', 'the run stopped before its time was up; the next one carries on');
    }
  } catch (error) {
    return result(false, stopReason(error), error instanceof Error ? error.message.slice(0, 500) : String(error));
  }
  progress.doneThrough = window.before;
  return result(true);
}

/** Unix seconds: the part of a scheduled run's window it did not list, because its records may have expired. */
export interface NotCovered {
  after: number;
  before: number;
}

/**
 * The scheduled run: the window from the durable watermark minus an overlap up to now minus a settle delay,
 * filtered to the stage's types and inboxes. The watermark moves after every page is enqueued (never past what is
 * done), so a run killed at any point resumes where it was; the next run reads the overlap again.
 * The window never starts before oldestListable (`recordDays`, the stage's record window): when the watermark (or
 * the first run's look-back) is older, the part before it is `notCovered`, for the caller to report, and the run
 * carries on from there.
 */
export async function reconcileScheduled(
  deps: ReconcileDeps & { watermark: Watermark },
  settings: ReconcileSettings,
  options: { deadlineAt: number; recordDays: number },
): Promise<ReconcileResult & { watermarkBefore?: number; notCovered?: NotCovered }> {
  const nowSeconds = (deps.now ?? Date.now)() / 1000;
  const watermarkBefore = await deps.watermark.get();
  const wanted = Math.max(0, (watermarkBefore ?? nowSeconds - settings.initialLookbackSeconds) - settings.overlapSeconds);
  const oldest = oldestListable(nowSeconds, options.recordDays);
  const window: ReconcileWindow = {
    after: Math.max(wanted, oldest),
    before: nowSeconds - settings.settleSeconds,
    types: settings.types,
    inboxes: settings.inboxes,
  };
  const extra = {
    ...(watermarkBefore !== undefined && { watermarkBefore }),
    ...(wanted < oldest && { notCovered: { after: wanted, before: Math.min(oldest, window.before) } }),
  };
  if (window.before <= window.after) {
    return { window, progress: noProgress(window.before), complete: true, resumeAfter: window.before, ...extra };
  }
  const result = await reconcileWindow(deps, window, {
    deadlineAt: options.deadlineAt,
    onPage: async (progress) => {
      if (progress.doneThrough > window.after) await deps.watermark.advance(progress.doneThrough);
    },
  });
  if (result.complete) await deps.watermark.advance(window.before);
  return { ...result, ...extra };
}
