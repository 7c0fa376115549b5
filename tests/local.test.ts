/**
 * `npm start` as a user runs it: local/main.ts in a child process with the BUILT functions, their JSON log lines
 * (`--json`) or the readable lines on stdout, stopped by a signal (finishing what is in flight, keeping the state),
 * and started again on the same ports with the state back. `npm run send` and `npm run dlq` against it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import queues from '../lib/queues.json' with { type: 'json' };
import { sampleEvent, signedHeaders } from '../lib/front/samples.ts';
import { defineHandlers } from '../lib/handlers/types.ts';
import { readState } from '../local/persist.ts';
import { DEV_SECRETS } from '../local/stack.ts';
import { startTestStack, waitFor } from './helpers/local.ts';

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

/** Free ports for every listener of the stack, and a state file of its own. */
async function stackEnv(): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()), SQS_PORT: String(await freePort()), DYNAMODB_PORT: String(await freePort()), FAKE_FRONT_PORT: String(await freePort()),
    LOCAL_STATE_FILE: join(mkdtempSync(join(tmpdir(), 'local-state-')), 'state.json'),
  };
}

async function startStack(env: Record<string, string>, args: string[] = ['--json']): Promise<Child> {
  const child = run('local/main.ts', args, env);
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
  it('runs the built functions, prints their JSON lines with --json, stops on a signal and starts again on the same ports', async () => {
    // Prepare
    const env = await stackEnv();
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
    const env = await stackEnv();
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

describe('npm start, readable', () => {
  it('prints one plain line per request and per processed event when stdout is not a terminal', async () => {
    // Prepare
    const env = await stackEnv();
    const stack = await startStack(env, []);
    try {
      const event = sampleEvent({ type: 'inbound' });
      // Act
      assert.equal(await postSigned(`http://127.0.0.1:${env.PORT}/webhooks/front`, event), 202);
      await waitFor('the processed line', () => stack.stdout().includes('✓ processed'));
      // Assess
      const lines = stack.stdout().trim().split('\n');
      const request = lines.find((l) => l.includes('→ 202 queued'));
      const processed = lines.find((l) => l.includes('✓ processed'));
      assert.match(request ?? '', new RegExp(`^\\d\\d:\\d\\d:\\d\\d  → 202 queued +inbound +${event.id} +${event.conversation?.id} +rule  [\\d.]+ ms$`));
      assert.match(processed ?? '', new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ✓ processed +inbound +${event.id} +${event.conversation?.id} +handler inbound  [\\d.]+ ms  lag [\\d.]+ m?s$`));
      assert.ok(!stack.stdout().includes('\x1b['), 'no colour codes when stdout is not a terminal');
      assert.match(stack.stderr(), /retried after 1,2,4,8 s and dead-lettered after 5 attempts/);
    } finally {
      stack.process.kill('SIGINT');
      assert.equal(await stack.exited, 0);
    }
  });
});

describe('npm start keeps its state across a restart', () => {
  it('keeps the dead letters and the processed events: a redrive after the restart works, a processed event is skipped', async () => {
    // Prepare: a dead letter made by npm run send, and an event processed.
    const env = await stackEnv();
    const url = `http://127.0.0.1:${env.PORT}/webhooks/front`;
    let stack = await startStack(env);
    const send = run('scripts/send.ts', ['--type', 'tag', '--dead-letter'], env);
    assert.equal(await send.exited, 0, send.stderr());
    const letterId = /dead-lettered tag (evt_\w+)/.exec(send.stdout())?.[1];
    assert.ok(letterId, send.stdout());
    const event = sampleEvent({ type: 'inbound' });
    assert.equal(await postSigned(url, event), 202);
    await waitFor('the event processed', () => jsonLines(stack.stdout()).some((l) => l.message === 'front event processed' && l.eventId === event.id));
    // Act: stop (the state is saved), start again, redrive the letter, deliver the processed event again.
    stack.process.kill('SIGINT');
    assert.equal(await stack.exited, 0);
    assert.ok(existsSync(env.LOCAL_STATE_FILE!));
    stack = await startStack(env);
    try {
      assert.match(stack.stderr(), /restored 0 queued event\(s\), 1 dead letter\(s\)/);
      const listed = run('scripts/dlq.ts', ['list'], env);
      assert.equal(await listed.exited, 0, listed.stderr());
      const redrive = run('scripts/dlq.ts', ['redrive', letterId], env);
      assert.equal(await redrive.exited, 0, redrive.stderr());
      assert.equal(await postSigned(url, event), 202);
      await waitFor('the redriven letter processed and the repeat skipped', () => {
        const lines = jsonLines(stack.stdout());
        return lines.some((l) => l.message === 'front event processed' && l.eventId === letterId && l.arrival === 'redriven')
          && lines.some((l) => l.message === 'front event skipped' && l.eventId === event.id);
      });
      // Assess
      assert.match(listed.stdout(), new RegExp(`${letterId}\ttag\t.*handler_failed`));
      // As after a real dead-lettering, the state table counts the failed attempts: the redrive is the next one.
      const redriven = jsonLines(stack.stdout()).find((l) => l.message === 'front event processed' && l.eventId === letterId);
      assert.equal(redriven?.attempt, queues.processing.maxHandlerAttempts + 1);
    } finally {
      stack.process.kill('SIGINT');
      assert.equal(await stack.exited, 0);
      rmSync(join(env.LOCAL_STATE_FILE!, '..'), { recursive: true, force: true });
    }
  });
});

describe('stopping the local stack', () => {
  it('finishes an event in flight before it stops: it is processed once, its message deleted, nothing left to deliver again', async () => {
    // Prepare: a handler that takes a second, and a stack that keeps its state on stop.
    const dir = mkdtempSync(join(tmpdir(), 'local-stop-'));
    const stateFile = join(dir, 'state.json');
    let runs = 0;
    const t = await startTestStack({ stateFile, registry: defineHandlers({ default: async () => { runs += 1; await new Promise((r) => setTimeout(r, 1000)); } }) });
    try {
      const event = sampleEvent({ type: 'tag' });
      assert.equal((await t.post(event)).status, 202);
      await waitFor('the handler running', () => runs === 1);
      // Act
      await t.stop();
      // Assess: had the stop not waited, the message would still be in flight, saved, and delivered after a restart.
      assert.equal(runs, 1);
      assert.equal(t.processed().filter((l) => l.eventId === event.id).length, 1, 'the handler finished and its line was written');
      const saved = readState(stateFile);
      assert.deepEqual(saved?.queues.events, []);
      assert.ok(saved?.table.some((item) => item.pk?.S === `event#${event.id}` && item.processedAt?.S), 'its record is kept');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
