import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appEnvelope, sampleEvent } from '../lib/front/samples.ts';
import { createSecretStore, secretSourcesFromEnv } from '../lib/secrets.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { secretsTestbed, ssmClient } from './helpers/ssm.ts';

const RULE_PARAM = '/front-webhooks/test/rule-secret';
const APP_PARAM = '/front-webhooks/test/app-secret';
const env = { FRONT_RULE_SECRET_PARAM: RULE_PARAM, FRONT_APP_SECRET_PARAM: APP_PARAM };

const bed = secretsTestbed('ssm');

describe('secrets from SSM Parameter Store', () => {
  it('verifies both schemes with decrypted SecureStrings, any of several secrets, read once and cached', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'ssm-rule-old,ssm-rule-new');
    bed.ssm.parameters.set(APP_PARAM, 'ssm-app-secret');
    const secrets = createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint));
    const ingest = ingestUnderTest(bed.sqs, { secrets });
    // Act
    await secrets.preload();
    const statuses = [
      (await ingest.send(signed('rule', sampleEvent(), { secret: 'ssm-rule-old' }))).status,
      (await ingest.send(signed('rule', sampleEvent(), { secret: 'ssm-rule-new' }))).status,
      (await ingest.send(signed('app', appEnvelope(sampleEvent()), { secret: 'ssm-app-secret' }))).status,
      (await ingest.send(signed('rule', sampleEvent(), { secret: 'not-in-ssm' }))).status,
    ];
    // Assess
    assert.deepEqual(statuses, [202, 202, 202, 401]);
    const reads = bed.ssm.calls.filter((c) => c.target === 'AmazonSSM.GetParameter');
    assert.deepEqual(reads.map((c) => c.body.Name).sort(), [APP_PARAM, RULE_PARAM]);
    assert.ok(reads.every((c) => c.body.WithDecryption === true), 'SecureStrings are read decrypted');
    assert.equal(bed.ssm.calls.length, 2, 'each parameter is read once (at preload), then cached');
    assert.equal((await bed.sqs.drain(bed.sqs.queueUrl)).length, 3);
  });

  it('picks up a rotated value after 5 minutes without making a request wait on SSM, and keeps the last good value when SSM fails', async () => {
    // Prepare
    let clock = 1_000_000;
    bed.ssm.parameters.set(RULE_PARAM, 'rule-before');
    bed.ssm.parameters.set(APP_PARAM, 'app-secret');
    const secrets = createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint), () => clock);
    const ingest = ingestUnderTest(bed.sqs, { secrets });
    await secrets.preload();
    const status = async (secret: string) => (await ingest.send(signed('rule', sampleEvent(), { secret }))).status;
    // Act + Assess: rotated in SSM, but the cached value is still fresh
    bed.ssm.parameters.set(RULE_PARAM, 'rule-after');
    assert.equal(await status('rule-before'), 202);
    assert.equal(await status('rule-after'), 401);
    // Past the max age: the stale value still answers this request while a background read replaces it
    clock += 5 * 60 * 1000 + 1;
    assert.equal(await status('rule-before'), 202);
    await secrets.preload(); // waits for the background read (it joins the one in flight)
    assert.equal(await status('rule-after'), 202);
    assert.equal(await status('rule-before'), 401);
    // SSM fails on the next refresh: the last good value keeps verifying, no 503
    bed.ssm.failWith = 500;
    clock += 5 * 60 * 1000 + 1;
    assert.equal(await status('rule-after'), 202);
    await secrets.preload();
    assert.equal(await status('rule-after'), 202);
    assert.equal((await bed.sqs.drain(bed.sqs.queueUrl)).length, 5);
  });

  it('answers 503 secrets_unavailable when the parameter does not exist', async () => {
    // Prepare
    const ingest = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint)) });
    // Act
    const response = await ingest.send(signed('rule', sampleEvent(), { secret: 'anything' }));
    // Assess
    assert.equal(response.status, 503);
    assert.deepEqual(Object.keys(response.json).sort(), ['error', 'message']);
    assert.equal(response.json.error, 'secrets_unavailable');
    assert.match(ingest.logs[0]?.detail ?? '', new RegExp(RULE_PARAM));
    // Which parameter and region it tried, so a parameter put in another region is found at once.
    assert.match(String(response.json.message), new RegExp(`SSM parameter ${RULE_PARAM} in us-east-1`));
    assert.match(ingest.logs[0]?.detail ?? '', new RegExp(`SSM parameter ${RULE_PARAM} in us-east-1`));
    assert.equal((await bed.sqs.drain(bed.sqs.queueUrl)).length, 0);
  });

  it('answers 503 secrets_unavailable when SSM fails, and when the parameter is empty', async () => {
    // Prepare
    bed.ssm.failWith = 500;
    const failing = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint)) });
    // Act
    const duringOutage = await failing.send(signed('app', appEnvelope(sampleEvent()), { secret: 'anything' }));
    delete bed.ssm.failWith;
    bed.ssm.parameters.set(RULE_PARAM, ' , ');
    const empty = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint)) });
    const withEmptyParameter = await empty.send(signed('rule', sampleEvent(), { secret: 'anything' }));
    // Assess
    assert.equal(duringOutage.status, 503);
    assert.equal(duringOutage.json.error, 'secrets_unavailable');
    assert.equal(withEmptyParameter.status, 503);
    assert.equal(withEmptyParameter.json.error, 'secrets_unavailable');
    assert.match(empty.logs[0]?.detail ?? '', /is empty/);
    assert.match(String(withEmptyParameter.json.message), new RegExp(`SSM parameter ${RULE_PARAM} in us-east-1`));
  });

  it('answers 503 before Front gives up when SSM cannot be reached', async () => {
    // Prepare
    const unreachable = ssmClient('http://127.0.0.1:9'); // discard port: nothing listens there
    const ingest = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv(env), unreachable) });
    const started = performance.now();
    // Act
    const response = await ingest.send(signed('rule', sampleEvent(), { secret: 'anything' }));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.json.error, 'secrets_unavailable');
    assert.ok(performance.now() - started < 5000);
  });

  it('never logs a secret read from SSM', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'ssm-rule-secret-value');
    const ingest = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv(env), ssmClient(bed.ssm.endpoint)) });
    // Act
    await ingest.send(signed('rule', sampleEvent(), { secret: 'ssm-rule-secret-value' }));
    await ingest.send(signed('rule', sampleEvent(), { secret: 'wrong' }));
    // Assess
    assert.deepEqual(ingest.logs.map((l) => l.status), [202, 401]);
    for (const line of ingest.logs.map((l) => JSON.stringify(l))) assert.ok(!line.includes('ssm-rule-secret-value'));
  });
});
