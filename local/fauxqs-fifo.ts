/**
 * Makes fauxqs 1.9's FIFO queues hand out batches the way SQS hands them to Lambda, so `npm start` and the tests
 * exercise the semantics the process function meets on AWS:
 *
 * - **Several messages of one group per receive.** SQS "attempts to return as many messages with the same message
 *   group ID as possible" (up to 10) and may fill the batch with other groups, each in order; fauxqs takes one
 *   message per group and locks it, which hides what happens to the messages held back behind a failing one
 *   (each receive counts toward maxReceiveCount for all of them).
 * - **Order kept when messages come back.** When several in-flight messages of a group become visible again
 *   (visibility timeout, or ChangeMessageVisibility), fauxqs puts each back at the front of its group in turn,
 *   which reverses them; SQS keeps the group in sequence order.
 *
 * The patch replaces methods of fauxqs's internal SqsQueue class, reached by its file next to the package entry
 * (it is not exported). A fauxqs upgrade that changes them fails here loudly rather than silently.
 */
import { randomUUID } from 'node:crypto';

interface FauxqsMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  messageAttributes: Record<string, unknown>;
  messageGroupId?: string;
  sequenceNumber?: string;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number;
}

interface FauxqsQueue {
  attributes: Record<string, string>;
  deduplicationCache: { clear(): void };
  recordDeduplication(dedupId: string, messageId: string, sequenceNumber: string): void;
  fifoMessages: Map<string, FauxqsMessage[]>;
  fifoLockedGroups: Map<string, number>;
  inflightMessages: Map<string, { message: FauxqsMessage; receiptHandle: string; visibilityDeadline: number }>;
  spy?: { addMessage(entry: Record<string, unknown>): void };
  isFifo(): boolean;
  processTimers(): void;
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
  dequeueFifo(maxCount: number, visibilityTimeoutOverride: number | undefined, dlqResolver?: (arn: string) => { enqueue(m: FauxqsMessage): void } | undefined): unknown[];
}

let applied = false;
/** Every queue that has deduplicated anything, so that expireDeduplication can reach it. */
const deduplicating = new Set<FauxqsQueue>();

/**
 * Forgets every FIFO deduplication id, as SQS does after 5 minutes: lets a test deliver the same event again
 * "much later" (after the window), which only the state table must then catch.
 */
export function expireDeduplication(): void {
  for (const queue of deduplicating) queue.deduplicationCache.clear();
}

/** Puts every FIFO group back in sequence order (messages returned from flight are re-inserted at the front). */
function sortGroups(queue: FauxqsQueue): void {
  for (const messages of queue.fifoMessages.values()) {
    if (messages.length > 1) messages.sort((a, b) => (a.sequenceNumber ?? '').localeCompare(b.sequenceNumber ?? ''));
  }
}

function redrivePolicy(queue: FauxqsQueue): { maxReceiveCount: number; dlqArn?: string } {
  if (!queue.attributes.RedrivePolicy) return { maxReceiveCount: Infinity };
  try {
    const policy = JSON.parse(queue.attributes.RedrivePolicy) as { maxReceiveCount?: number; deadLetterTargetArn?: string };
    return { maxReceiveCount: policy.maxReceiveCount ?? Infinity, ...(policy.deadLetterTargetArn && { dlqArn: policy.deadLetterTargetArn }) };
  } catch {
    return { maxReceiveCount: Infinity };
  }
}

export async function patchFauxqsFifo(): Promise<void> {
  if (applied) return;
  const module = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href) as { SqsQueue?: { prototype: FauxqsQueue } };
  const proto = module.SqsQueue?.prototype;
  if (!proto || typeof proto.dequeueFifo !== 'function' || typeof proto.processTimers !== 'function' || typeof proto.changeVisibility !== 'function' || typeof proto.recordDeduplication !== 'function') {
    throw new Error('fauxqs changed: SqsQueue.dequeueFifo/processTimers/changeVisibility/recordDeduplication are gone; review local/fauxqs-fifo.ts');
  }

  const recordDeduplication = proto.recordDeduplication;
  proto.recordDeduplication = function (this: FauxqsQueue, dedupId: string, messageId: string, sequenceNumber: string) {
    deduplicating.add(this);
    recordDeduplication.call(this, dedupId, messageId, sequenceNumber);
  };
  const processTimers = proto.processTimers;
  proto.processTimers = function (this: FauxqsQueue) {
    processTimers.call(this);
    if (this.isFifo()) sortGroups(this);
  };
  const changeVisibility = proto.changeVisibility;
  proto.changeVisibility = function (this: FauxqsQueue, receiptHandle: string, timeoutSeconds: number) {
    changeVisibility.call(this, receiptHandle, timeoutSeconds);
    if (this.isFifo()) sortGroups(this);
  };

  // fauxqs's own dequeueFifo, except that it keeps taking from a group until the batch is full.
  proto.dequeueFifo = function (this: FauxqsQueue, maxCount, visibilityTimeoutOverride, dlqResolver) {
    this.processTimers();
    const visibilityTimeout = visibilityTimeoutOverride ?? Number.parseInt(this.attributes.VisibilityTimeout ?? '30', 10);
    const { maxReceiveCount, dlqArn } = redrivePolicy(this);
    const result: Array<Record<string, unknown>> = [];
    const count = Math.min(maxCount, 10);
    for (const [groupId, messages] of this.fifoMessages) {
      if (result.length >= count) break;
      if (this.fifoLockedGroups.has(groupId) || messages.length === 0) continue;
      while (result.length < count && messages.length > 0) {
        const message = messages.shift()!;
        message.approximateReceiveCount++;
        message.approximateFirstReceiveTimestamp ??= Date.now();
        // As SQS: a message received more than maxReceiveCount times moves to the DLQ when it is next received.
        const dlq = dlqArn && dlqResolver && message.approximateReceiveCount > maxReceiveCount ? dlqResolver(dlqArn) : undefined;
        if (dlq) {
          this.spy?.addMessage({ service: 'sqs', queueName: '', messageId: message.messageId, body: message.body, messageAttributes: message.messageAttributes, status: 'dlq', timestamp: Date.now() });
          dlq.enqueue(message);
          continue;
        }
        const receiptHandle = randomUUID();
        this.inflightMessages.set(receiptHandle, { message, receiptHandle, visibilityDeadline: Date.now() + visibilityTimeout * 1000 });
        result.push({
          MessageId: message.messageId,
          ReceiptHandle: receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          ...(message.md5OfMessageAttributes && { MD5OfMessageAttributes: message.md5OfMessageAttributes }),
          ...(Object.keys(message.messageAttributes).length > 0 && { MessageAttributes: message.messageAttributes }),
        });
        // In flight, the group is locked: no other receive gets its later messages until these are done.
        this.fifoLockedGroups.set(groupId, (this.fifoLockedGroups.get(groupId) ?? 0) + 1);
      }
      if (messages.length === 0) this.fifoMessages.delete(groupId);
    }
    return result;
  };
  applied = true;
}
