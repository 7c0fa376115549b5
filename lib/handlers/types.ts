import type { FrontEvent } from '../front/event.ts';
import type { KnownFrontEventType } from '../front/event-types.ts';
import type { TypedFrontEvent } from '../front/payloads.ts';
import type { Arrival } from '../queue.ts';

/** A structured logger as handlers use it (Powertools Logger satisfies it). */
export interface EventLogger {
  debug(message: string, ...fields: Array<Record<string, unknown>>): void;
  info(message: string, ...fields: Array<Record<string, unknown>>): void;
  warn(message: string, ...fields: Array<Record<string, unknown>>): void;
  error(message: string, ...fields: Array<Record<string, unknown>>): void;
}

/** What a handler gets beside the event. */
export interface HandlerContext {
  /** Logs with the event id, type and conversation already attached. */
  logger: EventLogger;
  /** The SQS message id (changes when a message is redriven; the event id does not). */
  messageId: string;
  /** How many times SQS has delivered this message, this delivery included (held-back deliveries count too). */
  receiveCount: number;
  /** This run of the handler for this event: 1, then 2 after one failure, … up to the configured maximum. */
  attempt: number;
  /** How the event reached the queue: `webhook`, `recovered` (from Front's Events API) or `redriven` (from the DLQ). */
  arrival: Arrival;
  /** Aborted when the handler's time is up (its attempt has then failed): pass it to fetch and SDK calls. */
  signal: AbortSignal;
}

/**
 * What a handler registered for `T` receives. For a known type the body is typed from Front's schemas and
 * `preview` tells full from preview (lib/front/payloads.ts); for `string` (the default handler, any type)
 * it is the FrontEvent as normalized, its body as Front sent it.
 */
export type FrontEventOf<T extends string> = T extends KnownFrontEventType ? TypedFrontEvent<T> : FrontEvent & { type: T };

/**
 * Handles one event. Resolve to acknowledge it; throw to have it retried (the events behind it in the same
 * conversation wait), and after the configured number of failed attempts dead-lettered. Once it has resolved for
 * an event, it never runs for that event again (the state table records it); what it did before throwing is the
 * handler's to make safe to repeat.
 */
export type FrontEventHandler<T extends string = string> = (event: FrontEventOf<T>, context: HandlerContext) => Promise<void> | void;

/**
 * The registry: at most one handler per known event type, plus `default` for every other type
 * (types Front adds later included).
 */
export type HandlerRegistry = { readonly [T in KnownFrontEventType]?: FrontEventHandler<T> } & {
  readonly default: FrontEventHandler;
};

/** Identity, for type checking: `defineHandlers({ inbound, default: recordEvent })`. */
export function defineHandlers(registry: HandlerRegistry): HandlerRegistry {
  return registry;
}

/** The handler for a type and its name as the "front event processed" line reports it. */
export function resolveHandler(registry: HandlerRegistry, type: string): { name: string; handle: FrontEventHandler } {
  // A handler typed for `type` receives the event of that type: routing by type is what makes the cast true.
  const specific = Object.hasOwn(registry, type) && type !== 'default'
    ? (registry as Record<string, FrontEventHandler | undefined>)[type]
    : undefined;
  return specific ? { name: type, handle: specific } : { name: 'default', handle: registry.default };
}
