import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ATTR, contentId, decodeBody, groupIdOf, type EventReference } from './queue.ts';

/** One dead-lettered message as an operator sees it. */
export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  eventId?: string;
  eventType?: string;
  conversationId?: string;
  scheme?: string;
  receivedAt?: string;
  /** Set by ingest or process when they put it there; absent when SQS moved it after maxReceiveCount. */
  reason: string;
  detail?: string;
  /** Times the main queue delivered it (only for messages SQS moved). */
  receiveCount?: number;
  /** Failed handler attempts, when the process function dead-lettered it after they ran out. */
  attempts?: number;
  /** Its SQS sequence number in the main queue: the order of a conversation's events. */
  sequence?: string;
  bytes: number;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

/**
 * What a letter goes back to the main queue as: its own body, or for an event too large for SQS, a reference the
 * process function fetches from Front's API (an ingest summary that names the event becomes one). Undefined when
 * there is nothing to replay (a summary of a body that was not even an event).
 */
export function replayBody(letter: DeadLetter): { body: string; reference: boolean } | undefined {
  if (letter.reason !== 'payload_too_large') return { body: letter.body, reference: false };
  if (letter.attributes[ATTR.bodyKind]?.StringValue === 'reference') return { body: letter.body, reference: true };
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(letter.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof summary.eventId !== 'string' || typeof summary.eventType !== 'string') return undefined;
  const reference: EventReference = {
    eventId: summary.eventId,
    eventType: summary.eventType,
    ...(typeof summary.conversationId === 'string' && { conversationId: summary.conversationId }),
    bytes: Number(summary.bytes) || 0,
    sha256: String(summary.sha256 ?? ''),
  };
  return { body: JSON.stringify(reference), reference: true };
}

export function isReplayable(letter: DeadLetter): boolean {
  return replayBody(letter) !== undefined;
}

function stringAttr(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

function conversationOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { conversation?: { id?: unknown }; payload?: { conversation?: { id?: unknown } }; conversationId?: unknown };
    // An event (rule webhook), an app envelope, or a reference to an event too large for SQS.
    const id = parsed.conversation?.id ?? parsed.payload?.conversation?.id ?? parsed.conversationId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export function describeDeadLetter(message: Message): DeadLetter {
  const body = message.Body ?? '';
  const raw = decodeBody(body, stringAttr(message, ATTR.bodyEncoding));
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  const eventId = stringAttr(message, ATTR.eventId);
  const eventType = stringAttr(message, ATTR.eventType);
  const conversationId = conversationOf(raw);
  const scheme = stringAttr(message, ATTR.scheme);
  const receivedAt = stringAttr(message, ATTR.receivedAt);
  const detail = stringAttr(message, ATTR.failureDetail);
  const attempts = Number(stringAttr(message, ATTR.attempts));
  const sequence = stringAttr(message, ATTR.sequence) ?? (message.Attributes?.MessageGroupId === conversationId ? message.Attributes?.SequenceNumber : undefined);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    ...(eventId && { eventId }),
    ...(eventType && { eventType }),
    ...(conversationId && { conversationId }),
    ...(scheme && { scheme }),
    ...(receivedAt && { receivedAt }),
    reason: stringAttr(message, ATTR.failureReason) ?? 'max_receives_exceeded',
    ...(detail && { detail }),
    ...(Number.isFinite(count) && { receiveCount: count }),
    ...(Number.isInteger(attempts) && attempts > 0 && { attempts }),
    ...(sequence && { sequence }),
    bytes: raw.length,
    body,
    attributes: message.MessageAttributes ?? {},
  };
}

/** How many messages the queue holds, visible or not (SQS's approximate counts). */
export async function countMessages(client: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({
    QueueUrl: url,
    AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Reads the messages of the dead-letter queue without removing any: each is received (hidden for
 * `holdSeconds` while we page through) and then made visible again at once.
 * Returns the messages still hidden, so a redrive can act on them with their receipt handles.
 * A FIFO queue shows only the first messages of each message group until they are deleted: dead letters
 * SQS moved keep their conversation's group, so later events of one conversation appear once the first
 * ones are redriven (redriveAll does that in rounds). Letters written by ingest or process each have their own group.
 */
export async function readDeadLetters(client: SQSClient, dlqUrl: string, holdSeconds = 60, limit = 10_000): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  while (letters.length < limit) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: holdSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }));
    if (Messages.length === 0) break;
    letters.push(...Messages.map(describeDeadLetter));
  }
  return letters;
}

/** Makes messages read by readDeadLetters visible again (what `list` does when it is done). */
export async function release(client: SQSClient, dlqUrl: string, letters: readonly DeadLetter[]): Promise<void> {
  for (let i = 0; i < letters.length; i += 10) {
    const chunk = letters.slice(i, i + 10);
    await client.send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: dlqUrl,
      Entries: chunk.map((letter, n) => ({ Id: String(n), ReceiptHandle: letter.receiptHandle, VisibilityTimeout: 0 })),
    }));
  }
}

/** Selects letters by message id or event id; an empty selector list selects all. */
export function select(letters: readonly DeadLetter[], ids: readonly string[], filter: { reason?: string; type?: string } = {}): DeadLetter[] {
  return letters.filter((letter) =>
    (ids.length === 0 || ids.includes(letter.messageId) || (letter.eventId !== undefined && ids.includes(letter.eventId))) &&
    (filter.reason === undefined || letter.reason === filter.reason) &&
    (filter.type === undefined || letter.eventType === filter.type));
}

export interface RedriveResult {
  redriven: DeadLetter[];
  skipped: Array<{ letter: DeadLetter; why: string }>;
}

/** What identifies the event a letter holds across redrives: its event id, else its body's SHA-256. */
export function redriveKey(letter: DeadLetter): string {
  return letter.eventId ?? `sha256:${contentId(decodeBody(letter.body, letter.attributes[ATTR.bodyEncoding]?.StringValue))}`;
}

/** Digits of an SQS sequence number compared as numbers (they are 20+ digits, beyond a double's precision). */
function compareSequence(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return 0;
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Letters in the order they must go back: each conversation's letters together, in the order its events had in the
 * main queue (queue-sequence), conversations in the order they were first seen.
 */
export function inConversationOrder(letters: readonly DeadLetter[]): DeadLetter[] {
  const byConversation = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const key = letter.conversationId ?? redriveKey(letter);
    byConversation.set(key, [...(byConversation.get(key) ?? []), letter]);
  }
  return [...byConversation.values()].flatMap((group) => group.map((letter, i) => ({ letter, i }))
    .sort((x, y) => compareSequence(x.letter.sequence, y.letter.sequence) || x.i - y.i)
    .map(({ letter }) => letter));
}

/** The attributes a letter goes back with: the original ones, marked `redriven`, without why it was dead-lettered. */
function redrivenAttributes(letter: DeadLetter, reference: boolean): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = { ...letter.attributes, [ATTR.arrival]: { DataType: 'String', StringValue: 'redriven' } };
  for (const name of [ATTR.failureReason, ATTR.failureDetail, ATTR.attempts, ATTR.sequence]) delete attributes[name];
  if (reference) {
    attributes[ATTR.bodyKind] = { DataType: 'String', StringValue: 'reference' };
    attributes[ATTR.bodyEncoding] = { DataType: 'String', StringValue: 'utf8' };
  }
  return attributes;
}

/**
 * Moves letters back to the main queue, in conversation order: the original body and event attributes, in the
 * event's conversation group; each is deleted from the DLQ only once it is re-queued. The deduplication id is
 * stable for a dead letter, so a redrive that dies between the send and the delete and runs again queues it once
 * (and the state table skips it if it had been processed meanwhile).
 */
export async function redrive(client: SQSClient, dlqUrl: string, queueUrl: string, letters: readonly DeadLetter[]): Promise<RedriveResult> {
  const result: RedriveResult = { redriven: [], skipped: [] };
  for (const letter of inConversationOrder(letters)) {
    const replay = replayBody(letter);
    if (!replay) {
      result.skipped.push({ letter, why: 'only a summary was kept of a body too large for SQS that named no event: there is nothing to replay' });
      continue;
    }
    const id = letter.eventId ?? letter.messageId;
    await client.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: replay.body,
      MessageAttributes: redrivenAttributes(letter, replay.reference),
      MessageGroupId: groupIdOf({ id, ...(letter.conversationId && { conversation: { id: letter.conversationId } }) }),
      // Distinct from the original delivery's id (which may still be inside SQS's 5-minute window),
      // stable for this dead letter, so running the same redrive twice queues it once.
      MessageDeduplicationId: createHash('sha256').update(`redrive:${letter.messageId}`).digest('hex'),
    }));
    await client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: letter.receiptHandle }));
    result.redriven.push(letter);
  }
  return result;
}

/**
 * Redrives every letter `choose` picks, in rounds: each round reads what the DLQ shows, redrives the chosen
 * letters and makes the rest visible again, which uncovers the next events of a conversation whose first
 * ones were just redriven. Stops when a round finds nothing new to redrive. A letter whose event already went
 * back in this run and is in the DLQ again (the process function dead-lettered it at once) is not sent a second
 * time: it stays in the DLQ, reported as skipped, so `--all` never ping-pongs.
 */
export async function redriveAll(
  client: SQSClient,
  dlqUrl: string,
  queueUrl: string,
  choose: (letters: readonly DeadLetter[]) => DeadLetter[],
  options: { maxRounds?: number; onRound?: (round: number, result: RedriveResult) => void | Promise<void> } = {},
): Promise<RedriveResult> {
  const maxRounds = options.maxRounds ?? 1000;
  const total: RedriveResult = { redriven: [], skipped: [] };
  const sent = new Set<string>();
  const skippedIds = new Set<string>();
  for (let round = 0; round < maxRounds; round++) {
    const letters = await readDeadLetters(client, dlqUrl);
    const chosen: DeadLetter[] = [];
    for (const letter of choose(letters)) {
      if (skippedIds.has(letter.messageId)) continue;
      if (sent.has(redriveKey(letter))) {
        skippedIds.add(letter.messageId);
        total.skipped.push({ letter, why: `it came back to the DLQ during this redrive (${letter.reason}): fix the cause, then redrive it again` });
        continue;
      }
      chosen.push(letter);
    }
    const result = await redrive(client, dlqUrl, queueUrl, chosen);
    await release(client, dlqUrl, letters.filter((letter) => !result.redriven.includes(letter)));
    total.redriven.push(...result.redriven);
    for (const letter of result.redriven) sent.add(redriveKey(letter));
    for (const skip of result.skipped) {
      skippedIds.add(skip.letter.messageId);
      total.skipped.push(skip);
    }
    await options.onRound?.(round, result);
    if (result.redriven.length === 0) break;
  }
  return total;
}
