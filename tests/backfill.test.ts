/**
 * `npm run backfill` against the local stack: the command a user runs after an outage.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { sampleEvent } from '../lib/front/samples.ts';
import { createDynamoEventStore } from '../lib/store/events.ts';
import table from '../lib/table.json' with { type: 'json' };
import { localDynamoClient } from '../local/dynamodb.ts';
import { startFakeFront } from '../local/fake-front.ts';
import { startTestStack, type TestStack } from './helpers/local.ts';
import { startRegionalEndpoint } from './helpers/regional-endpoint.ts';
import { envWithoutAws } from './helpers/service.ts';
import { startTestSqs } from './helpers/sqs.ts';
import { startTestStore } from './helpers/store.ts';

const run = promisify(execFile);

describe('npm run backfill', () => {
  let t: TestStack;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    t = await startTestStack();
    env = {
      ...process.env,
      SQS_PORT: String(t.stack.sqsPort), DYNAMODB_PORT: String(t.stack.dynamoPort), FAKE_FRONT_PORT: new URL(t.stack.front.url).port,
    };
    delete env.FRONT_API_REQUESTS_PER_MINUTE;
  });
  after(async () => { await t.stop(); });

  const backfill = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', ...args], { env });
  /** The JSON line the script ends with. */
  const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

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

  it('takes its share of Front\'s rate limit from --requests-per-minute, the budget the stage\'s functions share', async () => {
    // Prepare: in this minute and the next five, the stage's callers were already granted 7 Front API requests.
    const dynamo = localDynamoClient(t.stack.dynamoEndpoint);
    const minute = Math.floor(Date.now() / 60_000);
    const budgetKeys = Array.from({ length: 6 }, (_, i) => ({ [table.partitionKey]: { S: `budget#${minute + i}` } }));
    for (const Key of budgetKeys) {
      await dynamo.send(new UpdateItemCommand({ TableName: t.stack.tableName, Key, UpdateExpression: 'SET granted = :n', ExpressionAttributeValues: { ':n': { N: '7' } } }));
    }
    t.stack.front.record(sampleEvent({ type: 'tag', emittedAt: Date.now() / 1000 - 30 }));
    try {
      // Act
      const spent = await backfill('--since', '5m', '--dry-run', '--requests-per-minute', '7', '--max-minutes', '0.1').catch((error: { code: number; stdout: string }) => error);
      const room = await backfill('--since', '5m', '--dry-run', '--requests-per-minute', '8');
      // Assess: a share of 7 a minute is spent; a share of 8 has one request left.
      assert.equal((spent as { code?: number }).code, 1);
      const stopped = summary(spent.stdout);
      assert.equal(stopped.stoppedBecause, 'rate_limited');
      assert.match(String(stopped.detail), /share of Front's rate limit \(7 per minute\) is spent/);
      assert.equal(summary(room.stdout).complete, true);
    } finally {
      for (const Key of budgetKeys) await dynamo.send(new DeleteItemCommand({ TableName: t.stack.tableName, Key }));
      dynamo.destroy();
    }
  });

  it('refuses a --requests-per-minute that is not a whole number from 1 to 1000, and the variable it replaced', async () => {
    for (const value of ['0', '2.5', 'many', '1001']) {
      const bad = await backfill('--since', '5m', '--requests-per-minute', value).catch((error: { code: number; stderr: string }) => error);
      assert.equal((bad as { code?: number }).code, 2, value);
      assert.match(bad.stderr, new RegExp(`--requests-per-minute must be a whole number from 1 to 1000, not "${value.replace('.', '\\.')}"`));
      assert.match(bad.stderr, /Usage: npm run backfill/);
    }
    const old = await run(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', '--since', '5m'], { env: { ...env, FRONT_API_REQUESTS_PER_MINUTE: '10' } })
      .catch((error: { code: number; stderr: string }) => error);
    assert.equal((old as { code?: number }).code, 2);
    assert.match(old.stderr, /FRONT_API_REQUESTS_PER_MINUTE is not read: pass --requests-per-minute 10/);
  });

  it('refuses a window older than the state table keeps its records, unless told that handlers may run again', async () => {
    // Prepare: Front emitted an event 6.5 days ago, processed then; records are kept 7 days, so its record has
    // expired by the time a backfill reaching back that far would ask (6 days is as far as a backfill goes).
    const event = sampleEvent({ type: 'tag', emittedAt: Date.now() / 1000 - 6.5 * 86_400 });
    t.stack.front.record(event);
    const dynamo = localDynamoClient(t.stack.dynamoEndpoint);
    await createDynamoEventStore({ client: dynamo, tableName: t.stack.tableName, now: () => Date.now() - 6.5 * 86_400_000 })
      .markProcessed(event.id, new Date(Date.now() - 6.5 * 86_400_000));
    dynamo.destroy();
    const requests = t.stack.front.requests.length;
    // Act
    const refused = await backfill('--since', '7d').catch((error: { code: number; stderr: string }) => error);
    const shorterWindow = await backfill('--since', '5d', '--record-days', '3').catch((error: { code: number; stderr: string }) => error);
    const untouched = t.stack.front.requests.length;
    const within = await backfill('--since', '6d', '--dry-run');
    const allowed = await backfill('--since', '7d', '--dry-run', '--allow-reprocessing');
    // Assess: refused before anything was listed, saying why and what to do.
    assert.equal((refused as { code?: number }).code, 2);
    assert.match(refused.stderr, /--since \S+ is further back than the state table remembers processed events: it keeps their records 7 days \(--record-days\)/);
    assert.match(refused.stderr, /handler would run again\. Start at \S+ or later \(--since 6d at most\), or add --allow-reprocessing/);
    assert.match(refused.stderr, /Usage: npm run backfill/);
    assert.equal((shorterWindow as { code?: number }).code, 2);
    assert.match(shorterWindow.stderr, /keeps their records 3 days \(--record-days\).*\(--since 2d at most\)/s);
    assert.equal(untouched, requests, 'nothing was listed');
    assert.equal(summary(within.stdout).complete, true);
    const reprocessed = summary(allowed.stdout);
    assert.equal(reprocessed.complete, true);
    assert.ok(Number(reprocessed.enqueued) >= 1, 'the old event, whose record expired, would be queued again');
    assert.match(allowed.stderr, /--allow-reprocessing: events emitted before \S+ are listed although their records may have expired/);
  });

  it('refuses a bad window with the usage, no stack trace', async () => {
    const bad = await backfill('--since', 'yesterday-ish').catch((error: { code: number; stderr: string }) => error);
    assert.equal((bad as { code?: number }).code, 2);
    assert.match(bad.stderr, /--since must be a duration/);
    assert.match(bad.stderr, /Usage: npm run backfill/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  });
});

describe('npm run backfill on a deployed stage', () => {
  it('reaches every AWS service of the stage in --region, whatever AWS_REGION the shell has', async () => {
    // Prepare: the stage `regions` deployed in us-east-1: its queue, state table and token parameter behind endpoints
    // that refuse, as AWS does, a request signed for another region. The shell's AWS_REGION is eu-central-1.
    const stage = 'regions';
    const sqs = await startTestSqs(`front-webhooks-${stage}`);
    const state = await startTestStore(`front-webhooks-${stage}`);
    const front = await startFakeFront({ token: 'the-stage-token' });
    const parameter = `/front-webhooks/${stage}/api-token`;
    const endpoints = {
      sqs: await startRegionalEndpoint('us-east-1', sqs.endpoint),
      dynamodb: await startRegionalEndpoint('us-east-1', state.endpoint),
      ssm: await startRegionalEndpoint('us-east-1', (body) => {
        const name = (JSON.parse(body) as { Name?: string }).Name;
        return name === parameter
          ? { status: 200, contentType: 'application/x-amz-json-1.1', body: { Parameter: { Name: name, Type: 'SecureString', Value: 'the-stage-token', Version: 1 } } }
          : { status: 400, contentType: 'application/x-amz-json-1.1', body: { __type: 'ParameterNotFound', message: name } };
      }),
    };
    try {
      const start = Date.now() / 1000 - 300;
      const events = Array.from({ length: 3 }, (_, i) => sampleEvent({ type: 'tag', emittedAt: start + i }));
      for (const event of events) front.record(event);
      await state.store.markProcessed(events[0]!.id, new Date());
      const env = envWithoutAws({
        AWS_REGION: 'eu-central-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SQS: endpoints.sqs.endpoint, AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb.endpoint, AWS_ENDPOINT_URL_SSM: endpoints.ssm.endpoint,
        FRONT_API_URL: front.url, FRONT_API_TOKEN: '',
      });
      delete env.FRONT_API_REQUESTS_PER_MINUTE;
      // Act
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', '--since', '15m', '--dry-run', '--stage', stage, '--region', 'us-east-1'], { env });
      // Assess: the state table said which event was processed, the queue was found, the token was read: all in us-east-1.
      const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      assert.deepEqual([summary.complete, summary.seen, summary.alreadyProcessed, summary.enqueued], [true, 3, 1, 2]);
      for (const [service, endpoint] of Object.entries(endpoints)) {
        assert.ok(endpoint.requests.length > 0, `${service} was called`);
        assert.deepEqual([...new Set(endpoint.requests.map((r) => r.region))], ['us-east-1'], `${service} requests signed for --region`);
      }
    } finally {
      for (const endpoint of Object.values(endpoints)) await endpoint.stop();
      await front.close();
      await sqs.stop();
      await state.stop();
    }
  });
});
