/**
 * The embedded SQS of `npm start`, the tests and the benchmarks: fauxqs in-process, listening on loopback
 * only, with the project's queues created from lib/queues.json (the definition serverless.yml reads too).
 */
import { Worker } from 'node:worker_threads';
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, interceptLocalhostDns } from 'fauxqs';
import queues from '../lib/queues.json' with { type: 'json' };
import { patchFauxqsFifo } from './fauxqs-fifo.ts';

// On Node 20 the AWS SDK warns at every client that its 2027 releases will need Node 22; the lock file pins
// a release that runs on 20, and the functions run on Node 22 in Lambda. Keep local output readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const LOOPBACK = '127.0.0.1';
export const LOCAL_REGION = 'us-east-1';
export const DEFAULT_SQS_PORT = 9324;
/** `npm start` names its queues `local-<name from lib/queues.json>`. */
export const LOCAL_PREFIX = 'local';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalSqsOptions {
  /** 0 picks a free port. */
  port: number;
  /** Queue names are `<prefix>-<name from lib/queues.json>`. */
  prefix: string;
  /** Overrides the main queue's VisibilityTimeout (seconds) so tests see retries quickly. */
  visibilityTimeoutSeconds?: number;
}

export interface LocalSqs {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  /** A client for the emulator (dummy credentials). */
  client: SQSClient;
  /** Empties both queues (FIFO deduplication ids are remembered for 5 minutes all the same). */
  purge(): Promise<void>;
  stop(): Promise<void>;
}

let patched = false;

/**
 * Fixes applied once per process, so the emulator refuses and returns what SQS does:
 * - fauxqs names queues http://sqs.<region>.localhost:<port>/…, which not every resolver knows: resolve them to loopback;
 * - fauxqs 1.9.2 checks message bodies with a regex lacking the `u` flag, so it refuses every character beyond
 *   U+FFFF (emoji), which SQS accepts (#x10000 to #x10FFFF); Front bodies carry emoji, so make it check what SQS checks.
 *   The module is not exported; it is reached by its file next to fauxqs's entry;
 * - FIFO receives return batches as SQS returns them to Lambda (local/fauxqs-fifo.ts).
 */
async function patchFauxqs(): Promise<void> {
  if (patched) return;
  interceptLocalhostDns();
  const types = await import(new URL('./sqs/sqsTypes.js', import.meta.resolve('fauxqs')).href) as { INVALID_MESSAGE_BODY_CHAR?: RegExp };
  const check = types.INVALID_MESSAGE_BODY_CHAR;
  if (!check) throw new Error('fauxqs changed: INVALID_MESSAGE_BODY_CHAR is gone; review patchFauxqs in local/sqs.ts');
  const sqsRule = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
  check.test = (text: string) => sqsRule.test(text);
  await patchFauxqsFifo();
  patched = true;
}

/** SQS's rule for MessageGroupId and MessageDeduplicationId; fauxqs accepts any string. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
/** SQS's message attribute data types (a custom label may follow a dot); fauxqs accepts any. */
const DATA_TYPE = /^(String|Number|Binary)(\..+)?$/;

interface SqsSend { MessageGroupId?: string; MessageDeduplicationId?: string; MessageAttributes?: Record<string, { DataType?: string }> }

/** Why SQS would refuse this SendMessage (or one entry of a batch), or undefined. */
function refusal(entry: SqsSend): string | undefined {
  for (const [name, value] of [['MessageGroupId', entry.MessageGroupId], ['MessageDeduplicationId', entry.MessageDeduplicationId]] as const) {
    if (value !== undefined && !FIFO_ID.test(value)) return `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: The request must contain 1 to 128 alphanumeric or punctuation characters.`;
  }
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    if (!DATA_TYPE.test(value.DataType ?? '')) return `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`;
  }
  return undefined;
}

/**
 * Where fauxqs is laxer than SQS in ways the project depends on, make it as strict as SQS (fastify hooks on its app):
 * FIFO ids and attribute data types SQS refuses get SQS's 400; a ReceiveMessage that does not ask for message
 * attributes gets none (SQS returns only the attributes named in MessageAttributeNames).
 */
function asStrictAsSqs(app: ReturnType<typeof buildApp>): void {
  const target = (headers: Record<string, unknown>) => String(headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
  type Request = { headers: Record<string, unknown>; body: unknown };
  type Reply = { code(status: number): Reply; header(name: string, value: string): Reply; send(payload: unknown): Reply };
  app.addHook('preHandler', async (request: Request, reply: Reply) => {
    const action = target(request.headers);
    const body = request.body as (SqsSend & { Entries?: SqsSend[] }) | undefined;
    if (!body || (action !== 'SendMessage' && action !== 'SendMessageBatch')) return;
    const why = action === 'SendMessage' ? refusal(body) : (body.Entries ?? []).map(refusal).find((r) => r !== undefined);
    if (why) {
      return reply.code(400).header('content-type', 'application/x-amz-json-1.0')
        .header('x-amzn-query-error', 'AWS.SimpleQueueService.InvalidParameterValue;Sender')
        .send({ __type: 'com.amazonaws.sqs#InvalidParameterValue', message: why });
    }
  });
  app.addHook('preSerialization', async (request: Request, _reply: Reply, payload: unknown) => {
    if (target(request.headers) !== 'ReceiveMessage') return payload;
    const asked = (request.body as { MessageAttributeNames?: string[] } | undefined)?.MessageAttributeNames ?? [];
    const messages = (payload as { Messages?: Array<Record<string, unknown>> } | undefined)?.Messages;
    if (asked.length === 0 && messages) {
      for (const message of messages) {
        delete message.MessageAttributes;
        delete message.MD5OfMessageAttributes;
      }
    }
    return payload;
  });
}

/** A client for the emulator at `endpoint` (dummy credentials; *.localhost queue URLs resolved to loopback). */
export async function localSqsClient(endpoint: string): Promise<SQSClient> {
  await patchFauxqs();
  return new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  await patchFauxqs();
  // fauxqs's own startFauxqs() listens on 0.0.0.0; build its app and listen on loopback only.
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: LOCAL_REGION });
  asStrictAsSqs(app);
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: LOOPBACK });
  } catch (error) {
    await app.close();
    throw new Error(`Cannot start the SQS emulator on ${LOOPBACK}:${options.port} (set SQS_PORT to another port): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const client = await localSqsClient(address);
  const stop = async () => {
    client.destroy();
    await app.close();
  };
  try {
    const dlq = await client.send(new CreateQueueCommand({ QueueName: `${options.prefix}-${queues.deadLetter.name}`, Attributes: queues.deadLetter.attributes }));
    const dlqUrl = dlq.QueueUrl ?? '';
    const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const main = await client.send(new CreateQueueCommand({
      QueueName: `${options.prefix}-${queues.events.name}`,
      Attributes: {
        ...queues.events.attributes,
        ...(options.visibilityTimeoutSeconds !== undefined && { VisibilityTimeout: String(options.visibilityTimeoutSeconds) }),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: queues.events.maxReceiveCount }),
      },
    }));
    const queueUrl = main.QueueUrl ?? '';
    const queueArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
    return {
      endpoint: address,
      port: Number(new URL(address).port),
      queueUrl,
      queueArn,
      dlqUrl,
      client,
      async purge() {
        await client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
        await client.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The emulator in its own thread (local/sqs-thread.ts), as the local stack runs it. */
export interface LocalSqsThread extends LocalSqs {
  /** Forgets every FIFO deduplication id, as SQS does after 5 minutes (local/fauxqs-fifo.ts). */
  expireDeduplication(): Promise<void>;
}

/**
 * fauxqs in a worker thread of its own: ingest's SendMessage and the event source's receives are answered beside
 * the event loop that answers webhooks, on another core when there is one, instead of queueing behind it.
 */
export async function startLocalSqsThread(options: LocalSqsOptions): Promise<LocalSqsThread> {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { module: new URL('./sqs-thread.ts', import.meta.url).href, ...options },
  });
  type Ready = { type: 'ready'; endpoint: string; port: number; queueUrl: string; queueArn: string; dlqUrl: string };
  const ready = await new Promise<Ready>((resolve, reject) => {
    worker.once('message', (message: Ready | { type: 'failed'; message: string }) => {
      if (message.type === 'ready') resolve(message);
      else reject(new Error(message.message));
    });
    worker.once('error', reject);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const client = await localSqsClient(ready.endpoint);
  const ask = (type: string) => new Promise<void>((resolve) => {
    worker.once('message', () => resolve());
    worker.once('exit', () => resolve());
    worker.postMessage({ type });
  });
  return {
    endpoint: ready.endpoint, port: ready.port, queueUrl: ready.queueUrl, queueArn: ready.queueArn, dlqUrl: ready.dlqUrl, client,
    async purge() {
      await client.send(new PurgeQueueCommand({ QueueUrl: ready.queueUrl }));
      await client.send(new PurgeQueueCommand({ QueueUrl: ready.dlqUrl }));
    },
    expireDeduplication: () => ask('expire-deduplication'),
    async stop() {
      client.destroy();
      await ask('stop');
      await worker.terminate();
    },
  };
}
