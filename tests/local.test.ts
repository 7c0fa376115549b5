/**
 * `npm start` as a user runs it: local/stack.ts in a child process with the BUILT ingest and process
 * bundles, their JSON log lines on stdout (their metrics are counted from those lines), stopped by a signal, and started again on the
 * same ports. `npm run send` against it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { DEV_SECRETS } from '../local/stack.ts';
import { waitFor } from './helpers/local.ts';

interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, FRONT_RULE_SECRET: '', FRONT_APP_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function startStack(env: Record<string, string>): Promise<Child> {
  const child = run('local/stack.ts', [], env);
  await waitFor('the local stack to listen', () => child.stderr().includes('Ctrl-C stops') || child.process.exitCode !== null, 30_000);
  assert.equal(child.process.exitCode, null, `the stack exited early:\n${child.stderr()}`);
  return child;
}

async function postSigned(url: string, body: unknown): Promise<number> {
  const raw = JSON.stringify(body);
  const response = await fetch(url, { method: 'POST', headers: signedHeaders('rule', DEV_SECRETS.rule, raw), body: raw });
  await response.text();
  return response.status;
}

describe('npm start', () => {
  it('runs the built functions, logs to stdout, stops on a signal and starts again on the same ports', async () => {
    // Prepare
    const env = { PORT: String(await freePort()), SQS_PORT: String(await freePort()), DYNAMODB_PORT: String(await freePort()) };
    const url = `http://127.0.0.1:${env.PORT}/webhooks/front`;

    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Act
      const stack = await startStack(env);
      const event = sampleEvent({ type: 'inbound' });
      const status = await postSigned(url, event);
      await waitFor('the event processed', () => jsonLines(stack.stdout()).some((l) => l.message === 'front event processed' && l.eventId === event.id));
      stack.process.kill(signal);
      const code = await stack.exited;
      // Assess
      assert.equal(status, 202);
      assert.equal(code, 0, `exit code after ${signal}:\n${stack.stderr()}`);
      assert.match(stack.stderr(), new RegExp(`POST ${url.replaceAll('.', '\\.')}`));
      assert.match(stack.stderr(), /FRONT_RULE_SECRET not set: using the DEVELOPMENT secret/);
      const lines = jsonLines(stack.stdout());
      const ingestLine = lines.find((l) => l.message === 'front webhook request' && l.eventId === event.id);
      assert.equal(ingestLine?.outcome, 'queued');
      assert.equal(ingestLine?.level, 'INFO');
      const processed = lines.find((l) => l.message === 'front event processed');
      assert.equal(processed?.handler, 'inbound');
      assert.equal(processed?.scheme, 'rule');
      assert.equal(typeof processed?.lagMs, 'number', 'the EventLag metric is counted from this field');
      assert.equal(typeof processed?.function_request_id, 'string');
      assert.equal(lines.filter((l) => l._aws !== undefined).length, 0, 'no Embedded Metric Format lines');
      assert.ok(!stack.stdout().includes(DEV_SECRETS.rule), 'no secret in the function logs');
    }
  });

  it('npm run send signs sample events with the same development secret and prints each response', async () => {
    // Prepare
    const env = { PORT: String(await freePort()), SQS_PORT: String(await freePort()), DYNAMODB_PORT: String(await freePort()) };
    const stack = await startStack(env);
    try {
      // Act
      const send = run('scripts/send.ts', ['--type', 'tag', '--preview', '--count', '3', '--conversation', 'cnv_send'], env);
      const code = await send.exited;
      const challenge = run('scripts/send.ts', ['--challenge'], env);
      const challengeCode = await challenge.exited;
      await waitFor('three events processed', () => jsonLines(stack.stdout()).filter((l) => l.message === 'front event processed').length === 3);
      // Assess
      assert.equal(code, 0, send.stderr());
      const printed = send.stdout().trim().split('\n');
      assert.equal(printed.length, 3);
      for (const line of printed) assert.match(line, /^202 tag evt_\w+ \{"status":"queued","eventId":"evt_\w+"\}$/);
      assert.equal(challengeCode, 0);
      assert.match(challenge.stdout(), /^200 sync \{"challenge":"challenge-\d+"\}/);
      const processed = jsonLines(stack.stdout()).filter((l) => l.message === 'front event processed');
      assert.deepEqual(processed.map((l) => [l.conversationId, l.preview]), [['cnv_send', true], ['cnv_send', true], ['cnv_send', true]]);
    } finally {
      stack.process.kill('SIGINT');
      assert.equal(await stack.exited, 0);
    }
  });
});
