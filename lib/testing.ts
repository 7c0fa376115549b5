/**
 * Test your own handler without a queue or AWS: sampleFrontEvent builds the event of a type that Front would
 * send, parsed, validated and normalized the way the process function does it; runHandler runs a handler on
 * one with a HandlerContext whose logger records every line, and tells what happened.
 *
 *   const { event, logs, error } = await runHandler(tag, { type: 'tag', overrides: { target: { data: { name: 'vip' } } } });
 */
import { normalizeEvent } from './front/event.ts';
import type { KnownFrontEventType } from './front/event-types.ts';
import type { FrontEventBodyOf, TypedFrontEvent } from './front/payloads.ts';
import { appEnvelope, sampleEventBody } from './front/samples.ts';
import { validateBody } from './front/validate.ts';
import type { EventLogger, FrontEventHandler, HandlerContext } from './handlers/types.ts';
import type { Scheme } from './signature.ts';

/** One line a handler logged: level, message and fields, the event's keys included. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  [field: string]: unknown;
}

/** A logger that keeps every line, in order, in `records`. */
export function recordingLogger(records: LogRecord[]): EventLogger {
  const at = (level: LogRecord['level']) => (message: string, ...fields: Array<Record<string, unknown>>) => {
    records.push({ ...Object.assign({}, ...fields), level, message });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Every field optional, at every depth; arrays are replaced whole. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface SampleFrontEventOptions<T extends KnownFrontEventType, Preview extends boolean> {
  /** An event preview (ids and links only) instead of the full event. */
  preview?: Preview;
  /** How Front delivered it: a rule webhook (the body is the event) or an application webhook (an envelope). */
  scheme?: Scheme;
  /** Fields to set in the body Front sends, merged into the sample at any depth; arrays replace. */
  overrides?: DeepPartial<FrontEventBodyOf<T, Preview>>;
}

/** The normalized event of type `T`, full or preview as asked. */
export type SampleFrontEvent<T extends KnownFrontEventType, Preview extends boolean> = Extract<TypedFrontEvent<T>, { preview: Preview }>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: unknown, overrides: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overrides)) return overrides === undefined ? base : overrides;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) merged[key] = merge(base[key], value);
  return merged;
}

/**
 * A realistic `type` event (lib/front/samples.ts) as a handler receives it: sent as JSON, parsed, validated
 * against the process function's schema and normalized by normalizeEvent. Throws if the overrides made it
 * something the process function would dead-letter, or turned a full event into a preview or back.
 */
export function sampleFrontEvent<T extends KnownFrontEventType, Preview extends boolean = false>(
  type: T,
  options: SampleFrontEventOptions<T, Preview> = {},
): SampleFrontEvent<T, Preview> {
  const scheme = options.scheme ?? 'rule';
  const preview = options.preview ?? false;
  const body = merge(sampleEventBody(type, { preview }), options.overrides) as FrontEventBodyOf<T, Preview>;
  const delivered: unknown = JSON.parse(JSON.stringify(scheme === 'app' ? appEnvelope(body) : body));
  const validated = validateBody(scheme, delivered);
  if (!validated.ok) throw new Error(`the sample ${type} event is not one the process function accepts (it would be dead-lettered): ${validated.error}`);
  const event = normalizeEvent(scheme, validated.body);
  if (event.preview !== preview) {
    throw new Error(`the overrides made the sample ${type} event ${event.preview ? 'a preview (its conversation has no status)' : 'a full event (its conversation has a status)'}`);
  }
  // Normalization keeps the body as sent; the sample body is the generated type's (tests/front-types.test.ts).
  return event as SampleFrontEvent<T, Preview>;
}

/** What running a handler did. `error` is what it threw; undefined means the event would be acknowledged. */
export interface HandlerRun<E> {
  event: E;
  logs: LogRecord[];
  error: unknown;
}

export interface RunHandlerOptions<T extends KnownFrontEventType, Preview extends boolean> extends SampleFrontEventOptions<T, Preview> {
  type: T;
  /** HandlerContext fields to set instead of a first delivery's (receiveCount: 5 for the last try, …). */
  context?: Partial<Omit<HandlerContext, 'logger'>>;
}

/**
 * The HandlerContext of a first delivery: every field of HandlerContext has its value here, in one place,
 * so a field added to HandlerContext is added here once and every test gets it.
 */
function handlerContext(event: { id: string; type: string; conversationId?: string }, logs: LogRecord[], overrides: RunHandlerOptions<KnownFrontEventType, boolean>['context']): HandlerContext {
  const recorder = recordingLogger(logs);
  // The process function attaches these keys to every line a handler logs.
  const keys = { eventId: event.id, eventType: event.type, conversationId: event.conversationId };
  const withKeys = (log: EventLogger['info']): EventLogger['info'] => (message, ...fields) => log(message, keys, ...fields);
  return {
    logger: { debug: withKeys(recorder.debug), info: withKeys(recorder.info), warn: withKeys(recorder.warn), error: withKeys(recorder.error) },
    messageId: `test-message-${event.id}`,
    receiveCount: 1,
    attempt: 1,
    arrival: 'webhook',
    // A test's handler has all the time it needs: this signal never aborts unless the test passes its own.
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Runs `handler` on a sample event of `options.type` (see sampleFrontEvent) and returns the event, its log lines and what it threw. */
export async function runHandler<T extends KnownFrontEventType, Preview extends boolean = false>(
  handler: FrontEventHandler<NoInfer<T>>,
  options: RunHandlerOptions<T, Preview>,
): Promise<HandlerRun<SampleFrontEvent<T, Preview>>> {
  const event = sampleFrontEvent(options.type, options);
  const logs: LogRecord[] = [];
  let error: unknown;
  try {
    // The sample is one member of FrontEventOf<T>; TypeScript cannot resolve that for a generic T.
    await handler(event as unknown as Parameters<FrontEventHandler<T>>[0], handlerContext(event, logs, options.context));
  } catch (thrown) {
    error = thrown;
  }
  return { event, logs, error };
}
