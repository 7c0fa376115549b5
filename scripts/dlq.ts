/**
 * `npm run dlq -- list` / `npm run dlq -- redrive <event-or-message-id ...> | --all`
 * Looks into the dead-letter queue of the local stack (default) or of a deployed stage, and moves chosen
 * messages back to the main queue. See README "Dead-letter queue".
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseCli, usageError } from './cli.ts';
import { countMessages, readDeadLetters, redriveAll, release, select, type DeadLetter } from '../lib/dlq.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { DEFAULT_SQS_PORT, LOCAL_PREFIX, localSqsClient } from '../local/sqs.ts';

const USAGE = `Usage:
  npm run dlq -- list    [target] [--reason R] [--type T] [--json]
  npm run dlq -- redrive [target] (<event-id|message-id> ... | --all) [--reason R] [--type T]

Target (default: the local stack started by \`npm start\`):
  --stage S --region R                 a deployed stage: queues front-webhooks-S-${queues.events.name} and -${queues.deadLetter.name}
  --queue-url URL --dlq-url URL        explicit queue URLs (with --region R and the usual AWS credentials)
  --endpoint URL                       SQS endpoint of the local stack (default http://127.0.0.1:\${SQS_PORT:-${DEFAULT_SQS_PORT}})`;

// On Node 20 the AWS SDK warns at every client that its 2027 releases will need Node 22; the lock file pins
// a release that runs on 20, and the functions run on Node 22 in Lambda. Keep local output readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values, positionals } = parseCli({
  allowPositionals: true,
  options: {
    stage: { type: 'string' },
    region: { type: 'string' },
    service: { type: 'string', default: 'front-webhooks' },
    'queue-url': { type: 'string' },
    'dlq-url': { type: 'string' },
    endpoint: { type: 'string' },
    reason: { type: 'string' },
    type: { type: 'string' },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
}, USAGE);

function fail(message: string): never {
  return usageError(message, USAGE);
}

async function queueUrls(client: SQSClient): Promise<{ queueUrl: string; dlqUrl: string }> {
  if (values['queue-url'] && values['dlq-url']) return { queueUrl: values['queue-url'], dlqUrl: values['dlq-url'] };
  if (values['queue-url'] || values['dlq-url']) fail('Give both --queue-url and --dlq-url, or neither.');
  const prefix = values.stage ? `${values.service}-${values.stage}-` : `${LOCAL_PREFIX}-`;
  const urlOf = async (name: string) => {
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: `${prefix}${name}` }));
      if (!QueueUrl) throw new Error('no URL returned');
      return QueueUrl;
    } catch (error) {
      const where = values.stage
        ? `stage "${values.stage}" (is it deployed in this region, with these credentials?)`
        : `the local stack (is \`npm start\` running? its SQS listens on SQS_PORT, ${process.env.SQS_PORT ?? DEFAULT_SQS_PORT})`;
      return fail(`Cannot find queue ${prefix}${name} in ${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return { queueUrl: await urlOf(queues.events.name), dlqUrl: await urlOf(queues.deadLetter.name) };
}

const deployed = Boolean(values.stage || values['queue-url']);
// The local stack's fauxqs, unless a deployed stage (or explicit queue URLs) is named.
const endpoint = values.endpoint ?? (deployed ? undefined : `http://127.0.0.1:${process.env.SQS_PORT ?? DEFAULT_SQS_PORT}`);

/** The local stack's emulator when an endpoint is in play, else AWS with the usual credential chain. */
async function clientFor(): Promise<SQSClient> {
  if (endpoint) return localSqsClient(endpoint);
  return new SQSClient(values.region ? { region: values.region } : {});
}

function row(letter: DeadLetter): string {
  return [
    letter.messageId,
    letter.eventId ?? '-',
    letter.eventType ?? '-',
    letter.conversationId ?? '-',
    letter.reason,
    letter.receivedAt ?? '-',
    `${letter.bytes} B`,
    letter.detail ?? '',
  ].join('\t');
}

async function main(): Promise<void> {
  const [command, ...ids] = positionals;
  if (!command) fail('Name a command: list or redrive.');
  if (values.stage && !values.region) fail('--stage needs --region: the region the stage is deployed in.');
  if (command !== 'list' && command !== 'redrive') fail(`Unknown command "${command}".`);
  const client = await clientFor();
  const { queueUrl, dlqUrl } = await queueUrls(client);
  const filter = { ...(values.reason && { reason: values.reason }), ...(values.type && { type: values.type }) };

  if (command === 'list') {
    const letters = await readDeadLetters(client, dlqUrl);
    const held = await countMessages(client, dlqUrl);
    await release(client, dlqUrl, letters);
    const chosen = select(letters, ids, filter);
    if (values.json) {
      console.log(JSON.stringify(chosen.map(({ receiptHandle: _, attributes: __, ...rest }) => rest), null, 2));
      return;
    }
    console.log(['messageId', 'eventId', 'type', 'conversation', 'reason', 'receivedAt', 'size', 'detail'].join('\t'));
    for (const letter of chosen) console.log(row(letter));
    console.log(`${chosen.length} of ${letters.length} dead-lettered message(s) shown, of about ${Math.max(held, letters.length)} in ${dlqUrl}`);
    if (held > letters.length) {
      console.log('The others are later events of a conversation listed above: a FIFO queue shows them once the first ones are redriven.');
    }
    return;
  }

  if (ids.length === 0 && !values.all) fail('Name the messages to redrive (event ids or message ids), or pass --all.');
  const wanted = new Set(ids);
  const result = await redriveAll(client, dlqUrl, queueUrl, (letters) => {
    const chosen = select(letters, ids, filter);
    for (const letter of chosen) {
      wanted.delete(letter.messageId);
      if (letter.eventId) wanted.delete(letter.eventId);
    }
    return chosen;
  }, { onRound: (round, r) => { if (r.redriven.length > 0) console.error(`round ${round + 1}: ${r.redriven.length} redriven`); } });
  for (const letter of result.redriven) console.log(`redriven\t${letter.messageId}\t${letter.eventId ?? '-'}\t${letter.reason}`);
  for (const { letter, why } of result.skipped) console.log(`skipped\t${letter.messageId}\t${letter.eventId ?? '-'}\t${why}`);
  for (const id of wanted) console.log(`not found\t${id}\t(or behind an earlier dead letter of its conversation that was not chosen)`);
  console.log(`${result.redriven.length} redriven to ${queueUrl}, ${result.skipped.length} skipped, ${wanted.size} not found`);
  if (wanted.size > 0 || result.skipped.length > 0) process.exitCode = 1;
}

await main();
