import type { FrontEventHandler } from './types.ts';

/**
 * An example of a handler for one event type: `inbound` (a message received in a shared inbox).
 * Replace the body with your own work (open a ticket, notify a channel, …); throw to have the event retried.
 * A preview carries ids and links only: fetch `event.body._links.self` from Front's API for the rest.
 */
export const inbound: FrontEventHandler<'inbound'> = (event, { logger }) => {
  const frontMessageId = event.target?.kind === 'message' ? event.target.ids[0] : undefined;
  logger.debug('inbound message', { frontMessageId, inboxIds: event.source?.ids ?? [], preview: event.preview });
};
