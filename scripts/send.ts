/**
 * `npm run send -- --type inbound [--scheme rule|app] [--preview] [--count N] [--url URL] [--conversation ID] [--challenge]`
 * Signs realistic Front events (lib/front/samples.ts) and POSTs them, like `stripe trigger`: to the local stack
 * by default, or to a deployed URL. Secrets: FRONT_RULE_SECRET / FRONT_APP_SECRET (the first of a
 * comma-separated list), else the local stack's development secrets.
 */
import { parseArgs } from 'node:util';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import { appEnvelope, sampleEvent, signedHeaders, syncEnvelope } from '../lib/front/samples.ts';
import { DEFAULT_PORT, DEV_SECRETS } from '../local/stack.ts';

const USAGE = `Usage: npm run send -- [--type T] [--scheme rule|app] [--preview] [--count N] [--url URL] [--conversation ID] [--challenge]

  --type T           event type (default inbound); known: ${FRONT_EVENT_TYPES.join(', ')}
  --scheme S         rule (rule webhook, HMAC-SHA1) or app (application webhook, HMAC-SHA256 + timestamp); default rule
  --preview          an event preview (ids and links only) instead of the full event
  --count N          send N events (default 1), one after the other
  --conversation ID  put the events in this conversation (default: a new one for each event)
  --challenge        send an application-webhook sync with x-front-challenge (implies --scheme app)
  --url URL          default http://127.0.0.1:\${PORT:-${DEFAULT_PORT}}/webhooks/front`;

const { values } = parseArgs({
  options: {
    type: { type: 'string', default: 'inbound' },
    scheme: { type: 'string', default: 'rule' },
    preview: { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
    url: { type: 'string' },
    conversation: { type: 'string' },
    challenge: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const scheme = values.challenge ? 'app' : values.scheme;
if (scheme !== 'rule' && scheme !== 'app') fail(`--scheme must be rule or app, not "${values.scheme}".`);
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 10_000) fail(`--count must be a whole number from 1 to 10000, not "${values.count}".`);
const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? DEFAULT_PORT}/webhooks/front`;

const envName = scheme === 'rule' ? 'FRONT_RULE_SECRET' : 'FRONT_APP_SECRET';
const fromEnv = process.env[envName]?.split(',').map((s) => s.trim()).find((s) => s.length > 0);
const secret = fromEnv ?? DEV_SECRETS[scheme];
console.error(fromEnv ? `signing with ${envName}` : `signing with the local DEVELOPMENT ${scheme} secret (${envName} not set)`);

let failures = 0;
for (let i = 0; i < count; i++) {
  const event = sampleEvent({ type: values.type, preview: values.preview, ...(values.conversation && { conversationId: values.conversation }) });
  const body = JSON.stringify(values.challenge ? syncEnvelope() : scheme === 'app' ? appEnvelope(event) : event);
  const headers = {
    ...signedHeaders(scheme, secret, body),
    ...(values.challenge && { 'x-front-challenge': `challenge-${Date.now()}` }),
  };
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (!response.ok) failures += 1;
    console.log(`${response.status} ${values.challenge ? 'sync' : `${event.type} ${event.id}`} ${text}`);
  } catch (error) {
    failures += 1;
    console.log(`error ${event.id} ${error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error)}`);
    if (i === 0) console.error(`Is the stack running at ${url}? Start it with \`npm start\`.`);
  }
}
if (failures > 0) process.exitCode = 1;
