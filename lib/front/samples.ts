import { randomBytes } from 'node:crypto';
import { signApp, signRule, type Scheme } from '../signature.ts';
import type { AppEnvelopeBody, FrontEventBody } from './event.ts';

/**
 * Realistic Front events, written for this project from the shapes in Front's OpenAPI spec:
 * used by the tests, the benchmark and `npm run send`. Not captured from a live tenant.
 */

const API = 'https://acme.api.frontapp.com';

/** What `_meta.type` the source and target carry for each event type (Front's events reference). */
const SHAPES: Record<string, { source: string; target?: string }> = {
  assign: { source: 'teammate', target: 'teammate' },
  unassign: { source: 'teammate' },
  archive: { source: 'rule' },
  reopen: { source: 'teammate' },
  trash: { source: 'teammate' },
  restore: { source: 'teammate' },
  reminder: { source: 'reminder' },
  comment: { source: 'teammate', target: 'comment' },
  mention: { source: 'teammate', target: 'comment' },
  inbound: { source: 'inboxes', target: 'message' },
  outbound: { source: 'inboxes', target: 'message' },
  out_reply: { source: 'inboxes', target: 'message' },
  move: { source: 'teammate', target: 'inboxes' },
  forward: { source: 'teammate', target: 'message' },
  tag: { source: 'rule', target: 'tag' },
  untag: { source: 'teammate', target: 'tag' },
  sending_error: { source: 'recipient', target: 'message' },
  message_bounce_error: { source: 'recipient', target: 'message' },
  conversations_merged: { source: 'teammate', target: 'deleted_conversation_ids' },
  link_added: { source: 'teammate', target: 'link' },
  link_removed: { source: 'teammate', target: 'link' },
  custom_field_updated: { source: 'teammate', target: 'custom_field' },
};

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

function fullResource(kind: string, id: string, messageBytes: number): unknown {
  switch (kind) {
    case 'teammate':
      return { _links: link(kind, id), id, email: 'leela@acme.example', username: 'leela', first_name: 'Turanga', last_name: 'Leela', is_admin: false, is_available: true, is_blocked: false, type: 'user', custom_fields: {} };
    case 'inboxes':
      return [{ _links: link(kind, id), id, name: 'Support', is_private: false, is_public: true, custom_fields: {} }];
    case 'message': {
      const paragraph = '<p>Hello, my order #4521 arrived damaged — could you send a replacement? Thanks, Fry.</p>';
      const body = paragraph.repeat(Math.max(1, Math.ceil(messageBytes / paragraph.length)));
      return {
        _links: link(kind, id), id, type: 'email', is_inbound: true, draft_mode: null, error_type: null,
        created_at: 1764160000.5, subject: 'Damaged order', blurb: 'Hello, my order #4521 arrived damaged',
        author: null, recipients: [{ _links: { related: { contact: `${API}/contacts/crd_1` } }, name: 'Philip J. Fry', handle: 'fry@example.com', role: 'from' }],
        body, text: body.replace(/<[^>]+>/g, ''), attachments: [], metadata: { headers: {} },
      };
    }
    case 'tag':
      return { _links: link(kind, id), id, name: 'urgent', highlight: 'red', is_private: false, is_visible_in_conversation_lists: true, created_at: 1764160000, updated_at: 1764160000 };
    case 'comment':
      return { _links: link(kind, id), id, author: null, body: '@leela can you take this one?', posted_at: 1764160000.25, attachments: [], is_pinned: false };
    case 'link':
      return { _links: link(kind, id), id, name: 'JIRA-42', type: 'web', external_url: 'https://jira.example/JIRA-42', custom_fields: {} };
    case 'rule':
      return { _links: link(kind, id), id, name: 'Route urgent mail', actions: ['Assign to Leela'], is_private: false };
    default:
      return { id };
  }
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
  const shape = SHAPES[type] ?? { source: 'teammate' };
  const conversationId = options.conversationId === undefined ? randomId('cnv') : options.conversationId;
  const resource = (kind: string) => {
    const resourceId = randomId(PREFIX[kind] ?? 'res');
    return options.preview
      ? { _meta: { type: kind }, _links: link(kind, resourceId), id: resourceId }
      : { _meta: { type: kind }, data: fullResource(kind, resourceId, options.messageBytes ?? 600) };
  };
  const conversation = conversationId === null ? undefined : options.preview
    ? {
        _links: { self: `${API}/conversations/${conversationId}`, related: { events: `${API}/conversations/${conversationId}/events`, messages: `${API}/conversations/${conversationId}/messages` } },
        id: conversationId,
      }
    : {
        _links: { self: `${API}/conversations/${conversationId}` },
        id: conversationId, type: 'conversation', subject: 'Damaged order', status: 'assigned', ticket_ids: [],
        assignee: null, recipient: { _links: { related: { contact: `${API}/contacts/crd_1` } }, name: 'Philip J. Fry', handle: 'fry@example.com', role: 'from' },
        tags: [], links: [], custom_fields: {}, is_private: false, scheduled_reminders: [], metadata: {}, created_at: 1764150000.75,
      };
  return {
    _links: { self: `${API}/events/${id}` },
    id,
    type,
    emitted_at: options.emittedAt ?? Date.now() / 1000,
    source: resource(shape.source),
    ...(shape.target && { target: resource(shape.target) }),
    ...(conversation && { conversation }),
  };
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
