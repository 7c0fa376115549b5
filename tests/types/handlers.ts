/**
 * Handlers that read typed payloads, compiled by tests/handler-types.test.ts (and by `npm run typecheck`).
 * Each `@ts-expect-error TS<code>` line must fail to compile with that code: the test removes the directives
 * and checks that exactly those lines fail. If the types degraded to `any`, the directives would be unused
 * (an error); if they degraded to `unknown`, the positive reads would fail.
 */
import { isKind } from '../../lib/front/payloads.ts';
import type { Conversation, Inbox, Message, Tag, Teammate } from '../../lib/front/payloads.ts';
import { defineHandlers, type FrontEventHandler } from '../../lib/handlers/types.ts';

/** True only when A and B are the same type (`any` equals nothing but `any`). */
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
function assertType<A, B>(_proof: Equals<A, B>): void {}

export const tag: FrontEventHandler<'tag'> = (event, { logger }) => {
  // @ts-expect-error TS2339 before narrowing the target may be a preview, which has no data
  logger.info('tag', { name: event.body.target.data.name });
  if (event.preview) return;
  const tagged = event.body.target.data;
  assertType<typeof tagged, Tag>(true);
  const name: string = tagged.name;
  assertType<typeof name, string>(true);
  // @ts-expect-error TS2339 a tag has no subject
  logger.info('tag', { subject: tagged.subject });
  assertType<typeof event.body.conversation, Conversation>(true);
  const status: 'archived' | 'unassigned' | 'deleted' | 'assigned' = event.body.conversation.status;
  logger.info('tag', { name, status });
};

export const inbound: FrontEventHandler<'inbound'> = (event, { logger }) => {
  if (!event.preview) {
    const message = event.body.target.data;
    assertType<typeof message, Message>(true);
    const subject: string | undefined = message.subject;
    const body: string | undefined = message.body;
    assertType<typeof subject, string | undefined>(true);
    // Inbox sources are arrays, as Front's spec says.
    const inboxes: Inbox[] = event.body.source.data;
    logger.info('inbound', { subject, length: body?.length, inboxIds: inboxes.map((inbox) => inbox.id) });
    // @ts-expect-error TS2339 a message has no `name`
    logger.info('inbound', { name: message.name });
  }
};

export const assign: FrontEventHandler<'assign'> = (event, { logger }) => {
  if (event.preview) return;
  const assignee = event.body.target.data;
  assertType<typeof assignee, Teammate>(true);
  const email: string = assignee.email;
  // The source is a teammate or a rule: isKind narrows on the nested `_meta.type`.
  const source = event.body.source;
  const by = isKind(source, 'rule') ? source.data.name : source.data.username;
  // @ts-expect-error TS2339 without narrowing, the source may be a rule, which has no email
  logger.info('assign', { by: source.data.email });
  // @ts-expect-error TS2345 Front documents no inboxes source for assign
  logger.info('assign', { inboxes: isKind(source, 'inboxes') });
  logger.info('assign', { email, by });
};

/** A preview carries ids and links only: this handler reads nothing else. */
export const tagPreview: FrontEventHandler<'tag'> = (event, { logger }) => {
  if (!event.preview) return;
  const id: string = event.body.target.id;
  const link: string = event.body.target._links.self;
  const conversationLink: string = event.body.conversation._links.self;
  // @ts-expect-error TS2339 a preview's target has no data
  logger.info('preview', { data: event.body.target.data });
  // @ts-expect-error TS2339 a preview's conversation is only its id and links
  logger.info('preview', { subject: event.body.conversation.subject });
  logger.info('preview', { id, link, conversationLink, event: event.body._links.self });
};

export const comment: FrontEventHandler<'comment' | 'mention'> = (event, { logger }) => {
  if (event.preview) return;
  const author: Teammate = event.body.target.data.author;
  logger.info('comment', { body: event.body.target.data.body, author: author.email, type: event.type });
};

export const move: FrontEventHandler<'move'> = (event, { logger }) => {
  if (event.preview) return;
  // Front's spec says one inbox; the project reads move targets as arrays like inbox sources (webhooks.md §4.2).
  const inboxes: Inbox[] = event.body.target.data;
  logger.info('move', { to: inboxes.map((inbox) => inbox.name) });
};

export const linkAdded: FrontEventHandler<'link_added'> = (event, { logger }) => {
  if (!event.preview) logger.info('link', { url: event.body.target.data.external_url });
};

export const sendingError: FrontEventHandler<'sending_error'> = (event, { logger }) => {
  if (event.preview) return;
  // Front's spec gives no schema for a recipient source: its data is unknown until checked.
  const recipient: unknown = event.body.source.data;
  // @ts-expect-error TS18046 unknown data must be checked before use
  logger.info('sending error', { handle: event.body.source.data.handle, recipient });
};

export const callStarted: FrontEventHandler<'call_started'> = (event, { logger }) => {
  // Front documents no source or target for calls: a generic reference, maybe absent.
  const kind: string | undefined = event.body.source?._meta.type;
  assertType<NonNullable<typeof event.body.target>['data'], unknown>(true);
  // @ts-expect-error TS18048 the target may be absent
  logger.info('call', { kind, target: event.body.target._meta.type });
};

export const registry = defineHandlers({
  tag,
  inbound,
  assign,
  comment,
  mention: comment,
  move,
  link_added: linkAdded,
  sending_error: sendingError,
  call_started: callStarted,
  // Any type without a handler; the body is as Front sent it.
  default: (event, { logger }) => logger.info('other', { type: event.type }),
});

// @ts-expect-error TS2322 a tag handler cannot handle inbound events
defineHandlers({ inbound: tag, default: () => {} });
