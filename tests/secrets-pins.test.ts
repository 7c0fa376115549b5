/**
 * The signing secrets as an operator configures them and as ingest answers with them: which setting wins, when a
 * value read from SSM is read again (without anything but requests going on), and how long a request waits when
 * SSM is failing, slow or unreachable (the SDK client the store builds when none is given).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { appEnvelope, sampleEvent } from '../lib/front/samples.ts';
import { createSecretStore, SECRET_MAX_AGE_SECONDS, secretSourcesFromEnv } from '../lib/secrets.ts';
import { startBlackhole, startSilentServer } from './helpers/hanging.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { secretsTestbed, ssmClient } from './helpers/ssm.ts';

const RULE_PARAM = '/front-webhooks/pins/rule-secret';
const APP_PARAM = '/front-webhooks/pins/app-secret';

const bed = secretsTestbed('secrets-pins');

/** The names of the parameters read so far, in order. */
const reads = () => bed.ssm.calls.filter((c) => c.target === 'AmazonSSM.GetParameter').map((c) => c.body.Name);

async function until(condition: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('which setting holds a scheme\'s secret', () => {
  it('uses the SSM parameter when FRONT_RULE_SECRET is set but empty or blank, and the value when it holds one', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'from-ssm');
    const withEnv = (value: string) => {
      const secrets = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET: value, FRONT_RULE_SECRET_PARAM: RULE_PARAM }), ssmClient(bed.ssm.endpoint));
      return ingestUnderTest(bed.sqs, { secrets });
    };
    // Act
    const empty = await withEnv('').send(signed('rule', sampleEvent(), { secret: 'from-ssm' }));
    const blank = await withEnv(' , ').send(signed('rule', sampleEvent(), { secret: 'from-ssm' }));
    const literal = withEnv('from-env');
    const byValue = await literal.send(signed('rule', sampleEvent(), { secret: 'from-env' }));
    const bySsm = await literal.send(signed('rule', sampleEvent(), { secret: 'from-ssm' }));
    // Assess
    assert.deepEqual([empty.status, blank.status, byValue.status, bySsm.status], [202, 202, 202, 401]);
    assert.deepEqual(reads(), [RULE_PARAM, RULE_PARAM], 'the parameter is read only where the value is empty');
  });

  it('verifies each scheme with its own literal value, without reading SSM', async () => {
    // Prepare
    const secrets = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET: 'rule-literal', FRONT_APP_SECRET: 'app-old, app-new', FRONT_APP_SECRET_PARAM: APP_PARAM }), ssmClient(bed.ssm.endpoint));
    const ingest = ingestUnderTest(bed.sqs, { secrets });
    // Act
    const statuses = [
      (await ingest.send(signed('rule', sampleEvent(), { secret: 'rule-literal' }))).status,
      (await ingest.send(signed('app', appEnvelope(sampleEvent()), { secret: 'app-new' }))).status,
      (await ingest.send(signed('app', appEnvelope(sampleEvent()), { secret: 'app-old' }))).status,
      (await ingest.send(signed('app', appEnvelope(sampleEvent()), { secret: 'rule-literal' }))).status,
    ];
    // Assess
    assert.deepEqual(statuses, [202, 202, 202, 401]);
    assert.deepEqual(reads(), []);
  });

  it('answers 401 naming both settings of the scheme when neither holds anything', async () => {
    // Prepare
    const secrets = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET: '', FRONT_RULE_SECRET_PARAM: '', FRONT_APP_SECRET_PARAM: '' }), ssmClient(bed.ssm.endpoint));
    const ingest = ingestUnderTest(bed.sqs, { secrets });
    // Act
    const rule = await ingest.send(signed('rule', sampleEvent()));
    const app = await ingest.send(signed('app', appEnvelope(sampleEvent())));
    // Assess
    assert.deepEqual([rule.status, rule.json.error, app.status, app.json.error], [401, 'secret_not_configured', 401, 'secret_not_configured']);
    assert.equal(rule.json.message, 'Cannot verify this request: no rule webhook (API) secret is configured: set FRONT_RULE_SECRET, or FRONT_RULE_SECRET_PARAM to the name of an SSM SecureString.');
    assert.equal(app.json.message, 'Cannot verify this request: no application webhook (app) secret is configured: set FRONT_APP_SECRET, or FRONT_APP_SECRET_PARAM to the name of an SSM SecureString.');
    assert.deepEqual(reads(), []);
  });

  it('reads at cold start every secret held in SSM, and only those', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'rule-from-ssm');
    bed.ssm.parameters.set(APP_PARAM, 'app-from-ssm');
    const both = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET_PARAM: RULE_PARAM, FRONT_APP_SECRET_PARAM: APP_PARAM }), ssmClient(bed.ssm.endpoint));
    const appOnly = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET: 'rule-literal', FRONT_APP_SECRET_PARAM: APP_PARAM }), ssmClient(bed.ssm.endpoint));
    // Act
    await both.preload();
    const afterBoth = reads();
    bed.ssm.calls.length = 0;
    await appOnly.preload();
    // Assess
    assert.deepEqual(afterBoth.sort(), [APP_PARAM, RULE_PARAM]);
    assert.deepEqual(reads(), [APP_PARAM]);
    assert.ok(bed.ssm.calls.every((c) => c.body.WithDecryption === true));
  });
});

describe('reading SSM', () => {
  it('joins requests that arrive together at a cold start into one read of the parameter', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'rule-from-ssm');
    const ingest = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET_PARAM: RULE_PARAM }), ssmClient(bed.ssm.endpoint)) });
    // Act
    const responses = await Promise.all([1, 2, 3].map(() => ingest.send(signed('rule', sampleEvent(), { secret: 'rule-from-ssm' }))));
    // Assess
    assert.deepEqual(responses.map((r) => r.status), [202, 202, 202]);
    assert.deepEqual(reads(), [RULE_PARAM]);
  });

  it('re-reads a value in the background once it is older than 5 minutes, never before, with nothing but requests going on', async () => {
    // Prepare
    let clock = 1_000_000;
    bed.ssm.parameters.set(RULE_PARAM, 'rule-before');
    const secrets = createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET_PARAM: RULE_PARAM }), ssmClient(bed.ssm.endpoint), () => clock);
    const ingest = ingestUnderTest(bed.sqs, { secrets });
    const status = async (secret: string) => (await ingest.send(signed('rule', sampleEvent(), { secret }))).status;
    assert.equal(await status('rule-before'), 202); // the cold read
    bed.ssm.parameters.set(RULE_PARAM, 'rule-after');
    // Act + Assess: exactly the max age is still fresh
    clock += SECRET_MAX_AGE_SECONDS * 1000;
    assert.equal(await status('rule-before'), 202);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(reads().length, 1, 'not read again at exactly the max age');
    assert.equal(await status('rule-after'), 401);
    // One millisecond older: this request is answered with the value in hand, a read starts behind it
    clock += 1;
    assert.equal(await status('rule-before'), 202);
    await until(() => reads().length === 2);
    await until(async () => (await status('rule-after')) === 202);
    assert.equal(await status('rule-before'), 401);
    // The new value is fresh again: no read per request
    assert.equal(reads().length, 2);
  });

  it('answers 503 secrets_unavailable for a parameter SSM returns without a value', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, undefined);
    const ingest = ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET_PARAM: RULE_PARAM }), ssmClient(bed.ssm.endpoint)) });
    // Act
    const response = await ingest.send(signed('rule', sampleEvent()));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.json.error, 'secrets_unavailable');
    assert.equal(ingest.logs[0]?.detail, `SSM parameter ${RULE_PARAM} in us-east-1 is empty`);
  });
});

describe('the SSM client the store builds (AWS_ENDPOINT_URL_SSM, as a deployed function reads its endpoint)', () => {
  const saved = process.env.AWS_ENDPOINT_URL_SSM;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
    else process.env.AWS_ENDPOINT_URL_SSM = saved;
  });
  const coldIngest = (endpoint: string) => {
    process.env.AWS_ENDPOINT_URL_SSM = endpoint;
    return ingestUnderTest(bed.sqs, { secrets: createSecretStore(secretSourcesFromEnv({ FRONT_RULE_SECRET_PARAM: RULE_PARAM })) });
  };

  it('reads the parameter through it', async () => {
    // Prepare
    bed.ssm.parameters.set(RULE_PARAM, 'rule-from-ssm');
    // Act
    const response = await coldIngest(bed.ssm.endpoint).send(signed('rule', sampleEvent(), { secret: 'rule-from-ssm' }));
    // Assess
    assert.equal(response.status, 202);
    assert.deepEqual(reads(), [RULE_PARAM]);
  });

  it('tries a failing SSM twice, then answers 503', async () => {
    // Prepare
    bed.ssm.failWith = 500;
    const ingest = coldIngest(bed.ssm.endpoint);
    // Act
    const response = await ingest.send(signed('rule', sampleEvent()));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.json.error, 'secrets_unavailable');
    assert.equal(reads().length, 2);
    assert.match(ingest.logs[0]?.detail ?? '', new RegExp(`^could not read SSM parameter ${RULE_PARAM} in us-east-1: fake SSM is failing`));
  });

  it('gives up on an SSM that never answers after two attempts of 1.5 s, well before Front\'s 5 s', { timeout: 15_000 }, async () => {
    // Prepare
    const silent = await startSilentServer();
    const started = performance.now();
    try {
      // Act
      const response = await coldIngest(silent.endpoint).send(signed('rule', sampleEvent()));
      // Assess
      const ms = performance.now() - started;
      assert.equal(response.status, 503);
      assert.equal(silent.connections, 2);
      assert.ok(ms >= 3000 && ms < 4500, `answered after ${Math.round(ms)} ms`);
    } finally {
      await silent.stop();
    }
  });

  it('gives up on an SSM it cannot connect to after two attempts of 1 s', { timeout: 15_000 }, async () => {
    // Prepare
    const blackhole = await startBlackhole();
    const started = performance.now();
    try {
      // Act
      const response = await coldIngest(blackhole.endpoint).send(signed('rule', sampleEvent()));
      // Assess
      const ms = performance.now() - started;
      assert.equal(response.status, 503);
      assert.ok(ms >= 2000 && ms < 2800, `answered after ${Math.round(ms)} ms`);
    } finally {
      await blackhole.stop();
    }
  });
});
