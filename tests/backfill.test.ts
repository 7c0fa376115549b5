/**
 * `npm run backfill` against the local stack: the command a user runs after an outage.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sampleEvent } from '../lib/front/samples.ts';
import { startTestStack, type TestStack } from './helpers/local.ts';

const run = promisify(execFile);

describe('npm run backfill', () => {
  let t: TestStack;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    t = await startTestStack();
    env = {
      ...process.env,
      SQS_PORT: String(t.stack.sqsPort), DYNAMODB_PORT: String(t.stack.dynamoPort), FAKE_FRONT_PORT: new URL(t.stack.front.url).port,
      FRONT_API_REQUESTS_PER_MINUTE: '600',
    };
  });
  after(async () => { await t.stop(); });

  const backfill = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', ...args], { env });

  it('counts in a dry run, then queues what Front emitted in the window and was never processed, and only that', async () => {
    // Prepare: 20 events in the last ten minutes, 5 of them delivered (and processed), 15 never.
    const start = Date.now() / 1000 - 600;
    const events = Array.from({ length: 20 }, (_, i) => sampleEvent({ type: 'tag', emittedAt: start + i * 10 }));
    for (const event of events) t.stack.front.record(event);
    const delivered = events.slice(0, 5);
    for (const event of delivered) assert.equal((await t.post(event)).status, 202);
    await t.waitProcessed(delivered.map((e) => e.id));
    // Act
    const dry = await backfill('--since', '15m', '--dry-run');
    const real = await backfill('--since', '15m');
    await t.waitProcessed(events.map((e) => e.id));
    // Assess
    const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.deepEqual([summary(dry.stdout).seen, summary(dry.stdout).alreadyProcessed, summary(dry.stdout).enqueued, summary(dry.stdout).dryRun], [20, 5, 15, true]);
    assert.deepEqual([summary(real.stdout).seen, summary(real.stdout).alreadyProcessed, summary(real.stdout).enqueued, summary(real.stdout).complete], [20, 5, 15, true]);
    assert.match(real.stderr, /pages 2 · seen 20 · already processed 5 · enqueued 15/);
    for (const event of events) assert.equal(t.processed().filter((l) => l.eventId === event.id).length, 1);
    assert.equal(t.processed().filter((l) => l.arrival === 'recovered').length, 15);
  });

  it('stops when its time is up and prints the command that resumes it', async () => {
    // Act: a window with events and no time to list it.
    t.stack.front.record(sampleEvent({ type: 'tag', emittedAt: Date.now() / 1000 - 30 }));
    const stopped = await backfill('--since', '1h', '--max-minutes', '0.01').catch((error: { code: number; stdout: string; stderr: string }) => error);
    // Assess
    assert.equal((stopped as { code?: number }).code, 1);
    assert.match(stopped.stderr, /Resume with:\n {2}npm run backfill -- --since \d{4}-\d\d-\d\dT[\d:.]+Z --until \d{4}-/);
  });

  it('refuses a bad window with the usage, no stack trace', async () => {
    const bad = await backfill('--since', 'yesterday-ish').catch((error: { code: number; stderr: string }) => error);
    assert.equal((bad as { code?: number }).code, 2);
    assert.match(bad.stderr, /--since must be a duration/);
    assert.match(bad.stderr, /Usage: npm run backfill/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });
});
