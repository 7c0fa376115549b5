import { randomBytes } from 'node:crypto';
import { signApp, signRule, type Scheme } from '../signature.ts';
import type { AppEnvelopeBody, FrontEventBody } from './event.ts';
import { EVENT_SHAPES } from './event-shapes.ts';
import type { KnownFrontEventType } from './event-types.ts';
import type { Comment, Conversation, ConversationPreview, FrontEventBodyOf, Inbox, Link, Message, Rule, Tag, Teammate } from './payloads.ts';

/**
 * Realistic Front events, written for this project from the shapes in Front's OpenAPI spec:
 * used by the tests, the benchmark, `npm run send` and lib/testing.ts. Not captured from a live tenant.
 * Each resource below is typed with the generated Front types, and tests/front-types.test.ts validates every
 * event type's sample, full and preview, against the schema those types come from.
 */

const API = 'https://acme.api.frontapp.com';

/** Where Front documents teammate or rule, most samples come from a teammate; these show a rule instead. */
const RULE_SOURCED: ReadonlySet<string> = new Set(['archive', 'tag']);

const PREFIX: Record<string, string> = {
  teammate: 'tea', rule: 'rul', inboxes: 'inb', message: 'msg', comment: 'com', tag: 'tag', link: 'top',
  recipient: 'crd', reminder: 'rem', api: 'api', custom_field: 'fld', deleted_conversation_ids: 'cnv',
};

export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

function link(kind: string, id: string): { self: string } {
  return { self: `${API}/${kind === 'inboxes' ? 'inboxes' : `${kind}s`}/${id}` };
}

function teammate(id: string): Teammate {
  return { _links: link('teammate', id), id, email: 'leela@acme.example', username: 'leela', first_name: 'Turanga', last_name: 'Leela', is_admin: false, is_available: true, is_blocked: false, type: 'user', custom_fields: {} };
}

function inbox(id: string): Inbox {
  return { _links: link('inboxes', id), id, name: 'Support', is_private: false, is_public: true, custom_fields: {} };
}

function message(id: string, messageBytes: number): Message {
  const paragraph = '<p>Hello, my order #4521 arrived damaged — could you send a replacement? Thanks, Fry.</p>';
  const body = paragraph.repeat(Math.max(1, Math.ceil(messageBytes / paragraph.length)));
  return {
    _links: link('message', id), id, type: 'email', is_inbound: true, draft_mode: null,
    created_at: 1764160000.5, subject: 'Damaged order', blurb: 'Hello, my order #4521 arrived damaged',
    recipients: [{ _links: { related: { contact: `${API}/contacts/crd_1` } }, name: 'Philip J. Fry', handle: 'fry@example.com', role: 'from' }],
    body, text: body.replace(/<[^>]+>/g, ''), attachments: [], metadata: { headers: {} },
  };
}

function tag(id: string): Tag {
  return { _links: link('tag', id), id, name: 'urgent', description: null, highlight: 'red', is_private: false, is_visible_in_conversation_lists: true, created_at: 1764160000, updated_at: 1764160000 };
}

function comment(id: string): Comment {
  return { _links: link('comment', id), id, author: teammate('tea_author'), body: '@leela can you take this one?', posted_at: 1764160000.25, attachments: [], is_pinned: false };
}

function topicLink(id: string): Link {
  return { _links: link('link', id), id, name: 'JIRA-42', type: 'web', external_url: 'https://jira.example/JIRA-42', custom_fields: {} };
}

function rule(id: string): Rule {
  return { _links: link('rule', id), id, name: 'Route urgent mail', actions: ['Assign to Leela'], is_private: false };
}

function fullResource(kind: string, id: string, messageBytes: number): unknown {
  switch (kind) {
    case 'teammate': return teammate(id);
    case 'inboxes': return [inbox(id)];
    case 'message': return message(id, messageBytes);
    case 'tag': return tag(id);
    case 'comment': return comment(id);
    case 'link': return topicLink(id);
    case 'rule': return rule(id);
    // Front's spec gives no schema for these kinds' data (reminder, recipient, custom_field, …).
    default: return { id };
  }
}

function conversation(id: string): Conversation {
  return {
    _links: { self: `${API}/conversations/${id}` },
    id, type: 'conversation', subject: 'Damaged order', status: 'assigned', ticket_ids: [],
    assignee: null, recipient: { _links: { related: { contact: `${API}/contacts/crd_1` } }, name: 'Philip J. Fry', handle: 'fry@example.com', role: 'from' },
    tags: [], links: [], custom_fields: {}, is_private: false, scheduled_reminders: [], metadata: {}, created_at: 1764150000.75,
  };
}

function conversationPreview(id: string): ConversationPreview {
  return {
    _links: { self: `${API}/conversations/${id}`, related: { events: `${API}/conversations/${id}/events`, messages: `${API}/conversations/${id}/messages` } },
    id,
  };
}

export interface SampleOptions {
  type?: string;
  /** An event preview (ids and links only) instead of the full event. */
  preview?: boolean;
  id?: string;
  conversationId?: string | null;
  emittedAt?: number;
  /** Approximate size of the message body in a full message event, to make large events. */
  messageBytes?: number;
}

/** A Front event of any type, full or preview, shaped like the events Front sends. */
export function sampleEvent(options: SampleOptions = {}): FrontEventBody {
  const type = options.type ?? 'inbound';
  const id = options.id ?? randomId('evt');
  // Types Front does not document (and types it may add) get a teammate source and no target.
  const shape = EVENT_SHAPES[type as KnownFrontEventType] ?? { source: 'unspecified', target: 'unspecified' };
  const sourceKind = shape.source === 'unspecified' ? 'teammate' : RULE_SOURCED.has(type) ? 'rule' : shape.source[0] ?? 'teammate';
  const targetKind = shape.target === 'none' || shape.target === 'unspecified' ? undefined : shape.target;
  const conversationId = options.conversationId === undefined ? randomId('cnv') : options.conversationId;
  const resource = (kind: string) => {
    const resourceId = randomId(PREFIX[kind] ?? 'res');
    return options.preview
      ? { _meta: { type: kind }, _links: link(kind, resourceId), id: resourceId }
      : { _meta: { type: kind }, data: fullResource(kind, resourceId, options.messageBytes ?? 600) };
  };
  const conversationOfEvent = conversationId === null ? undefined : options.preview ? conversationPreview(conversationId) : conversation(conversationId);
  return {
    _links: { self: `${API}/events/${id}` },
    id,
    type,
    emitted_at: options.emittedAt ?? Date.now() / 1000,
    source: resource(sourceKind),
    ...(targetKind && { target: resource(targetKind) }),
    ...(conversationOfEvent && { conversation: conversationOfEvent }),
  };
}

/**
 * A `type` event's body, typed as the generated Front types say. The cast stands on a test: every known
 * type's sample, full and preview, validates against the schema the types are generated from.
 */
export function sampleEventBody<T extends KnownFrontEventType, Preview extends boolean = false>(
  type: T,
  options: Omit<SampleOptions, 'type' | 'preview' | 'conversationId'> & { preview?: Preview; conversationId?: string } = {},
): FrontEventBodyOf<T, Preview> {
  return sampleEvent({ ...options, type }) as unknown as FrontEventBodyOf<T, Preview>;
}

/** Front's application-webhook names for some event types (third-party lists; Front publishes none). */
const APP_EVENT_NAMES: Record<string, string> = {
  inbound: 'inbound_received', outbound: 'outbound_sent', out_reply: 'outbound_sent', move: 'conversation_moved',
  archive: 'conversation_archived', reopen: 'conversation_reopened', trash: 'conversation_deleted',
  restore: 'conversation_restored', comment: 'new_comment_added', assign: 'assignee_changed', unassign: 'assignee_changed',
  tag: 'tag_added', untag: 'tag_removed', link_added: 'link_added', link_removed: 'link_removed',
  sending_error: 'message_delivery_failed', message_bounce_error: 'message_delivery_failed',
};

export function appEnvelope(event: FrontEventBody, companyId = 'cmp_acme'): AppEnvelopeBody {
  return { type: APP_EVENT_NAMES[event.type] ?? event.type, authorization: { id: companyId }, payload: event };
}

export function syncEnvelope(companyId = 'cmp_acme'): AppEnvelopeBody {
  return { type: 'sync', authorization: { id: companyId } };
}

/** The headers Front would send with `body` under `scheme`. */
export function signedHeaders(scheme: Scheme, secret: string, body: string | Buffer, timestampMs: number = Date.now()): Record<string, string> {
  if (scheme === 'rule') return { 'content-type': 'application/json', 'x-front-signature': signRule(secret, body) };
  const timestamp = String(timestampMs);
  return {
    'content-type': 'application/json',
    'x-front-request-timestamp': timestamp,
    'x-front-signature': signApp(secret, timestamp, body),
  };
}
