/**
 * What a Front event's body holds, per event type: the names handlers use. The types themselves are
 * generated from Front's schemas into lib/generated/front-types.ts (by `npm install` and `npm run build`;
 * see scripts/generate-front-types.ts) and erased at build: only isKind exists at run time.
 *
 * They describe what Front documents. The pipeline validates only what it depends on (id, type, conversation
 * id), so a field Front documents but leaves out of a real event is still undefined at run time.
 */
import type { FrontEventBodies } from '../generated/front-types.ts';
import type { FrontEvent } from './event.ts';
import type { KnownFrontEventType } from './event-types.ts';

export type {
  Attachment, Comment, Conversation, ConversationPreview, CustomFieldParameter, FrontEventBodies, Inbox, Link,
  Message, Recipient, Reminder, Rule, Signature, Tag, Teammate, UnspecifiedRef,
} from '../generated/front-types.ts';

/** The body of a `T` event: the full event, its preview, or (by default) either. */
export type FrontEventBodyOf<T extends KnownFrontEventType, Preview extends boolean = boolean> =
  | (false extends Preview ? FrontEventBodies[T]['full'] : never)
  | (true extends Preview ? FrontEventBodies[T]['preview'] : never);

/** What normalization puts around the body (id, scheme, emittedAt, summaries, …), as FrontEvent declares it. */
type FrontEventEnvelope = Omit<FrontEvent, 'type' | 'preview' | 'body'>;

/**
 * A normalized FrontEvent of a known type with its body typed. `preview` tells which body it carries:
 * `if (!event.preview) event.body.target.data` is the full resource; a preview holds only ids and links.
 * Distributes over a union of types.
 */
export type TypedFrontEvent<T extends KnownFrontEventType> = T extends KnownFrontEventType
  ?
      | (FrontEventEnvelope & { type: T; preview: false; body: FrontEventBodies[T]['full'] })
      | (FrontEventEnvelope & { type: T; preview: true; body: FrontEventBodies[T]['preview'] })
  : never;

/**
 * Narrows a source or target to one `_meta.type`: `if (isKind(event.body.source, 'rule')) …source.data.actions`.
 * TypeScript narrows a union only on a property of its own, not on the nested `_meta.type`.
 */
export function isKind<R extends { _meta: { type: string } }, K extends R['_meta']['type']>(resource: R, kind: K): resource is Extract<R, { _meta: { type: K } }> {
  return resource._meta.type === kind;
}
