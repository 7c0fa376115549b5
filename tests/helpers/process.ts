import { after, before, beforeEach } from 'node:test';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { randomId } from '../../lib/front/samples.ts';
import { toSqsRecord } from '../../lib/process/sqs-event.ts';
import { startTestSqs, type TestSqs } from './sqs.ts';
import { startTestStore, type TestStore } from './store.ts';

export interface ProcessTestbed {
  /** fauxqs: the FIFO queue and its DLQ. */
  readonly sqs: TestSqs;
  /** dynalite: the state table. */
  readonly state: TestStore;
  /** Queues a body in a message group with string message attributes, as ingest queues an event. */
  send(body: string, groupId: string, attributes?: Record<string, string>): Promise<void>;
  /** Receives what the queue holds (hidden for `visibilityTimeout` seconds), as the records Lambda would pass. */
  receiveRecords(visibilityTimeout?: number): Promise<SQSRecord[]>;
}

/**
 * The emulators a test file of the process function runs on: started before its tests, emptied before each test,
 * stopped after them (node:test hooks of the calling file).
 */
export function processTestbed(prefix: string): ProcessTestbed {
  let sqs: TestSqs | undefined;
  let state: TestStore | undefined;
  let queueArn = '';
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('processTestbed: used before its before() hook ran');
    return value;
  };
  before(async () => {
    sqs = await startTestSqs(prefix);
    state = await startTestStore(prefix);
    const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['QueueArn'] }));
    queueArn = Attributes?.QueueArn ?? '';
  });
  after(async () => { await sqs?.stop(); await state?.stop(); });
  beforeEach(async () => { await started(sqs).reset(); await started(state).reset(); });
  return {
    get sqs() { return started(sqs); },
    get state() { return started(state); },
    async send(body, groupId, attributes = {}) {
      const queue = started(sqs);
      await queue.client.send(new SendMessageCommand({
        QueueUrl: queue.queueUrl, MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: randomId('dedup'),
        MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
      }));
    },
    async receiveRecords(visibilityTimeout = 60) {
      const queue = started(sqs);
      return (await queue.receiveAll(queue.queueUrl, visibilityTimeout)).map((m) => toSqsRecord(m, queueArn, 'us-east-1'));
    },
  };
}
