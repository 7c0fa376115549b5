/**
 * The embedded SQS of `npm start`, the tests and the benchmarks: fauxqs in-process, listening on loopback
 * only, with the project's queues created from lib/queues.json (the definition serverless.yml reads too).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, interceptLocalhostDns } from 'fauxqs';
import queues from '../lib/queues.json' with { type: 'json' };

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
 * Two fixes applied once per process:
 * - fauxqs names queues http://sqs.<region>.localhost:<port>/…, which not every resolver knows: resolve them to loopback;
 * - fauxqs 1.9.2 checks message bodies with a regex lacking the `u` flag, so it refuses every character beyond
 *   U+FFFF (emoji), which SQS accepts (#x10000 to #x10FFFF); Front bodies carry emoji, so make it check what SQS checks.
 *   The module is not exported; it is reached by its file next to fauxqs's entry.
 */
async function patchFauxqs(): Promise<void> {
  if (patched) return;
  interceptLocalhostDns();
  const types = await import(new URL('./sqs/sqsTypes.js', import.meta.resolve('fauxqs')).href) as { INVALID_MESSAGE_BODY_CHAR?: RegExp };
  const check = types.INVALID_MESSAGE_BODY_CHAR;
  if (!check) throw new Error('fauxqs changed: INVALID_MESSAGE_BODY_CHAR is gone; review patchFauxqs in scripts/local-sqs.ts');
  const sqsRule = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
  check.test = (text: string) => sqsRule.test(text);
  patched = true;
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
