import { ConfigError } from '../config.ts';
import queues from '../queues.json' with { type: 'json' };

/** How the process function retries and dead-letters events; defaults in lib/queues.json `processing`. */
export interface ProcessSettings {
  /** Failed attempts of an event's own handler after which the function dead-letters it. */
  maxHandlerAttempts: number;
  /** Wait before attempt n+1 after n failures (the last value repeats). */
  retryDelaysSeconds: readonly number[];
  /** Wait before retrying a record that could not be tried (state table, DLQ or Front unreachable); no attempt counted. */
  deferSeconds: number;
  /** A handler still running after this long has failed (and is told so through its AbortSignal). */
  handlerTimeoutMs: number;
  /** How many conversations (FIFO groups) of one batch are processed at once. */
  groupConcurrency: number;
  /** Time kept back from Lambda's timeout to report the batch: past it, records not finished are retried. */
  deadlineMarginMs: number;
}

export const DEFAULT_SETTINGS: ProcessSettings = {
  maxHandlerAttempts: queues.processing.maxHandlerAttempts,
  retryDelaysSeconds: queues.processing.retryDelaysSeconds,
  deferSeconds: queues.processing.deferSeconds,
  handlerTimeoutMs: queues.processing.handlerTimeoutSeconds * 1000,
  groupConcurrency: queues.processing.groupConcurrency,
  deadlineMarginMs: 2000,
};

/** The clocks `npm start` uses: the same logic and counts, retries in seconds (printed at start). */
export const LOCAL_CLOCKS = {
  RETRY_DELAYS_SECONDS: queues.processing.localRetryDelaysSeconds.join(','),
  DEFER_SECONDS: String(queues.processing.localDeferSeconds),
} as const;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}".`);
  return value;
}

/** SQS visibility timeouts are whole seconds up to 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

/**
 * The settings of a stage, checked once at cold start. SQS's receive limit (MAX_RECEIVE_COUNT, from lib/queues.json)
 * must stay above what a held-back message can reach, 10 × maxHandlerAttempts (lib/queues.json explains why), or
 * SQS would dead-letter events whose own handler never failed.
 */
export function processSettingsFromEnv(env: NodeJS.ProcessEnv): ProcessSettings {
  let retryDelaysSeconds = DEFAULT_SETTINGS.retryDelaysSeconds;
  const delays = env.RETRY_DELAYS_SECONDS;
  if (delays !== undefined && delays !== '') {
    const parsed = delays.split(',').map((d) => Number(d.trim()));
    if (parsed.some((d) => !Number.isInteger(d) || d < 0 || d > MAX_DELAY_SECONDS)) {
      throw new ConfigError(`RETRY_DELAYS_SECONDS must be comma-separated whole seconds from 0 to ${MAX_DELAY_SECONDS}, not "${delays}".`);
    }
    retryDelaysSeconds = parsed;
  }
  const maxHandlerAttempts = integer(env, 'MAX_HANDLER_ATTEMPTS', DEFAULT_SETTINGS.maxHandlerAttempts, 1, 100);
  const maxReceiveCount = integer(env, 'MAX_RECEIVE_COUNT', queues.events.maxReceiveCount, 1, 1000);
  if (maxReceiveCount < 10 * maxHandlerAttempts) {
    throw new ConfigError(`MAX_HANDLER_ATTEMPTS ${maxHandlerAttempts} needs the queue's maxReceiveCount to be at least ${10 * maxHandlerAttempts} (it is ${maxReceiveCount}): raise events.maxReceiveCount in lib/queues.json, or lower the attempts.`);
  }
  return {
    maxHandlerAttempts,
    retryDelaysSeconds,
    deferSeconds: integer(env, 'DEFER_SECONDS', DEFAULT_SETTINGS.deferSeconds, 0, MAX_DELAY_SECONDS),
    handlerTimeoutMs: integer(env, 'HANDLER_TIMEOUT_SECONDS', DEFAULT_SETTINGS.handlerTimeoutMs / 1000, 1, 900) * 1000,
    groupConcurrency: integer(env, 'GROUP_CONCURRENCY', DEFAULT_SETTINGS.groupConcurrency, 1, 10),
    deadlineMarginMs: DEFAULT_SETTINGS.deadlineMarginMs,
  };
}

/** The wait before the next attempt after `attempts` failures. */
export function retryDelay(settings: ProcessSettings, attempts: number): number {
  const delays = settings.retryDelaysSeconds;
  if (delays.length === 0) return 0;
  return delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 0;
}

/** The longest a deferred record waits (and SQS's visibility timeout allows up to 12 hours). */
const MAX_DEFER_SECONDS = 900;

/**
 * The wait before a record that could not be tried (state table, DLQ or Front unreachable) comes back: it doubles
 * with each delivery of the message, up to 15 minutes, so an outage of hours uses few of SQS's receives (its
 * receive limit still dead-letters such a record in the end: it stays there, to redrive once things are back).
 */
export function deferDelay(settings: ProcessSettings, receiveCount: number): number {
  if (settings.deferSeconds === 0) return 0;
  return Math.min(settings.deferSeconds * 2 ** Math.max(0, Math.min(receiveCount - 1, 20)), MAX_DEFER_SECONDS);
}
