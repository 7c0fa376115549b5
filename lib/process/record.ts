import type { SQSRecord } from 'aws-lambda';
import { normalizeEvent, type FrontEvent } from '../front/event.ts';
import { validateBody } from '../front/validate.ts';
import { ATTR } from '../queue.ts';
import type { Scheme } from '../signature.ts';

/** Why a queue message can never be processed, whatever the handler: it goes straight to the DLQ. */
export type PermanentReason = 'binary_body' | 'invalid_json' | 'invalid_shape' | 'not_an_event';

export type DecodedRecord =
  | { ok: true; event: FrontEvent; receivedAt?: string; receiveCount: number }
  | { ok: false; reason: PermanentReason; detail: string; receiveCount: number };

function attribute(record: SQSRecord, name: string): string | undefined {
  return record.messageAttributes?.[name]?.stringValue;
}

export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

/**
 * A queue message as the handlers see it: the raw Front body parsed, validated against the scheme's
 * schema (the front-scheme attribute, or inferred for a message queued by hand), and normalized.
 * Nothing here throws: every message either decodes or is a permanent failure with a reason.
 */
export function decodeRecord(record: SQSRecord): DecodedRecord {
  const receiveCount = receiveCountOf(record);
  const fail = (reason: PermanentReason, detail: string): DecodedRecord => ({ ok: false, reason, detail, receiveCount });

  // Ingest base64-encodes only bodies that are not valid UTF-8 text, which no Front event is.
  if (attribute(record, ATTR.bodyEncoding) === 'base64') return fail('binary_body', 'the body is binary (body-encoding base64), not a Front event');
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch (error) {
    return fail('invalid_json', `the body is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }

  const declared = attribute(record, ATTR.scheme);
  const candidates: Scheme[] = declared === 'rule' || declared === 'app' ? [declared] : ['rule', 'app'];
  let firstError = '';
  for (const scheme of candidates) {
    const validated = validateBody(scheme, parsed);
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
    const receivedAt = attribute(record, ATTR.receivedAt);
    return { ok: true, event, ...(receivedAt && { receivedAt }), receiveCount };
  }
  return fail('invalid_shape', `the body is ${firstError}`);
}

/** Milliseconds from Front's `emitted_at` (Unix seconds) to `nowMs`; undefined without `emitted_at`. */
export function lagMs(event: FrontEvent, nowMs: number): number | undefined {
  return event.emittedAt === undefined ? undefined : Math.max(0, Math.round(nowMs - event.emittedAt * 1000));
}
