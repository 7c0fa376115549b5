import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import queues from '../../lib/queues.json' with { type: 'json' };

export interface TestSqs {
  server: FauxqsServer;
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
  reset(): void;
  stop(): Promise<void>;
}

let restoreDns: (() => void) | undefined;
let astralAllowed = false;

/**
 * fauxqs 1.9.2 checks message bodies with a regex lacking the `u` flag, so it refuses every character beyond
 * U+FFFF (emoji: surrogate pairs), which SQS accepts (#x10000 to #x10FFFF). Front bodies carry emoji, so the tests
 * make fauxqs check what SQS checks. The module is not exported; it is reached by its file next to fauxqs's entry.
 */
export async function fauxqsAcceptsAstralCharacters(): Promise<void> {
  if (astralAllowed) return;
  const types = await import(new URL('./sqs/sqsTypes.js', import.meta.resolve('fauxqs')).href) as { INVALID_MESSAGE_BODY_CHAR?: RegExp };
  const check = types.INVALID_MESSAGE_BODY_CHAR;
  if (!check) throw new Error('fauxqs changed: INVALID_MESSAGE_BODY_CHAR is gone; review fauxqsAcceptsAstralCharacters');
  const sqsRule = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
  check.test = (text: string) => sqsRule.test(text);
  astralAllowed = true;
}

/** fauxqs in-process on loopback, with the project's queues created from lib/queues.json. */
export async function startTestSqs(prefix = 'test'): Promise<TestSqs> {
  // fauxqs names queues http://sqs.<region>.localhost:<port>/…, which this machine's resolver does not know.
  restoreDns ??= interceptLocalhostDns();
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  await fauxqsAcceptsAstralCharacters();
  const server = await startFauxqs({ port: 0, logger: false, host: 'localhost' });
  const dlq = server.createQueue(`${prefix}-${queues.deadLetter.name}`, { attributes: queues.deadLetter.attributes });
  const main = server.createQueue(`${prefix}-${queues.events.name}`, {
    attributes: {
      ...queues.events.attributes,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: queues.events.maxReceiveCount }),
    },
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({ endpoint, region: process.env.AWS_REGION });
  return {
    server,
    endpoint,
    queueUrl: main.queueUrl,
    dlqUrl: dlq.queueUrl,
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
    reset() {
      server.reset();
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
