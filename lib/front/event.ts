import type { Scheme } from '../signature.ts';

/** `source` / `target` of an event: `{_meta, data}` in a full event, `{_meta, _links, id}` in a preview. */
export interface FrontResourceRef {
  _meta: { type: string };
  data?: unknown;
  id?: string;
  _links?: { self?: string };
}

/** A Front Event as sent by a rule webhook (full or preview) or inside an app envelope's `payload`. */
export interface FrontEventBody {
  id: string;
  type: string;
  emitted_at?: number;
  _links?: { self?: string };
  source?: FrontResourceRef;
  target?: FrontResourceRef;
  conversation?: { id: string; status?: string; subject?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface AppEnvelopeBody {
  type: string;
  authorization: { id: string };
  payload?: FrontEventBody;
}

export interface ResourceSummary {
  /** `_meta.type`: teammate, inboxes, message, tag, … */
  kind: string;
  /** Resource ids (`inboxes` carry several). */
  ids: string[];
}

/** What every handler sees, whichever scheme delivered the event and whether it is a preview. */
export interface FrontEvent {
  id: string;
  type: string;
  scheme: Scheme;
  /** App webhooks only: the envelope's own name for the event (`inbound_received`, …). */
  appEventType?: string;
  /** App webhooks only: the Front company (`cmp_…`) that authorized the app. */
  companyId?: string;
  /** Unix seconds (float), as Front sends it. */
  emittedAt?: number;
  conversationId?: string;
  /** A preview carries ids and links only; fetch `_links.self` for the full event. */
  preview: boolean;
  source?: ResourceSummary;
  target?: ResourceSummary;
  /** The event exactly as Front sent it. */
  body: FrontEventBody;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'id' in value) {
    const id = (value as { id: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  }
  return undefined;
}

export function summarizeResource(ref: FrontResourceRef | undefined): ResourceSummary | undefined {
  if (!ref) return undefined;
  const fromData = Array.isArray(ref.data) ? ref.data.map(idOf) : [idOf(ref.data)];
  const ids = fromData.filter((id): id is string => id !== undefined);
  if (ids.length === 0 && ref.id) ids.push(ref.id);
  return { kind: ref._meta.type, ids };
}

/**
 * A full event embeds the whole conversation (ConversationResponse requires `status`);
 * a preview's conversation is only `{id, _links}`.
 */
export function isPreview(event: FrontEventBody): boolean {
  const conversation = event.conversation;
  if (conversation) return conversation.status === undefined;
  return event.source?.data === undefined && event.target?.data === undefined;
}

/** The app envelope `type` of Front saving the webhook settings: a handshake, never an event, whatever it carries. */
export const SYNC = 'sync';

/** The Front event carried by a validated body: the body itself (rule) or the envelope's payload (app, except a sync). */
export function eventOf(scheme: Scheme, body: FrontEventBody | AppEnvelopeBody): FrontEventBody | undefined {
  if (scheme === 'rule') return body as FrontEventBody;
  const envelope = body as AppEnvelopeBody;
  return envelope.type === SYNC ? undefined : envelope.payload;
}

export function normalizeEvent(scheme: Scheme, body: FrontEventBody | AppEnvelopeBody): FrontEvent {
  const event = eventOf(scheme, body);
  if (!event) throw new Error('the app envelope carries no payload (a sync request is not an event)');
  const envelope = scheme === 'app' ? (body as AppEnvelopeBody) : undefined;
  return {
    id: event.id,
    type: event.type,
    scheme,
    ...(envelope && { appEventType: envelope.type, companyId: envelope.authorization.id }),
    ...(event.emitted_at !== undefined && { emittedAt: event.emitted_at }),
    ...(event.conversation?.id !== undefined && { conversationId: event.conversation.id }),
    preview: isPreview(event),
    ...(event.source && { source: summarizeResource(event.source) }),
    ...(event.target && { target: summarizeResource(event.target) }),
    body: event,
  };
}
