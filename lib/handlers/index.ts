/**
 * The handlers the process function routes events to, by event type (lib/front/event-types.ts).
 * To handle a type: add lib/handlers/<type>.ts exporting a `FrontEventHandler<'<type>'>`, and one line below.
 * Every other type goes to `default`, which records the event.
 */
import { recordEvent } from './default.ts';
import { inbound } from './inbound.ts';
import { defineHandlers } from './types.ts';

export const handlers = defineHandlers({
  inbound,
  default: recordEvent,
});

export type { EventLogger, FrontEventHandler, FrontEventOf, HandlerContext, HandlerRegistry } from './types.ts';
