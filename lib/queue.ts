import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Scheme } from './signature.ts';

/**
 * SQS's hard limit for one message, body and attributes together (1 MiB since 2025).
 * A queue's MaximumMessageSize may be lower but never higher.
 */
export const MAX_MESSAGE_BYTES = 1_048_576;

/** Names of the message attributes every queued message carries; the process function and the DLQ tool read them. */
export const ATTR = {
  eventId: 'front-event-id',
  eventType: 'front-event-type',
  scheme: 'front-scheme',
  receivedAt: 'received-at',
  /** `utf8` when the body is the request body as received; `escaped` when some of its bytes had to be escaped (encodeBody). */
  bodyEncoding: 'body-encoding',
  /** How the message reached the queue (Arrival); absent means a webhook. */
  arrival: 'front-arrival',
  failureReason: 'failure-reason',
  failureDetail: 'failure-detail',
  /** Failed handler attempts, on a letter the process function dead-lettered. */
  attempts: 'handler-attempts',
  /** The SQS sequence number the event had in the main queue, so a redrive keeps a conversation's order. */
  sequence: 'queue-sequence',
  /** `reference` when the body is not the event but where to fetch it from Front (an event too large for SQS). */
  bodyKind: 'body-kind',
} as const;

/** How an event reached the queue: Front's webhook, the reconciliation with Front's Events API, or a DLQ redrive. */
export const ARRIVALS = ['webhook', 'recovered', 'redriven'] as const;
export type Arrival = (typeof ARRIVALS)[number];

export interface QueuedMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
  attributes: Record<string, string>;
}

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/**
 * What SQS refuses in a message body (it accepts #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), plus the
 * escape U+E000, in the text of well-formed UTF-8: such text holds no lone surrogate, so a plain character class
 * (no `u` flag, 4 to 8 times faster on a 50 KB body) finds every one.
 */
const REFUSED_IN_UTF8_TEXT = /[\x00-\x08\x0B\x0C\x0E-\x1F\uE000\uFFFE\uFFFF]/;

/**
 * The escape of the `escaped` body encoding: U+E000 (a private-use character, which Front's text never needs)
 * followed by two hex digits stands for one byte. Everything else in an escaped body is text as received.
 */
const ESCAPE = '\uE000';
const ESCAPE_BYTES = Buffer.from(ESCAPE);

export type BodyEncoding = 'utf8' | 'escaped' | 'base64';

/**
 * The request body as an SQS message body, losslessly and at its own size (`text`, when the caller has it, is
 * `raw` decoded as UTF-8, so it is not decoded twice; see also encodeJsonBody):
 * - `utf8`: the body as received, when it is UTF-8 text SQS accepts (every Front event in practice);
 * - `escaped`: otherwise (U+FFFE/U+FFFF or control characters, which JSON allows and SQS refuses; bytes that are not
 *   UTF-8): the body as received, with only the bytes SQS cannot carry (and U+E000 itself) written as U+E000 + hex.
 *   An event holding one such character stays the size it was (base64 would add a third), and the process
 *   function decodes it back to the exact bytes the signature was verified on.
 * - `base64` is only read (decodeBody), for messages queued by earlier releases.
 */
export function encodeBody(raw: Buffer, text?: string): { body: string; encoding: BodyEncoding } {
  // SQS refuses an empty message body; the escaped form of zero bytes is the escape of nothing (see escapeBytes).
  if (raw.length > 0 && isUtf8(raw)) {
    const body = text ?? raw.toString('utf8');
    if (!REFUSED_IN_UTF8_TEXT.test(body)) return { body, encoding: 'utf8' };
  }
  return { body: escapeBytes(raw), encoding: 'escaped' };
}

/**
 * encodeBody for a body whose text JSON.parse accepted: JSON admits no raw control character but tab, line feed and
 * carriage return, so of what SQS refuses only U+FFFE and U+FFFF (and the escape U+E000) can be there, and three
 * string searches find them (a few µs on a 50 KB event, where encodeBody's scan takes tens).
 */
export function encodeJsonBody(raw: Buffer, text: string): { body: string; encoding: BodyEncoding } {
  if (raw.length > 0 && isUtf8(raw) && !text.includes('\uFFFE') && !text.includes('\uFFFF') && !text.includes(ESCAPE)) {
    return { body: text, encoding: 'utf8' };
  }
  return encodeBody(raw, text);
}

/** Length in bytes of the UTF-8 sequence a lead byte starts, or 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The code point of the well-formed UTF-8 sequence of `length` bytes at `at`, or -1 (overlong, surrogate, truncated). */
function codePointAt(raw: Buffer, at: number, length: number): number {
  if (at + length > raw.length) return -1;
  let cp = length === 1 ? raw[at]! : raw[at]! & (0xff >> (length + 1));
  for (let i = 1; i < length; i++) {
    const byte = raw[at + i]!;
    if ((byte & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (byte & 0x3f);
  }
  const smallest = [0, 0, 0x80, 0x800, 0x10000][length]!;
  if (cp < smallest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp;
}

function sqsAccepts(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xe000) || cp >= 0x10000;
}

/** Writes every byte SQS cannot carry (and the escape itself) as U+E000 + two hex digits; keeps the rest as text. */
export function escapeBytes(raw: Buffer): string {
  const parts: Buffer[] = [];
  let text = 0; // start of the run of bytes kept as they are
  const escape = (from: number, to: number) => {
    for (let i = from; i < to; i++) parts.push(ESCAPE_BYTES, Buffer.from(raw[i]!.toString(16).padStart(2, '0'), 'latin1'));
  };
  let at = 0;
  while (at < raw.length) {
    const length = sequenceLength(raw[at]!);
    const cp = length === 0 ? -1 : codePointAt(raw, at, length);
    if (cp >= 0 && sqsAccepts(cp)) {
      at += length;
      continue;
    }
    parts.push(raw.subarray(text, at));
    const bad = cp >= 0 ? length : 1; // a character SQS refuses goes whole; a malformed sequence byte by byte
    escape(at, at + bad);
    at += bad;
    text = at;
  }
  parts.push(raw.subarray(text));
  const body = Buffer.concat(parts).toString('utf8');
  // Zero bytes: SQS refuses an empty body, and an escape followed by nothing stands for nothing.
  return body.length === 0 ? ESCAPE : body;
}

/** The exact bytes a queued body stands for, whatever encoding ingest (or an earlier release) used. */
export function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding === 'base64') return Buffer.from(body, 'base64');
  if (encoding !== 'escaped') return Buffer.from(body, 'utf8');
  const [first = '', ...rest] = body.split(ESCAPE);
  const parts: Buffer[] = [Buffer.from(first, 'utf8')];
  for (const part of rest) {
    if (part.length === 0) continue;
    parts.push(Buffer.from([Number.parseInt(part.slice(0, 2), 16)]), Buffer.from(part.slice(2), 'utf8'));
  }
  return Buffer.concat(parts);
}

/** The body's text as JSON.parse should read it: utf8 bodies are used as they are, without a byte round trip. */
export function bodyText(body: string, encoding: string | undefined): string {
  return encoding === 'escaped' || encoding === 'base64' ? decodeBody(body, encoding).toString('utf8') : body;
}

/** Size as SQS counts it: body plus each attribute's name, data type and value (`bodyBytes` when already known). */
export function messageBytes(message: Pick<QueuedMessage, 'body' | 'attributes'>, bodyBytes = Buffer.byteLength(message.body)): number {
  let total = bodyBytes;
  for (const [name, value] of Object.entries(message.attributes)) {
    total += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return total;
}

/** A stable FIFO deduplication id for a payload with no event id: its SHA-256. */
export function contentId(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

export interface QueueSettings {
  queueUrl: string;
  dlqUrl: string;
  /** Upper bound for one send, retries included: Front gives up after 5 s. */
  deadlineMs: number;
}

/**
 * Builds the SQS client the ingest path uses: bounded connect and request times, a few fast retries.
 * `endpoint` is for tests; deployed and local runs use the SDK's own AWS_ENDPOINT_URL_SQS.
 */
export function createSqsClient(deadlineMs: number, endpoint?: string): SQSClient {
  return new SQSClient({
    ...(endpoint && { endpoint }),
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: Math.min(1000, deadlineMs / 3),
      requestTimeout: Math.min(2000, deadlineMs / 2),
      // Without it the SDK only logs a warning when requestTimeout passes and waits on: a hung request would use
      // the whole deadline instead of being retried.
      throwOnRequestTimeout: true,
    },
  });
}

export function toAttributes(attributes: Record<string, string>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) out[name] = { DataType: 'String', StringValue: value };
  return out;
}

/** Sends one message to a FIFO queue within the deadline, or throws QueueUnavailableError. */
export async function sendToQueue(
  client: SQSClient,
  queueUrl: string,
  message: QueuedMessage,
  deadlineMs: number,
): Promise<string> {
  // A timer cleared once the send settles: AbortSignal.timeout() would leave each request's timer running for the
  // whole deadline, then fire it (a DOMException and an abort event per request, long after the answer).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), deadlineMs);
  try {
    const result = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId,
        MessageDeduplicationId: message.deduplicationId,
        MessageAttributes: toAttributes(message.attributes),
      }),
      { abortSignal: deadline.signal },
    );
    return result.MessageId ?? '';
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new QueueUnavailableError(`could not send to ${queueUrl}: ${detail}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** What SQS accepts as a MessageGroupId or MessageDeduplicationId: 1 to 128 alphanumerics and punctuation. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * A FIFO group or deduplication id for any value: the value itself when SQS accepts it (every Front id),
 * else its SHA-256, so the same value always maps to the same id and SQS never refuses the send.
 */
export function fifoId(value: string): string {
  return FIFO_ID.test(value) ? value : contentId(Buffer.from(value));
}

/** One conversation's events form one FIFO group, so they are processed in order; an event without one is its own. */
export function groupIdOf(event: { id: string; conversation?: { id: string } | undefined }): string {
  return fifoId(event.conversation?.id ?? event.id);
}

/** The attributes that say why a message is in the dead-letter queue (the detail capped for SQS and for readers). */
export function failureAttributes(reason: string, detail: string): Record<string, string> {
  return { [ATTR.failureReason]: reason, [ATTR.failureDetail]: detail.slice(0, 1024) };
}

export function eventAttributes(fields: {
  eventId?: string;
  eventType?: string;
  scheme: Scheme;
  receivedAt: string;
  encoding: BodyEncoding;
}): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (fields.eventId) attributes[ATTR.eventId] = fields.eventId;
  if (fields.eventType) attributes[ATTR.eventType] = fields.eventType;
  attributes[ATTR.scheme] = fields.scheme;
  attributes[ATTR.receivedAt] = fields.receivedAt;
  attributes[ATTR.bodyEncoding] = fields.encoding;
  return attributes;
}

/** An event as the queue holds it: the bytes Front signed (or the Events API returned), its group and dedup id. */
export function eventMessage(raw: Buffer, event: { id: string; type: string; conversation?: { id: string } | undefined }, fields: { scheme: Scheme; receivedAt: string; arrival?: Arrival }): QueuedMessage {
  const { body, encoding } = encodeBody(raw);
  return {
    body,
    groupId: groupIdOf(event),
    // Repeated deliveries of one event within SQS's 5-minute window collapse into one message, whichever path sent them.
    deduplicationId: fifoId(event.id),
    attributes: {
      ...eventAttributes({ eventId: event.id, eventType: event.type, scheme: fields.scheme, receivedAt: fields.receivedAt, encoding }),
      ...(fields.arrival && fields.arrival !== 'webhook' && { [ATTR.arrival]: fields.arrival }),
    },
  };
}

/** What a reference message holds instead of an event too large for SQS: where to fetch it, and what was received. */
export interface EventReference {
  eventId: string;
  eventType: string;
  conversationId?: string;
  /** Size and SHA-256 of the body as received, for the record (Front's API returns the event re-serialized). */
  bytes: number;
  sha256: string;
  /** App webhooks only: the envelope's event name and company, which the Events API does not return. */
  appEventType?: string;
  companyId?: string;
}

/** The message that stands for an event too large for SQS: the process function fetches the event from Front. */
export function referenceMessage(reference: EventReference, fields: { scheme: Scheme; receivedAt: string; arrival?: Arrival }): QueuedMessage {
  const event = { id: reference.eventId, type: reference.eventType, ...(reference.conversationId && { conversation: { id: reference.conversationId } }) };
  const message = eventMessage(Buffer.from(JSON.stringify(reference)), event, fields);
  message.attributes[ATTR.bodyKind] = 'reference';
  return message;
}

/**
 * Sends messages to a FIFO queue in batches of 10 (SQS's limit per call), in order, within the deadline per call;
 * an entry SQS refuses is sent again once on its own. Throws QueueUnavailableError naming what was not sent.
 */
export async function sendBatchToQueue(client: SQSClient, queueUrl: string, messages: readonly QueuedMessage[], deadlineMs: number): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    let failed: QueuedMessage[];
    try {
      const { Failed = [] } = await client.send(new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({
          Id: String(n),
          MessageBody: m.body,
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.deduplicationId,
          MessageAttributes: toAttributes(m.attributes),
        })),
      }), { abortSignal: AbortSignal.timeout(deadlineMs) });
      failed = Failed.map((f) => chunk[Number(f.Id)]!).filter(Boolean);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new QueueUnavailableError(`could not send ${chunk.length} message(s) to ${queueUrl}: ${detail}`, { cause: error });
    }
    // An entry SQS refused (throttling, in practice) goes again on its own. Entries are always sent in order, so
    // a conversation's events only change order in the queue in that rare case; the state table still runs each once.
    for (const message of failed) await sendToQueue(client, queueUrl, message, deadlineMs);
  }
}
