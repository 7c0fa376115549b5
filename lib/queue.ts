import { createHash } from 'node:crypto';
import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
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
  /** `utf8` when the body is the request body as received; `base64` when it had bytes SQS refuses. */
  bodyEncoding: 'body-encoding',
  failureReason: 'failure-reason',
  failureDetail: 'failure-detail',
} as const;

export interface QueuedMessage {
  body: string;
  groupId: string;
  deduplicationId: string;
  attributes: Record<string, string>;
}

export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** Characters SQS accepts in a message body (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF). */
const SQS_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * The request body as an SQS message body, losslessly: as text when it is valid UTF-8 that SQS accepts
 * (every JSON body Front sends), as base64 otherwise (garbage kept for an operator to look at).
 */
export function encodeBody(raw: Buffer): { body: string; encoding: 'utf8' | 'base64' } {
  // SQS refuses an empty message body; "=" is base64 for zero bytes, so decodeBody gives the empty body back.
  if (raw.length === 0) return { body: '=', encoding: 'base64' };
  const text = raw.toString('utf8');
  const roundTrips = Buffer.byteLength(text) === raw.length && Buffer.from(text).equals(raw);
  if (roundTrips && !SQS_FORBIDDEN.test(text)) return { body: text, encoding: 'utf8' };
  return { body: raw.toString('base64'), encoding: 'base64' };
}

export function decodeBody(body: string, encoding: string | undefined): Buffer {
  return encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Size as SQS counts it: body plus each attribute's name, data type and value. */
export function messageBytes(message: Pick<QueuedMessage, 'body' | 'attributes'>): number {
  let total = Buffer.byteLength(message.body);
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
    },
  });
}

function toAttributes(attributes: Record<string, string>): Record<string, MessageAttributeValue> {
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
  try {
    const result = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId,
        MessageDeduplicationId: message.deduplicationId,
        MessageAttributes: toAttributes(message.attributes),
      }),
      { abortSignal: AbortSignal.timeout(deadlineMs) },
    );
    return result.MessageId ?? '';
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new QueueUnavailableError(`could not send to ${queueUrl}: ${detail}`, { cause: error });
  }
}

/** FIFO ids allow 128 chars of [A-Za-z0-9] and punctuation; Front ids are far shorter. */
export function fifoId(value: string): string {
  return value.length <= 128 ? value : contentId(Buffer.from(value));
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
  encoding: 'utf8' | 'base64';
}): Record<string, string> {
  return {
    ...(fields.eventId && { [ATTR.eventId]: fields.eventId }),
    ...(fields.eventType && { [ATTR.eventType]: fields.eventType }),
    [ATTR.scheme]: fields.scheme,
    [ATTR.receivedAt]: fields.receivedAt,
    [ATTR.bodyEncoding]: fields.encoding,
  };
}
