import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { appEnvelope, sampleEvent, signedHeaders, syncEnvelope } from '../lib/front/samples.ts';
import { ATTR } from '../lib/queue.ts';
import { APP_SECRET, RULE_SECRET } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

/** The deployed artifact, called as Lambda calls it: an HTTP API payload 2.0 event in, a structured result out. */
const BUNDLE = resolve('dist/ingest/index.mjs');
type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

let sqs: TestSqs;
let handler: Handler;
const saved = { ...process.env };

before(async () => {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\` first (\`npm test\` does)`);
  sqs = await startTestSqs('bundle');
  // The function reads its configuration at import, as on a Lambda cold start.
  Object.assign(process.env, {
    QUEUE_URL: sqs.queueUrl,
    DLQ_URL: sqs.dlqUrl,
    FRONT_RULE_SECRET: RULE_SECRET,
    FRONT_APP_SECRET: `previous-app-secret,${APP_SECRET}`,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  ({ handler } = await import(`${pathToFileURL(BUNDLE).href}?test=${Date.now()}`) as { handler: Handler });
});
after(async () => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  await sqs.stop();
});

/**
 * Calls the handler and returns the Powertools Logger lines it wrote (INFO to stdout, WARN and ERROR to stderr).
 * The test runner shares stdout with its own framing, so lines are picked out by their shape.
 */
async function call(event: APIGatewayProxyEventV2): Promise<{ result: APIGatewayProxyStructuredResultV2; lines: Array<Record<string, unknown>>; raw: string }> {
  const written: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => { written.push(Buffer.from(chunk).toString('utf8')); return true; }) as typeof stream.write;
  }
  try {
    const result = await handler(event);
    const raw = written.join('');
    const lines = (raw.match(/\{"level":.*\}/g) ?? []).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines, raw };
  } finally {
    streams.forEach((stream, i) => { stream.write = writes[i]!; });
  }
}

function post(headers: Record<string, string>, body: Buffer, path = '/webhooks/front', method = 'POST'): APIGatewayProxyEventV2 {
  return toHttpApiEvent({ method, path, headers, body });
}

describe('the built bundle dist/ingest/index.mjs', () => {
  it('queues a signed rule event sent base64-encoded and logs one INFO line', async () => {
    // Prepare
    const event = sampleEvent({ type: 'inbound' });
    const raw = Buffer.from(JSON.stringify(event));
    const apiEvent = post({ ...signedHeaders('rule', RULE_SECRET, raw), 'content-type': 'application/octet-stream' }, raw);
    // Act
    const { result, lines } = await call(apiEvent);
    // Assess
    assert.equal(apiEvent.isBase64Encoded, true);
    assert.equal(result.statusCode, 202);
    assert.deepEqual(JSON.parse(result.body ?? ''), { status: 'queued', eventId: event.id });
    const [message] = await sqs.drain(sqs.queueUrl);
    assert.equal(message?.Body, raw.toString('utf8'));
    assert.equal(message?.MessageAttributes?.[ATTR.eventId]?.StringValue, event.id);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.message, 'front webhook request');
    assert.equal(lines[0]?.level, 'INFO');
    assert.equal(lines[0]?.outcome, 'queued');
    assert.equal(lines[0]?.eventId, event.id);
    assert.equal(lines[0]?.eventType, 'inbound');
    assert.equal(lines[0]?.conversationId, event.conversation?.id);
    assert.equal(lines[0]?.scheme, 'rule');
  });

  it('answers the app challenge with the second of two comma-separated app secrets', async () => {
    // Prepare
    const raw = Buffer.from(JSON.stringify(syncEnvelope()));
    const apiEvent = post({ ...signedHeaders('app', APP_SECRET, raw), 'x-front-challenge': 'chl_bundle' }, raw);
    // Act
    const { result } = await call(apiEvent);
    // Assess
    assert.equal(result.statusCode, 200);
    assert.equal(result.headers?.['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(result.body ?? ''), { challenge: 'chl_bundle' });
  });

  it('refuses a bad signature with 401 and a WARN line holding no secret, signature or body', async () => {
    // Prepare
    const event = appEnvelope(sampleEvent());
    const raw = Buffer.from(JSON.stringify(event));
    const headers = signedHeaders('app', 'some-other-secret', raw);
    // Act
    const { result, lines, raw: logged } = await call(post(headers, raw));
    // Assess
    assert.equal(result.statusCode, 401);
    assert.deepEqual(Object.keys(JSON.parse(result.body ?? '')).sort(), ['error', 'message']);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 'WARN');
    assert.equal(lines[0]?.outcome, 'rejected');
    assert.equal(lines[0]?.reason, 'invalid_signature');
    for (const secret of [RULE_SECRET, APP_SECRET, 'previous-app-secret', headers['x-front-signature']!, event.payload!.id]) {
      assert.ok(!logged.includes(secret), `the log must not contain ${secret}`);
    }
  });

  it('answers 404 and 405 with JSON errors', async () => {
    // Act
    const notFound = await call(post({}, Buffer.from('{}'), '/elsewhere'));
    const wrongMethod = await call(post({}, Buffer.alloc(0), '/webhooks/front', 'GET'));
    // Assess
    assert.equal(notFound.result.statusCode, 404);
    assert.equal(JSON.parse(notFound.result.body ?? '').error, 'not_found');
    assert.equal(wrongMethod.result.statusCode, 405);
    assert.equal(JSON.parse(wrongMethod.result.body ?? '').error, 'method_not_allowed');
  });

  it('reads AWS credentials from the environment only: without them, 503 and a log line that says so', async () => {
    // Prepare: a fresh process, as a cold start, with everything but credentials
    const raw = Buffer.from(JSON.stringify(sampleEvent()));
    const event = post(signedHeaders('rule', RULE_SECRET, raw), raw);
    const code = `const { handler } = await import(${JSON.stringify(pathToFileURL(BUNDLE).href)});
      const result = await handler(JSON.parse(process.env.EVENT));
      process.stderr.write('RESULT ' + JSON.stringify(result));`;
    const env = {
      PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint, FRONT_RULE_SECRET: RULE_SECRET, EVENT: JSON.stringify(event),
    };
    // Act
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolveRun, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', code], { env, timeout: 30_000 }, (error, out, err) =>
        error ? reject(Object.assign(error, { stderr: err })) : resolveRun({ stdout: out, stderr: err }));
    });
    // Assess
    const result = JSON.parse(/RESULT (.*)$/m.exec(stderr)?.[1] ?? '{}') as APIGatewayProxyStructuredResultV2;
    assert.equal(result.statusCode, 503);
    assert.match(stdout + stderr, /"detail":"[^"]*No AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    // The default chain's other providers are not in the bundle at all.
    const bundled = readFileSync(BUNDLE, 'utf8');
    for (const provider of ['fromSSO', 'fromIni', 'fromProcess', 'fromTokenFile', 'fromInstanceMetadata']) {
      assert.ok(!bundled.includes(provider), `${provider} is not bundled`);
    }
  });
});
