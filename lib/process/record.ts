import type { SQSRecord } from 'aws-lambda';
import { normalizeEvent, type FrontEvent } from '../front/event.ts';
import { validateBody } from '../front/validate.ts';
import { parseJson } from '../json.ts';
import { ARRIVALS, ATTR, bodyText, type Arrival, type EventReference } from '../queue.ts';
import type { Scheme } from '../signature.ts';

/** Why a queue message can never be processed, whatever the handler: it goes straight to the DLQ. */
export type PermanentReason = 'invalid_json' | 'invalid_shape' | 'not_an_event';

interface Delivery { receivedAt?: string; receiveCount: number; arrival: Arrival; scheme: Scheme }

export type DecodedRecord =
  | ({ ok: true; kind: 'event'; event: FrontEvent } & Delivery)
  /** An event too large for SQS: the message says where to fetch it from Front's API. */
  | ({ ok: true; kind: 'reference'; reference: EventReference } & Delivery)
  | { ok: false; reason: PermanentReason; detail: string; receiveCount: number };

function isReference(value: unknown): value is EventReference {
  const r = value as Partial<EventReference> | null;
  return typeof r === 'object' && r !== null && typeof r.eventId === 'string' && r.eventId.length > 0 && typeof r.eventType === 'string'
    && (r.conversationId === undefined || typeof r.conversationId === 'string');
}

export function attributeOf(record: SQSRecord, name: string): string | undefined {
  return record.messageAttributes?.[name]?.stringValue;
}

export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/** How the message reached the queue: a webhook unless the reconciliation or a redrive says otherwise. */
export function arrivalOf(record: SQSRecord): Arrival {
  const declared = attributeOf(record, ATTR.arrival);
  return ARRIVALS.find((a) => a === declared) ?? 'webhook';
}

/**
 * A queue message as the handlers see it: the body decoded exactly as ingest encoded it (body-encoding), parsed,
 * validated against the scheme's schema (the front-scheme attribute, or inferred for a message queued by hand),
 * and normalized. Nothing here throws, and no detail quotes the body: every message either decodes or is a
 * permanent failure with a reason.
 */
export function decodeRecord(record: SQSRecord): DecodedRecord {
  const receiveCount = receiveCountOf(record);
  const fail = (reason: PermanentReason, detail: string): DecodedRecord => ({ ok: false, reason, detail, receiveCount });

  const parsed = parseJson(bodyText(record.body, attributeOf(record, ATTR.bodyEncoding)));
  if (!parsed.ok) return fail('invalid_json', parsed.detail);
  const declared = attributeOf(record, ATTR.scheme);
  const receivedAt = attributeOf(record, ATTR.receivedAt);
  const delivery = { ...(receivedAt && { receivedAt }), receiveCount, arrival: arrivalOf(record) };

  if (attributeOf(record, ATTR.bodyKind) === 'reference') {
    if (!isReference(parsed.value)) return fail('invalid_shape', 'the body is not an event reference (eventId, eventType)');
    return { ok: true, kind: 'reference', reference: parsed.value, scheme: declared === 'app' ? 'app' : 'rule', ...delivery };
  }

  const candidates: Scheme[] = declared === 'rule' || declared === 'app' ? [declared] : ['rule', 'app'];
  let firstError = '';
  for (const scheme of candidates) {
    const validated = validateBody(scheme, parsed.value);
    if (!validated.ok) {
      firstError ||= validated.error;
      continue;
    }
    let event: FrontEvent;
    try {
      event = normalizeEvent(scheme, validated.body);
    } catch (error) {
      return fail('not_an_event', error instanceof Error ? error.message : String(error));
    }
    return { ok: true, kind: 'event', event, scheme, ...delivery };
  }
  return fail('invalid_shape', `the body is ${firstError}`);
}

/** Milliseconds from Front's `emitted_at` (Unix seconds) to `nowMs`; undefined without a usable `emitted_at`. */
export function lagMs(event: FrontEvent, nowMs: number): number | undefined {
  if (event.emittedAt === undefined || !Number.isFinite(event.emittedAt)) return undefined;
  return Math.max(0, Math.round(nowMs - event.emittedAt * 1000));
}
