/**
 * `npm run send -- --type inbound [--scheme rule|app] [--preview] [--count N] [--url URL] [--conversation ID] [--challenge]
 *                 [--missed] [--dead-letter] [--new-type]`
 * Signs realistic Front events (lib/front/samples.ts) and POSTs them, like `stripe trigger`: to the local stack by
 * default, or to a deployed URL. Against the local stack each event is first recorded in its fake of Front's API,
 * as Front records every event it emits, so the reconciliation sees what Front would. Secrets: FRONT_RULE_SECRET /
 * FRONT_APP_SECRET (the first of a comma-separated list), else the local stack's development secrets.
 */
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseCli, usageError } from './cli.ts';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import { createDynamoEventStore } from '../lib/store/events.ts';
import table from '../lib/table.json' with { type: 'json' };
import { DEFAULT_DYNAMODB_PORT, localDynamoClient } from '../local/dynamodb.ts';
import { DEFAULT_SQS_PORT, LOCAL_PREFIX, localSqsClient } from '../local/sqs.ts';
import { sendOne, type DeadLetterTarget, type SendResult } from '../local/send.ts';
import { DEFAULT_FAKE_FRONT_PORT, DEFAULT_PORT, DEV_SECRETS } from '../local/stack.ts';

const USAGE = `Usage: npm run send -- [--type T] [--scheme rule|app] [--preview] [--count N] [--conversation ID]
                        [--url URL] [--challenge] [--missed] [--dead-letter] [--new-type]

  --type T           event type (default inbound); one of Front's: ${FRONT_EVENT_TYPES.join(', ')}
  --new-type         send --type T even though Front has not published it (a type Front may add later)
  --scheme S         rule (rule webhook, HMAC-SHA1) or app (application webhook, HMAC-SHA256 + timestamp); default rule
  --preview          an event preview (ids and links only) instead of the full event
  --count N          send N events (default 1), one after the other
  --conversation ID  put the events in this conversation (default: a new one for each event)
  --challenge        send an application-webhook sync with x-front-challenge (implies --scheme app)
  --missed           record the event in the local fake of Front's API without delivering the webhook: watch the
                     reconciliation recover it (npm start runs it every 30 s)
  --dead-letter      put a realistic dead letter in the local DLQ instead: the event as the process function
                     leaves it after its handler failed every attempt (then redrive it: npm run dlq)
  --url URL          where to POST; default http://127.0.0.1:\${PORT:-${DEFAULT_PORT}}/webhooks/front (the local stack)

The local stack's ports: PORT (${DEFAULT_PORT}, webhooks), SQS_PORT (${DEFAULT_SQS_PORT}), FAKE_FRONT_PORT (${DEFAULT_FAKE_FRONT_PORT}).`;

function fail(message: string): never {
  return usageError(message, USAGE);
}

const { values } = parseCli({
  options: {
    type: { type: 'string', default: 'inbound' },
    'new-type': { type: 'boolean', default: false },
    scheme: { type: 'string', default: 'rule' },
    preview: { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
    url: { type: 'string' },
    conversation: { type: 'string' },
    challenge: { type: 'boolean', default: false },
    missed: { type: 'boolean', default: false },
    'dead-letter': { type: 'boolean', default: false },
  },
}, USAGE);

const scheme = values.challenge ? 'app' : values.scheme;
if (scheme !== 'rule' && scheme !== 'app') fail(`--scheme must be rule or app, not "${values.scheme}".`);
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 10_000) fail(`--count must be a whole number from 1 to 10000, not "${values.count}".`);
if (!(FRONT_EVENT_TYPES as readonly string[]).includes(values.type) && !values['new-type']) {
  fail(`warning: "${values.type}" is not one of Front's event types, so nothing was sent.\nTo send a type Front has not published yet on purpose, add --new-type.`);
}
if (!/^[a-z][a-z0-9_]{0,79}$/.test(values.type)) fail(`--type must be lower-case letters, digits and _ (as Front's types are), not "${values.type}".`);
if ([values.missed, values['dead-letter'], values.challenge].filter(Boolean).length > 1) fail('Use only one of --missed, --dead-letter and --challenge.');
if ((values.missed || values['dead-letter']) && values.url) fail(`--${values.missed ? 'missed' : 'dead-letter'} works on the local stack only: drop --url.`);

const local = values.url === undefined;
const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? DEFAULT_PORT}/webhooks/front`;
const frontUrl = `http://127.0.0.1:${process.env.FAKE_FRONT_PORT ?? DEFAULT_FAKE_FRONT_PORT}`;
const envName = scheme === 'rule' ? 'FRONT_RULE_SECRET' : 'FRONT_APP_SECRET';
const fromEnv = process.env[envName]?.split(',').map((s) => s.trim()).find((s) => s.length > 0);
const secret = fromEnv ?? DEV_SECRETS[scheme];

const notRunning = (what: string) => `Is the local stack running? Start it with \`npm start\` (${what}; set PORT, SQS_PORT or FAKE_FRONT_PORT if you started it on other ports).`;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
}

async function localDlq(): Promise<DeadLetterTarget> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = await localSqsClient(`http://127.0.0.1:${process.env.SQS_PORT ?? DEFAULT_SQS_PORT}`);
  try {
    const dlqUrl = (await client.send(new GetQueueUrlCommand({ QueueName: `${LOCAL_PREFIX}-${queues.deadLetter.name}` }))).QueueUrl ?? '';
    const dynamo = localDynamoClient(`http://127.0.0.1:${process.env.DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT}`);
    return { client, dlqUrl, store: createDynamoEventStore({ client: dynamo, tableName: `${LOCAL_PREFIX}-${table.name}` }) };
  } catch (error) {
    console.error(`Cannot find the local DLQ: ${describe(error)}\n${notRunning(`SQS at 127.0.0.1:${process.env.SQS_PORT ?? DEFAULT_SQS_PORT}`)}`);
    process.exit(1);
  }
}

const deadLetter = values['dead-letter'] ? await localDlq() : undefined;
if (!deadLetter && !values.missed) console.error(fromEnv ? `signing with ${envName}` : `signing with the local DEVELOPMENT ${scheme} secret (${envName} not set)`);
let failures = 0;
for (let i = 0; i < count; i++) {
  let result: SendResult;
  try {
    result = await sendOne({
      url, scheme, secret, type: values.type, preview: values.preview, challenge: values.challenge, missed: values.missed,
      ...(values.conversation && { conversationId: values.conversation }),
      ...(local && { frontUrl }),
      ...(deadLetter && { deadLetter }),
    });
  } catch (error) {
    failures += 1;
    console.log(`error ${describe(error)}`);
    if (i === 0) console.error(local ? notRunning(`webhooks at ${url}, fake Front API at ${frontUrl}`) : `Is ${url} the right URL?`);
    continue;
  }
  if (result.kind === 'recorded') console.log(`recorded ${result.type} ${result.eventId} in Front only (no webhook): the next reconciliation recovers it`);
  else if (result.kind === 'dead_lettered') console.log(`dead-lettered ${result.type} ${result.eventId} (handler_failed after ${result.attempts} attempts): npm run dlq -- list, then npm run dlq -- redrive ${result.eventId}`);
  else {
    if (result.status >= 300) failures += 1;
    console.log(`${result.status} ${result.type}${result.eventId ? ` ${result.eventId}` : ''} ${result.body}`);
  }
}
if (failures > 0) process.exitCode = 1;
