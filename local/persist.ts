/**
 * What `npm start` keeps across a restart, in .local/state.json: the messages of both queues (the DLQ, and events
 * still waiting, such as retries), the state table (which events were processed, handler attempts, the
 * reconciliation's watermark) and the events recorded in the fake Front API. So the fail → fix → restart → redrive
 * loop works locally. Not kept: SQS's 5-minute deduplication memory and receive counts (a restored message starts
 * at zero receives, its handler attempts are in the state table), and the fake's rate-limit window.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { BatchWriteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';

export interface SavedMessage {
  body: string;
  groupId?: string;
  deduplicationId?: string;
  attributes: Record<string, MessageAttributeValue>;
}

export interface SavedState {
  version: 1;
  savedAt: string;
  queues: { events: SavedMessage[]; deadLetter: SavedMessage[] };
  table: Array<Record<string, AttributeValue>>;
  front: Array<{ event: unknown; inboxes?: string[] }>;
}

interface FauxqsMessage {
  body: string;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
  messageAttributes: Record<string, MessageAttributeValue>;
}

export interface StateTarget {
  sqs: SQSClient;
  /** fauxqs's own address, whose /_fauxqs/queues/<name> lists every message of a queue, in flight or not. */
  sqsEndpoint: string;
  queues: { events: { name: string; url: string }; deadLetter: { name: string; url: string } };
  dynamo: DynamoDBClient;
  tableName: string;
  frontUrl: string;
}

async function messagesOf(target: StateTarget, name: string): Promise<SavedMessage[]> {
  const response = await fetch(`${target.sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`cannot list queue ${name}: ${response.status}`);
  const { messages } = (await response.json()) as { messages: { ready: FauxqsMessage[]; delayed: FauxqsMessage[]; inflight: Array<{ message: FauxqsMessage }> } };
  const all = [...messages.ready, ...messages.delayed, ...messages.inflight.map((i) => i.message)];
  // In the order SQS holds them: a conversation's events go back in their order.
  all.sort((a, b) => (a.sequenceNumber ?? '').localeCompare(b.sequenceNumber ?? ''));
  return all.map((m) => ({
    body: m.body,
    ...(m.messageGroupId && { groupId: m.messageGroupId }),
    ...(m.messageDeduplicationId && { deduplicationId: m.messageDeduplicationId }),
    attributes: m.messageAttributes,
  }));
}

async function scan(target: StateTarget): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await target.dynamo.send(new ScanCommand({ TableName: target.tableName, ConsistentRead: true, ...(start && { ExclusiveStartKey: start }) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function saveState(file: string, target: StateTarget): Promise<SavedState> {
  const front = await fetch(`${target.frontUrl}/_fake/events`).then((r) => r.json() as Promise<SavedState['front']>);
  const state: SavedState = {
    version: 1,
    savedAt: new Date().toISOString(),
    queues: { events: await messagesOf(target, target.queues.events.name), deadLetter: await messagesOf(target, target.queues.deadLetter.name) },
    table: await scan(target),
    front,
  };
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename: a stop interrupted halfway never leaves a half-written file to restore from.
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
  return state;
}

export function readState(file: string): SavedState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as SavedState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function restoreState(state: SavedState, target: StateTarget): Promise<void> {
  for (const [queue, messages] of [[target.queues.events, state.queues.events], [target.queues.deadLetter, state.queues.deadLetter]] as const) {
    for (const m of messages) {
      await target.sqs.send(new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: m.body,
        MessageAttributes: m.attributes,
        ...(m.groupId && { MessageGroupId: m.groupId }),
        ...(m.deduplicationId && { MessageDeduplicationId: m.deduplicationId }),
      }));
    }
  }
  for (let i = 0; i < state.table.length; i += 25) {
    await target.dynamo.send(new BatchWriteItemCommand({
      RequestItems: { [target.tableName]: state.table.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
    }));
  }
  if (state.front.length > 0) {
    const response = await fetch(`${target.frontUrl}/_fake/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(state.front) });
    if (!response.ok) throw new Error(`cannot restore the fake Front API's events: ${response.status} ${await response.text()}`);
  }
}
