/**
 * The project's JSON Schemas for what Front POSTs, written from Front's OpenAPI
 * (`EventResponse`, ../shared/front/event-schemas.json) and the documented app envelope.
 * They are compiled to standalone validators at build time (scripts/build.ts); nothing compiles at cold start.
 *
 * Strict only where the pipeline depends on a field (id for deduplication, type for routing,
 * conversation id for ordering); permissive elsewhere, because Front's spec marks no field
 * of an Event as required and adds event types and fields over time.
 */

/**
 * Ids are opaque to the pipeline: any text SQS and DynamoDB can carry (no control characters, no lone surrogates), up to 256
 * characters (Front's are like `evt_55c8c149`). An id SQS refuses as a FIFO group or deduplication id is mapped
 * to its hash (lib/queue.ts fifoId), so an unexpected id format never loses an event.
 */
const opaqueId = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff\\ufffe\\uffff]+$' } as const;

/** The latest instant a Date can hold is far beyond; 9999-12-31T23:59:59Z keeps `emitted_at` printable as ISO 8601. */
export const MAX_EMITTED_AT_SECONDS = 253_402_300_799;

const resourceRef = {
  type: 'object',
  required: ['_meta'],
  properties: {
    _meta: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', minLength: 1 } },
    },
    // Full events carry `data` (an object, or an array for inboxes); previews carry only `id` and `_links`.
    data: { type: ['object', 'array', 'null'] },
    id: { type: 'string' },
    _links: { type: 'object' },
  },
} as const;

export const frontEventSchema = {
  $id: 'https://front-webhooks-aws/schemas/front-event.json',
  title: 'Front event (full event or event preview)',
  type: 'object',
  required: ['id', 'type'],
  properties: {
    id: opaqueId,
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,79}$' },
    // Unix seconds; bounded so every value the schema accepts is a valid date (lag and log lines depend on it).
    emitted_at: { type: 'number', minimum: 0, maximum: MAX_EMITTED_AT_SECONDS },
    _links: { type: 'object' },
    source: resourceRef,
    target: resourceRef,
    conversation: {
      type: 'object',
      required: ['id'],
      properties: {
        id: opaqueId,
        _links: { type: 'object' },
      },
    },
  },
} as const;

export const appEnvelopeSchema = {
  $id: 'https://front-webhooks-aws/schemas/app-envelope.json',
  title: 'Front application webhook envelope (sync or event)',
  type: 'object',
  required: ['type', 'authorization'],
  properties: {
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,79}$' },
    authorization: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1 } },
    },
  },
  // A sync is Front saving the webhook settings: whatever else it carries is ignored, never queued.
  if: { properties: { type: { const: 'sync' } } },
  then: {},
  else: {
    required: ['payload'],
    properties: { payload: { $ref: 'https://front-webhooks-aws/schemas/front-event.json' } },
  },
} as const;
