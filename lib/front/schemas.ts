/**
 * The project's JSON Schemas for what Front POSTs, written from Front's OpenAPI
 * (`EventResponse`, ../shared/front/event-schemas.json) and the documented app envelope.
 * They are compiled to standalone validators at build time (scripts/build.ts); nothing compiles at cold start.
 *
 * Strict only where the pipeline depends on a field (id for deduplication, type for routing,
 * conversation id for ordering); permissive elsewhere, because Front's spec marks no field
 * of an Event as required and adds event types and fields over time.
 */

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
    id: { type: 'string', pattern: '^evt_[A-Za-z0-9_-]{1,120}$' },
    type: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,79}$' },
    emitted_at: { type: 'number', minimum: 0 },
    _links: { type: 'object' },
    source: resourceRef,
    target: resourceRef,
    conversation: {
      type: 'object',
      required: ['id'],
      properties: {
        id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
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
  if: { properties: { type: { const: 'sync' } } },
  then: {},
  else: {
    required: ['payload'],
    properties: { payload: { $ref: 'https://front-webhooks-aws/schemas/front-event.json' } },
  },
} as const;
