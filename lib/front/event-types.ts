/**
 * Front's Event `type` values as of front-api-specs core-api.json @ f8f5386 (2026-08-11).
 * Front adds types every year: ingest accepts any well-formed type, this list only names the known ones.
 */
export const FRONT_EVENT_TYPES = [
  'assign', 'unassign', 'archive', 'reopen', 'trash', 'restore', 'reminder',
  'comment', 'mention', 'inbound', 'outbound', 'out_reply', 'move', 'forward',
  'tag', 'untag', 'sending_error', 'message_bounce_error', 'conversations_merged',
  'link_added', 'link_removed', 'custom_field_updated', 'macro_triggered',
  'topic_identified', 'ticket_status_update',
  'call_started', 'call_abandoned', 'call_queued', 'call_on_hold', 'call_parked',
  'call_resumed', 'call_connected', 'call_missed', 'call_hangup', 'call_transferred',
  'call_transcript_added', 'call_voicemail_transcript_added',
] as const;

export type KnownFrontEventType = (typeof FRONT_EVENT_TYPES)[number];

