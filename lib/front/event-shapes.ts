import type { KnownFrontEventType } from './event-types.ts';

/**
 * What each event type's `source` and `target` are, by `_meta.type`: the project's reading of Front's events
 * reference (../shared/front/webhooks.md §4.1). Front's OpenAPI spec lists the possible `_meta.type` values
 * but not which event type carries which. scripts/generate-front-types.ts reads this table to type every
 * event (lib/generated/front-types.ts); lib/front/samples.ts reads it to build realistic events.
 */
export interface EventShape {
  /** The `source._meta.type`s Front documents for the type; `unspecified` where its docs say nothing. */
  readonly source: readonly string[] | 'unspecified';
  /** The `target._meta.type` Front documents; `none` where its docs list no target; `unspecified` where they say nothing. */
  readonly target: string | 'none' | 'unspecified';
}

const BY_TEAMMATE_OR_RULE = ['teammate', 'rule'] as const;

export const EVENT_SHAPES = {
  assign: { source: BY_TEAMMATE_OR_RULE, target: 'teammate' },
  unassign: { source: BY_TEAMMATE_OR_RULE, target: 'none' },
  // The newer events reference adds reminders as a source of archive.
  archive: { source: ['teammate', 'rule', 'reminder'], target: 'none' },
  reopen: { source: BY_TEAMMATE_OR_RULE, target: 'none' },
  trash: { source: BY_TEAMMATE_OR_RULE, target: 'none' },
  restore: { source: BY_TEAMMATE_OR_RULE, target: 'none' },
  reminder: { source: ['reminder'], target: 'none' },
  comment: { source: ['teammate'], target: 'comment' },
  mention: { source: ['teammate'], target: 'comment' },
  inbound: { source: ['inboxes'], target: 'message' },
  outbound: { source: ['inboxes'], target: 'message' },
  out_reply: { source: ['inboxes'], target: 'message' },
  move: { source: BY_TEAMMATE_OR_RULE, target: 'inboxes' },
  forward: { source: BY_TEAMMATE_OR_RULE, target: 'message' },
  tag: { source: BY_TEAMMATE_OR_RULE, target: 'tag' },
  untag: { source: BY_TEAMMATE_OR_RULE, target: 'tag' },
  sending_error: { source: ['recipient'], target: 'message' },
  message_bounce_error: { source: ['recipient'], target: 'message' },
  conversations_merged: { source: ['teammate'], target: 'deleted_conversation_ids' },
  link_added: { source: BY_TEAMMATE_OR_RULE, target: 'link' },
  link_removed: { source: BY_TEAMMATE_OR_RULE, target: 'link' },
  custom_field_updated: { source: 'unspecified', target: 'custom_field' },
  macro_triggered: { source: 'unspecified', target: 'unspecified' },
  topic_identified: { source: 'unspecified', target: 'unspecified' },
  ticket_status_update: { source: 'unspecified', target: 'unspecified' },
  call_started: { source: 'unspecified', target: 'unspecified' },
  call_abandoned: { source: 'unspecified', target: 'unspecified' },
  call_queued: { source: 'unspecified', target: 'unspecified' },
  call_on_hold: { source: 'unspecified', target: 'unspecified' },
  call_parked: { source: 'unspecified', target: 'unspecified' },
  call_resumed: { source: 'unspecified', target: 'unspecified' },
  call_connected: { source: 'unspecified', target: 'unspecified' },
  call_missed: { source: 'unspecified', target: 'unspecified' },
  call_hangup: { source: 'unspecified', target: 'unspecified' },
  call_transferred: { source: 'unspecified', target: 'unspecified' },
  call_transcript_added: { source: 'unspecified', target: 'unspecified' },
  call_voicemail_transcript_added: { source: 'unspecified', target: 'unspecified' },
} as const satisfies Record<KnownFrontEventType, EventShape>;

/**
 * What a full event's `data` holds for each `_meta.type`: a schema of lib/front/resources.schema.json, or
 * null where Front's spec gives none (its `data` is typed `unknown`).
 */
export const RESOURCE_DATA: Readonly<Record<string, { schema: string; array?: true } | null>> = {
  teammate: { schema: 'TeammateResponse' },
  rule: { schema: 'RuleResponse' },
  // Front's spec makes an inboxes source an array; an inboxes target (move) is a single inbox in the spec,
  // but read as an array like the source (webhooks.md §4.2: an inference, not a Front statement).
  inboxes: { schema: 'InboxResponse', array: true },
  message: { schema: 'MessageResponse' },
  comment: { schema: 'CommentResponse' },
  tag: { schema: 'TagResponse' },
  link: { schema: 'LinkResponse' },
  api: null,
  oauth_client: null,
  imap: null,
  gmail: null,
  reminder: null,
  recipient: null,
  deleted_conversation_ids: null,
  custom_field: null,
};
