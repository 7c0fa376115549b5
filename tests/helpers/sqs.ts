import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { LOCAL_REGION, startLocalSqs } from '../../local/sqs.ts';

export interface TestSqs {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  client: SQSClient;
  /** Drains a queue (messages become invisible for `visibilityTimeout` seconds) and returns what it held. */
  receiveAll(url: string, visibilityTimeout?: number): Promise<Message[]>;
  /**
   * Receives and deletes until the queue is empty, and returns what it held. Unlike receiveAll it sees every
   * message of a FIFO group: fauxqs hands out one message of a group at a time until it is deleted.
   */
  drain(url: string): Promise<Message[]>;
  /** Empties both queues; FIFO deduplication outlives it, so tests use fresh ids and nonces. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** fauxqs in-process on loopback, with the project's queues created from lib/queues.json (as `npm start` does). */
export async function startTestSqs(prefix = 'test'): Promise<TestSqs> {
  process.env.AWS_REGION ??= LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const sqs = await startLocalSqs({ port: 0, prefix });
  const { client, endpoint } = sqs;
  return {
    endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    client,
    async receiveAll(url, visibilityTimeout = 60) {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({
          QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: visibilityTimeout,
          MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
        }));
        if (Messages.length === 0) return all;
        all.push(...Messages);
      }
    },
    async drain(url) {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(new ReceiveMessageCommand({
          QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30,
          MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
        }));
        if (Messages.length === 0) return all;
        all.push(...Messages);
        await client.send(new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }));
      }
    },
    reset: sqs.purge,
    stop: sqs.stop,
  };
}

/** One request a client sent: the command's name and its input, as the SDK serializes them for SQS. */
export interface SentRequest { command: string; input: Record<string, unknown> }

/**
 * An SQS client on `endpoint` that records every request it sends, so a test can assert what SQS requires on the
 * requests themselves (attributes asked for by name, batch sizes, FIFO ids) rather than on how lax or strict the
 * emulator happens to be about it.
 */
export function recordingSqsClient(endpoint: string): { client: SQSClient; requests: SentRequest[] } {
  const requests: SentRequest[] = [];
  const client = new SQSClient({ endpoint, region: process.env.AWS_REGION ?? LOCAL_REGION });
  client.middlewareStack.add((next, context) => async (args) => {
    requests.push({ command: String(context.commandName), input: structuredClone(args.input) as Record<string, unknown> });
    return next(args);
  }, { step: 'initialize', name: 'recordRequests' });
  return { client, requests };
}
