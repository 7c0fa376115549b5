/**
 * Packages serverless.yml offline (osls, no AWS credentials, no network) and asserts on the generated
 * CloudFormation template: every promise of the deploy issue, so a regression in serverless.yml fails CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { DEFAULT_REQUESTS_PER_MINUTE } from '../lib/front/api.ts';
import { signedHeaders } from '../lib/front/samples.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import table from '../lib/table.json' with { type: 'json' };
import { processSettingsFromEnv } from '../lib/process/settings.ts';
import { codeSha256, envWithoutAws, removeServiceCopies, ROOT, serviceCopy, sls } from './helpers/service.ts';
import { sampleEvent as sampleEventForMetrics } from '../lib/front/samples.ts';
import { eventMessage, sendToQueue } from '../lib/queue.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { startFakeFront } from '../local/fake-front.ts';
import { buildProcessVariant, captureLogLines, lambdaContext, loadBundle, loadBundleFile, type ProcessBundleHandler } from './helpers/bundles.ts';
import { startTestSqs } from './helpers/sqs.ts';
import { startTestStore } from './helpers/store.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Resource {
  Type: string;
  Properties: JsonObject;
  DependsOn?: string | string[];
  Condition?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: JsonObject;
  Outputs?: JsonObject;
}
interface Packaged {
  /** The copy of the service it was packaged in (its own dist/ and .serverless/). */
  dir: string;
  /** What `sls package` printed. */
  output: string;
  template: Template;
  /** Every file the packaging wrote, as text: for the "no secret value anywhere" check. */
  allText: string;
  state: {
    service: { plugins?: string[]; functions: Record<string, { package?: { artifact?: string } }> };
    package: { individually?: boolean };
  };
}

const SECRET_CANARY = 'canary-secret-that-must-never-reach-the-template';
/** A stage only these tests use, with its own block in serverless.yml's params (added to the test's copy). */
const PARAMS_STAGE = 'paramcheck';
const PARAMS_STAGE_EMAIL = 'alarms-paramcheck@example.com';
const PARAMS_STAGE_BLOCK = `  ${PARAMS_STAGE}:
    alarmEmail: ${PARAMS_STAGE_EMAIL}
    throttleRateLimit: 321
    oldestMessageAlarmSeconds: 120
    dashboard: false
`;
const FUNCTION_FILES = readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort();

/**
 * `sls package` in a fresh copy of the service (so runs never share osls's .serverless/ scratch dir or a
 * dist/: the build plugin builds each copy's own), with every AWS_* variable removed and the secret values
 * set as a canary.
 */
async function slsPackage(args: string[], edit?: (dir: string) => void): Promise<Packaged> {
  const dir = serviceCopy(edit);
  const { stdout, stderr } = await sls(dir, ['package', ...args], envWithoutAws({ FRONT_RULE_SECRET: SECRET_CANARY, FRONT_APP_SECRET: SECRET_CANARY }));
  const out = join(dir, '.serverless');
  const read = (name: string) => readFileSync(join(out, name), 'utf8');
  return {
    dir,
    output: `${stdout}${stderr}`,
    template: JSON.parse(read('cloudformation-template-update-stack.json')) as Template,
    allText: readdirSync(out).map(read).join('\n'),
    state: JSON.parse(read('serverless-state.json')) as Packaged['state'],
  };
}

/** Gives the copy's serverless.yml a params block for PARAMS_STAGE, as a team adds one for each stage. */
function addStageParams(dir: string): void {
  const file = join(dir, 'serverless.yml');
  const yml = readFileSync(file, 'utf8');
  assert.match(yml, /^params:\n  default:\n/m, 'serverless.yml has params.default');
  writeFileSync(file, yml.replace(/^params:\n/m, `params:\n${PARAMS_STAGE_BLOCK}`));
}

let dev: Packaged;
let prod: Packaged;
/** A stage with a params block (alarmEmail and two overrides), packaged with no --param. */
let withParams: Packaged;
/** A stage no params block names: params.default only. */
let withoutParams: Packaged;

before(async () => {
  // No --param anywhere: every per-stage setting comes from serverless.yml.
  [dev, prod, withParams, withoutParams] = await Promise.all([
    slsPackage([]),
    slsPackage(['--stage', 'prod', '--region', 'us-east-1']),
    slsPackage(['--stage', PARAMS_STAGE], addStageParams),
    slsPackage(['--stage', 'noparams']),
  ]);
});

after(removeServiceCopies);

// ---------------------------------------------------------------- template helpers

function ofType(t: Template, type: string): Array<[string, Resource]> {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

function resource(t: Template, id: string): Resource {
  const r = t.Resources[id];
  assert.ok(r, `resource ${id} exists`);
  return r;
}

function obj(value: Json | undefined, what: string): JsonObject {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is an object`);
  return value;
}

function arr(value: Json | undefined, what: string): Json[] {
  assert.ok(Array.isArray(value), `${what} is an array`);
  return value;
}

const ref = (id: string): Json => ({ Ref: id });
const arn = (id: string): Json => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** The Lambda function resource whose FunctionName ends with `-<name>`. */
function lambda(t: Template, name: string): [string, Resource] {
  const found = ofType(t, 'AWS::Lambda::Function').find(([, r]) => String(r.Properties.FunctionName).endsWith(`-${name}`));
  assert.ok(found, `function ${name} exists`);
  return found;
}

function env(t: Template, name: string): JsonObject {
  return obj(obj(lambda(t, name)[1].Properties.Environment, 'Environment').Variables, 'Environment.Variables');
}

function roleOf(t: Template, name: string): [string, Resource] {
  const role = obj(lambda(t, name)[1].Properties.Role, 'Role');
  const id = arr(role['Fn::GetAtt'], 'Role GetAtt')[0];
  assert.equal(typeof id, 'string');
  return [id as string, resource(t, id as string)];
}

interface Statement { Effect: string; Action: string[]; Resource: Json[] }

function statements(role: Resource): Statement[] {
  return arr(role.Properties.Policies, 'Policies').flatMap((p) => {
    const doc = obj(obj(p, 'policy').PolicyDocument, 'PolicyDocument');
    return arr(doc.Statement, 'Statement').map((s) => {
      const st = obj(s, 'statement');
      const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : [v ?? null]);
      return { Effect: String(st.Effect), Action: list(st.Action).map(String), Resource: list(st.Resource) };
    });
  });
}

/** Action -> the resources it is allowed on, as JSON strings (intrinsics compared structurally). */
function grants(role: Resource): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of statements(role)) {
    assert.equal(s.Effect, 'Allow');
    for (const action of s.Action) {
      const set = out.get(action) ?? new Set<string>();
      for (const r of s.Resource) set.add(JSON.stringify(r));
      out.set(action, set);
    }
  }
  return out;
}

/** Every string inside a JSON value. */
function strings(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Every `${Name}` of an Fn::Sub must name a substitution, a resource (attribute) or a pseudo parameter. */
function unresolvedSubs(t: Template, sub: Json): string[] {
  const [text, vars] = typeof sub === 'string' ? [sub, {}] : [String(arr(sub, 'Fn::Sub')[0]), obj(arr(sub, 'Fn::Sub')[1], 'Sub vars')];
  const names = [...text.matchAll(/\$\{([^!}][^}]*)\}/g)].map((m) => m[1] ?? '');
  return names.filter((n) => !(n in vars) && !n.startsWith('AWS::') && !(n.split('.')[0]! in t.Resources));
}

/** An Fn::Sub body with every `${...}` replaced by a placeholder: what CloudFormation would hand over. */
function substituted(sub: Json): string {
  return String(arr(sub, 'Fn::Sub')[0]).replace(/\$\{[^!}][^}]*\}/g, 'X');
}

function evaluateCondition(t: Template, name: string): boolean {
  const evaluate = (c: Json): boolean => {
    const o = obj(c, 'condition');
    if ('Fn::Not' in o) return !evaluate(arr(o['Fn::Not'], 'Fn::Not')[0] ?? null);
    if ('Fn::Equals' in o) {
      const [a, b] = arr(o['Fn::Equals'], 'Fn::Equals');
      return JSON.stringify(a) === JSON.stringify(b);
    }
    throw new Error(`condition ${JSON.stringify(c)} is not one this test evaluates`);
  };
  return evaluate(obj(t.Conditions, 'Conditions')[name] ?? null);
}

function alarmOn(t: Template, namespace: string, metric: string): JsonObject {
  const found = ofType(t, 'AWS::CloudWatch::Alarm').filter(
    ([, r]) => r.Properties.Namespace === namespace && r.Properties.MetricName === metric,
  );
  assert.equal(found.length, 1, `one alarm on ${namespace} ${metric}`);
  return found[0]![1].Properties;
}

function dimension(alarm: JsonObject, name: string): Json | undefined {
  const d = arr(alarm.Dimensions, 'Dimensions').map((x) => obj(x, 'dimension')).find((x) => x.Name === name);
  return d?.Value;
}

/**
 * Evaluates a CloudWatch Logs JSON filter pattern against one parsed log line, for the subset the
 * template uses: `{ $.a = "x" && ($.b = "y" || $.c != "z") }` (string or number values).
 */
function matchesFilter(pattern: string, line: Record<string, unknown>): boolean {
  const tokens = pattern.trim().replace(/^\{|\}$/g, '').match(/\(|\)|&&|\|\||!=|=|"[^"]*"|\$\.[\w.]+|-?\d+(?:\.\d+)?|\*/g) ?? [];
  let at = 0;
  const next = () => tokens[at++];
  const term = (): boolean => {
    const token = next();
    if (token === '(') {
      const value = or();
      assert.equal(next(), ')');
      return value;
    }
    assert.ok(token !== undefined && token.startsWith('$.'), `field expected in ${pattern}`);
    const op = next();
    const raw = next() ?? '';
    const expected = raw.startsWith('"') ? raw.slice(1, -1) : Number(raw);
    const actual = token.slice(2).split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], line);
    // `$.field = *`: the field is there, whatever its value.
    if (raw === '*') return op === '=' ? actual !== undefined : actual === undefined;
    return op === '=' ? actual === expected : actual !== expected;
  };
  const and = (): boolean => {
    let value = term();
    while (tokens[at] === '&&') { next(); value = term() && value; }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (tokens[at] === '||') { next(); value = and() || value; }
    return value;
  };
  const result = or();
  assert.equal(at, tokens.length, `whole pattern read: ${pattern}`);
  return result;
}

/** Runs the built ingest bundle on HTTP API events in a child process and returns its JSON log lines. */
async function ingestLogLines(events: unknown[]): Promise<Array<Record<string, unknown>>> {
  const script = `const { handler } = await import(${JSON.stringify(join(dev.dir, 'dist', 'ingest', 'index.mjs'))});
    for (const event of JSON.parse(process.env.EVENTS)) await handler(event);`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      EVENTS: JSON.stringify(events),
      // Every request here is refused before any queue is used: nothing listens on these URLs.
      QUEUE_URL: 'http://127.0.0.1:9/000000000000/events.fifo',
      DLQ_URL: 'http://127.0.0.1:9/000000000000/events-dlq.fifo',
      FRONT_RULE_SECRET: 'the-rule-secret',
      FRONT_APP_SECRET: 'the-app-secret',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    timeout: 30_000,
  });
  // Powertools writes WARN and ERROR lines to stderr; Lambda sends both streams to the same log group.
  return `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---------------------------------------------------------------- tests

describe('packaging', () => {
  it('produces a template with no AWS credentials and no network', () => {
    assert.ok(Object.keys(dev.template.Resources).length > 0);
    assert.ok(Object.keys(prod.template.Resources).length > 0);
  });

  it('deploys one function per functions/*.ts, each the artifact its build made', () => {
    const deployed = ofType(dev.template, 'AWS::Lambda::Function').map(([, r]) => String(r.Properties.FunctionName)).sort();
    assert.deepEqual(deployed, FUNCTION_FILES.map((fn) => `front-webhooks-dev-${fn}`));
    assert.equal(dev.state.package.individually, true);
    for (const fn of FUNCTION_FILES) {
      const artifact = dev.state.service.functions[fn]?.package?.artifact;
      assert.equal(artifact, `dist/${fn}.zip`);
      assert.ok(statSync(join(dev.dir, artifact)).size > 0, `${artifact} is built`);
      const [, f] = lambda(dev.template, fn);
      assert.equal(f.Properties.Handler, 'index.handler');
      assert.equal(f.Properties.Runtime, 'nodejs22.x');
      assert.deepEqual(f.Properties.Architectures, ['arm64']);
    }
  });

  it('builds the functions first (the local build plugin) and deploys exactly the zips that build wrote', () => {
    for (const p of [dev, prod]) {
      assert.ok(p.state.service.plugins?.includes('./serverless/build-plugin.cjs'), 'serverless.yml lists the build plugin');
      assert.match(p.output, /^Built from the tree in \d+ ms: dist\/ingest\.zip /m);
      const versions = ofType(p.template, 'AWS::Lambda::Version');
      assert.equal(versions.length, FUNCTION_FILES.length);
      for (const fn of FUNCTION_FILES) {
        const [id] = lambda(p.template, fn);
        const version = versions.find(([, r]) => JSON.stringify(r.Properties.FunctionName) === JSON.stringify(ref(id)));
        assert.ok(version, `${fn} has a version`);
        assert.equal(version[1].Properties.CodeSha256, codeSha256(readFileSync(join(p.dir, 'dist', `${fn}.zip`))), fn);
      }
    }
  });

  it('names everything after the stage and region it is packaged for', () => {
    assert.ok(lambda(prod.template, 'ingest')[1].Properties.FunctionName === 'front-webhooks-prod-ingest');
    assert.equal(resource(prod.template, 'EventsQueue').Properties.QueueName, `front-webhooks-prod-${queues.events.name}`);
    assert.match(prod.allText, /"region": "us-east-1"/);
    assert.match(dev.allText, /"region": "eu-west-1"/);
  });

  it('checks every Ref, GetAtt, Sub and Condition points at something that exists', () => {
    for (const t of [dev.template, prod.template]) {
      const walk = (v: Json, where: string): void => {
        if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}[${i}]`));
        if (!v || typeof v !== 'object') return;
        if (typeof v.Ref === 'string') assert.ok(v.Ref in t.Resources || v.Ref.startsWith('AWS::'), `${where}: Ref ${v.Ref}`);
        if ('Fn::GetAtt' in v) assert.ok(String(arr(v['Fn::GetAtt'], 'GetAtt')[0]) in t.Resources, `${where}: GetAtt`);
        if ('Fn::Sub' in v) assert.deepEqual(unresolvedSubs(t, v['Fn::Sub'] ?? null), [], `${where}: Fn::Sub names`);
        for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
      };
      walk(t.Resources as unknown as Json, 'Resources');
      walk((t.Outputs ?? {}) as Json, 'Outputs');
      for (const [id, r] of Object.entries(t.Resources)) {
        if (r.Condition) assert.ok(r.Condition in (t.Conditions ?? {}), `${id}: Condition ${r.Condition}`);
        for (const dep of [r.DependsOn ?? []].flat()) assert.ok(dep in t.Resources, `${id}: DependsOn ${dep}`);
      }
    }
  });
});

describe('HTTP API', () => {
  it('routes POST /webhooks/front, and only that, to ingest with payload 2.0', () => {
    const routes = ofType(dev.template, 'AWS::ApiGatewayV2::Route');
    assert.deepEqual(routes.map(([, r]) => r.Properties.RouteKey), ['POST /webhooks/front']);
    const target = JSON.stringify(routes[0]![1].Properties.Target);
    const [integrationId, integration] = ofType(dev.template, 'AWS::ApiGatewayV2::Integration')[0]!;
    assert.ok(target.includes(integrationId));
    assert.equal(integration.Properties.PayloadFormatVersion, '2.0');
    assert.deepEqual(integration.Properties.IntegrationUri, arn(lambda(dev.template, 'ingest')[0]));
  });

  it('throttles the stage', () => {
    const [, stage] = ofType(dev.template, 'AWS::ApiGatewayV2::Stage')[0]!;
    const settings = obj(stage.Properties.DefaultRouteSettings, 'DefaultRouteSettings');
    assert.ok(Number(settings.ThrottlingRateLimit) > 0);
    assert.ok(Number(settings.ThrottlingBurstLimit) >= Number(settings.ThrottlingRateLimit));
  });

  it('outputs the URL to paste into Front', () => {
    const url = obj(obj(dev.template.Outputs, 'Outputs').WebhookUrl, 'WebhookUrl');
    assert.match(JSON.stringify(url.Value), /\/webhooks\/front"/);
  });
});

describe('queues', () => {
  const props = (id: string) => resource(dev.template, id).Properties;

  it('are the queues of lib/queues.json, with every attribute it lists', () => {
    for (const [id, q] of [['EventsQueue', queues.events], ['EventsDeadLetterQueue', queues.deadLetter]] as const) {
      assert.equal(props(id).QueueName, `front-webhooks-dev-${q.name}`);
      for (const [name, value] of Object.entries(q.attributes)) {
        assert.equal(String(props(id)[name]), value, `${id}.${name}`);
      }
    }
  });

  it('are FIFO in high-throughput mode and encrypted at rest', () => {
    for (const id of ['EventsQueue', 'EventsDeadLetterQueue']) {
      assert.equal(String(props(id).FifoQueue), 'true');
      assert.match(String(props(id).QueueName), /\.fifo$/);
      assert.equal(props(id).DeduplicationScope, 'messageGroup');
      assert.equal(props(id).FifoThroughputLimit, 'perMessageGroupId');
      assert.equal(props(id).SqsManagedSseEnabled, true);
    }
  });

  it('redrive to the FIFO DLQ after maxReceiveCount; the DLQ keeps messages 14 days', () => {
    assert.deepEqual(props('EventsQueue').RedrivePolicy, {
      deadLetterTargetArn: arn('EventsDeadLetterQueue'),
      maxReceiveCount: queues.events.maxReceiveCount,
    });
    assert.equal(Number(props('EventsDeadLetterQueue').MessageRetentionPeriod), 14 * 24 * 3600);
  });

  it('hide a received message for at least 6 times the process timeout', () => {
    const timeout = Number(lambda(dev.template, 'process')[1].Properties.Timeout);
    assert.equal(timeout, queues.processTimeoutSeconds);
    assert.ok(Number(props('EventsQueue').VisibilityTimeout) >= 6 * timeout);
  });
});

describe('state table', () => {
  const props = () => resource(dev.template, 'StateTable').Properties;

  it('is the table of lib/table.json: one string key, billed per request, encrypted, items expired by TTL', () => {
    assert.equal(props().TableName, `front-webhooks-dev-${table.name}`);
    assert.equal(props().BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(props().KeySchema, [{ AttributeName: table.partitionKey, KeyType: 'HASH' }]);
    assert.deepEqual(props().AttributeDefinitions, [{ AttributeName: table.partitionKey, AttributeType: 'S' }]);
    assert.deepEqual(props().TimeToLiveSpecification, { AttributeName: table.ttlAttribute, Enabled: true });
    assert.deepEqual(props().SSESpecification, { SSEEnabled: true });
  });

  it('is above what held-back messages can reach: SQS dead-letters only after 10 times the handler attempts', () => {
    assert.ok(queues.events.maxReceiveCount >= 10 * queues.processing.maxHandlerAttempts);
  });
});

describe('process trigger', () => {
  it('feeds process from the main queue in batches of 10 with partial batch responses and a concurrency cap', () => {
    const mappings = ofType(dev.template, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, 1);
    const m = mappings[0]![1].Properties;
    assert.deepEqual(m.EventSourceArn, arn('EventsQueue'));
    assert.deepEqual(m.FunctionName, arn(lambda(dev.template, 'process')[0]));
    assert.equal(m.BatchSize, 10);
    assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
    const max = Number(obj(m.ScalingConfig, 'ScalingConfig').MaximumConcurrency);
    assert.ok(max >= 2 && max <= 1000);
    // Lambda refuses a batching window on FIFO queues.
    assert.equal(m.MaximumBatchingWindowInSeconds, undefined);
  });
});

describe('reconciliation', () => {
  it('runs the reconcile function on a schedule, one run at a time, never retried, done before the next run', () => {
    const [id, fn] = lambda(dev.template, 'reconcile');
    const rules = ofType(dev.template, 'AWS::Events::Rule');
    assert.equal(rules.length, 1);
    const rule = rules[0]![1].Properties;
    assert.equal(rule.ScheduleExpression, 'rate(5 minutes)');
    assert.deepEqual(obj(arr(rule.Targets, 'Targets')[0], 'target').Arn, arn(id));
    assert.equal(fn.Properties.ReservedConcurrentExecutions, 1);
    assert.ok(Number(fn.Properties.Timeout) < 300, 'shorter than the schedule');
    const invokeConfig = ofType(dev.template, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties).find((p) => JSON.stringify(p.FunctionName).includes(id));
    assert.equal(invokeConfig?.MaximumRetryAttempts, 0);
  });

  it('gives reconcile and process the API token\'s parameter name and the stage\'s Front API settings, never a token', () => {
    for (const fn of ['process', 'reconcile']) {
      const e = env(prod.template, fn);
      assert.equal(e.FRONT_API_TOKEN_PARAM, '/front-webhooks/prod/api-token');
      // The stage default is the code's: `npm run backfill` assumes it unless told --requests-per-minute, and likewise
      // the record window (--record-days).
      assert.equal(e.FRONT_API_REQUESTS_PER_MINUTE, String(DEFAULT_REQUESTS_PER_MINUTE));
      assert.equal(e.RECORD_DAYS, String(table.recordDays));
      assert.ok(!('FRONT_API_TOKEN' in e));
    }
    assert.equal(env(prod.template, 'process').HYDRATE_PREVIEWS, 'false');
    const reconcile = env(prod.template, 'reconcile');
    assert.deepEqual(reconcile.QUEUE_URL, ref('EventsQueue'));
    assert.deepEqual(reconcile.STATE_TABLE, ref('StateTable'));
    assert.equal(reconcile.RECONCILE_TYPES, '');
    assert.equal(reconcile.RECONCILE_INBOXES, '');
  });
});

describe('logs', () => {
  it('gives each function its own log group with a retention', () => {
    for (const fn of FUNCTION_FILES) {
      const [id, f] = lambda(dev.template, fn);
      const groupId = `${id.replace(/LambdaFunction$/, '')}LogGroup`;
      const group = resource(dev.template, groupId);
      assert.equal(group.Properties.LogGroupName, `/aws/lambda/${String(f.Properties.FunctionName)}`);
      assert.ok(Number(group.Properties.RetentionInDays) > 0);
      assert.ok([f.DependsOn ?? []].flat().includes(groupId));
    }
  });
});

describe('IAM: least privilege', () => {
  it('has no shared role: each function has its own', () => {
    assert.equal(dev.template.Resources.IamRoleLambdaExecution, undefined);
    const roles = FUNCTION_FILES.map((fn) => roleOf(dev.template, fn)[0]);
    assert.equal(new Set(roles).size, roles.length);
  });

  it('never uses a wildcard action or resource', () => {
    for (const [id, role] of ofType(dev.template, 'AWS::IAM::Role')) {
      for (const s of statements(role)) {
        for (const action of s.Action) assert.ok(!action.includes('*'), `${id}: action ${action}`);
        for (const r of s.Resource) {
          // Strings (also inside Fn::Sub) must be full ARNs; a log group's Arn attribute is the one ":*" (its streams).
          for (const text of strings(r)) assert.ok(!text.includes('*'), `${id}: resource ${JSON.stringify(r)}`);
          assert.notEqual(r, '*');
        }
      }
    }
  });

  const param = (name: Json | undefined) =>
    JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${String(name)}` });

  it('lets ingest only write its logs, send to its two queues and read its two secret parameters', () => {
    const [, role] = roleOf(dev.template, 'ingest');
    const e = env(dev.template, 'ingest');
    const logs = new Set([JSON.stringify(arn('IngestLogGroup'))]);
    assert.deepEqual(
      grants(role),
      new Map([
        ['logs:CreateLogStream', logs],
        ['logs:PutLogEvents', logs],
        ['sqs:SendMessage', new Set([JSON.stringify(arn('EventsQueue')), JSON.stringify(arn('EventsDeadLetterQueue'))])],
        ['ssm:GetParameter', new Set([param(e.FRONT_RULE_SECRET_PARAM), param(e.FRONT_APP_SECRET_PARAM)])],
      ]),
    );
  });

  it('lets process only write its logs, consume its queue, send to the DLQ and read and write its state table items', () => {
    const [, role] = roleOf(dev.template, 'process');
    const logs = new Set([JSON.stringify(arn('ProcessLogGroup'))]);
    const queue = new Set([JSON.stringify(arn('EventsQueue'))]);
    const table = new Set([JSON.stringify(arn('StateTable'))]);
    assert.deepEqual(
      grants(role),
      new Map([
        ['logs:CreateLogStream', logs],
        ['logs:PutLogEvents', logs],
        ['sqs:ReceiveMessage', queue],
        ['sqs:DeleteMessage', queue],
        ['sqs:ChangeMessageVisibility', queue],
        ['sqs:GetQueueAttributes', queue],
        ['sqs:SendMessage', new Set([JSON.stringify(arn('EventsDeadLetterQueue'))])],
        ['dynamodb:GetItem', table],
        ['dynamodb:UpdateItem', table],
        ['ssm:GetParameter', new Set([param(env(dev.template, 'process').FRONT_API_TOKEN_PARAM)])],
      ]),
    );
  });

  it('lets reconcile only write its logs, queue to the main queue, read and write its state table items and read the API token', () => {
    const [, role] = roleOf(dev.template, 'reconcile');
    const logs = new Set([JSON.stringify(arn('ReconcileLogGroup'))]);
    const table = new Set([JSON.stringify(arn('StateTable'))]);
    assert.deepEqual(
      grants(role),
      new Map([
        ['logs:CreateLogStream', logs],
        ['logs:PutLogEvents', logs],
        ['sqs:SendMessage', new Set([JSON.stringify(arn('EventsQueue'))])],
        ['dynamodb:BatchGetItem', table],
        ['dynamodb:GetItem', table],
        ['dynamodb:UpdateItem', table],
        ['ssm:GetParameter', new Set([param(env(dev.template, 'reconcile').FRONT_API_TOKEN_PARAM)])],
      ]),
    );
  });

  it('names each role after its stage, region and function (sls deploy function resolves a role by its name)', () => {
    for (const [t, stage, region] of [[dev.template, 'dev', 'eu-west-1'], [prod.template, 'prod', 'us-east-1']] as const) {
      for (const fn of FUNCTION_FILES) {
        const name = roleOf(t, fn)[1].Properties.RoleName;
        assert.equal(name, `front-webhooks-${stage}-${region}-${fn}`);
        assert.ok(name.length <= 64, `${name}: IAM allows 64 characters`);
      }
    }
  });

  it('lets only Lambda assume the roles', () => {
    for (const fn of FUNCTION_FILES) {
      const [, role] = roleOf(dev.template, fn);
      assert.deepEqual(role.Properties.AssumeRolePolicyDocument, {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
  });
});

describe('environment and secrets', () => {
  it('gives ingest its queues and the per-stage names of its SSM parameters, never a secret value', () => {
    const e = env(prod.template, 'ingest');
    assert.deepEqual(e.QUEUE_URL, ref('EventsQueue'));
    assert.deepEqual(e.DLQ_URL, ref('EventsDeadLetterQueue'));
    assert.equal(e.FRONT_RULE_SECRET_PARAM, '/front-webhooks/prod/rule-secret');
    assert.equal(e.FRONT_APP_SECRET_PARAM, '/front-webhooks/prod/app-secret');
    assert.equal(env(dev.template, 'ingest').FRONT_RULE_SECRET_PARAM, '/front-webhooks/dev/rule-secret');
    for (const fn of FUNCTION_FILES) {
      for (const t of [dev.template, prod.template]) {
        assert.ok(!('FRONT_RULE_SECRET' in env(t, fn)) && !('FRONT_APP_SECRET' in env(t, fn)), `${fn}: no secret value env`);
      }
    }
    // The packaging ran with FRONT_*_SECRET set: nothing it wrote may contain them.
    assert.ok(!dev.allText.includes(SECRET_CANARY) && !prod.allText.includes(SECRET_CANARY));
  });

  it('gives process its queues, state table, retry settings and service name', () => {
    const e = env(prod.template, 'process');
    assert.deepEqual(e.QUEUE_URL, ref('EventsQueue'));
    assert.deepEqual(e.DLQ_URL, ref('EventsDeadLetterQueue'));
    assert.deepEqual(e.STATE_TABLE, ref('StateTable'));
    assert.equal(e.RECORD_DAYS, String(table.recordDays));
    assert.equal(e.MAX_HANDLER_ATTEMPTS, String(queues.processing.maxHandlerAttempts));
    assert.equal(e.MAX_RECEIVE_COUNT, String(queues.events.maxReceiveCount));
    assert.equal(e.HANDLER_TIMEOUT_SECONDS, String(queues.processing.handlerTimeoutSeconds));
    // The function itself refuses settings SQS's receive limit cannot honour (lib/process/settings.ts).
    assert.doesNotThrow(() => processSettingsFromEnv(Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v === 'string')) as NodeJS.ProcessEnv));
    assert.equal(e.POWERTOOLS_SERVICE_NAME, 'front-webhooks-prod-process');
  });
});

describe('alarms', () => {
  const t = () => dev.template;

  it('fires when the DLQ holds anything', () => {
    const a = alarmOn(t(), 'AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dimension(a, 'QueueName'), { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] });
    assert.equal(a.Threshold, 0);
    assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
  });

  it('fires when the oldest queued event gets old', () => {
    const a = alarmOn(t(), 'AWS/SQS', 'ApproximateAgeOfOldestMessage');
    assert.deepEqual(dimension(a, 'QueueName'), { 'Fn::GetAtt': ['EventsQueue', 'QueueName'] });
    assert.ok(Number(a.Threshold) > 0);
  });

  it('fires on any ingest 5xx', () => {
    const a = alarmOn(t(), 'AWS/ApiGateway', '5xx');
    assert.deepEqual(dimension(a, 'ApiId'), ref('HttpApi'));
    assert.equal(a.Threshold, 0);
  });

  it('fires on a spike of signature failures, counted from the ingest log line', () => {
    const filters = ofType(t(), 'AWS::Logs::MetricFilter').map(([, r]) => r.Properties);
    const filter = filters.find((f) => JSON.stringify(f.MetricTransformations).includes('"SignatureFailures"'));
    assert.ok(filter);
    assert.deepEqual(filter.LogGroupName, ref('IngestLogGroup'));
    assert.match(String(filter.FilterPattern), /\$\.outcome = "rejected"/);
    assert.match(String(filter.FilterPattern), /\$\.reason = "invalid_signature"/);
    const metric = obj(arr(filter.MetricTransformations, 'MetricTransformations')[0], 'transformation');
    const a = alarmOn(t(), String(metric.MetricNamespace), 'SignatureFailures');
    assert.ok(Number(a.Threshold) >= 1);
  });

  it('fires on errors of the process or the reconcile function: one alarm, process-errors, over both functions\' Errors', () => {
    const [, alarm] = ofType(t(), 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === 'front-webhooks-dev-process-errors') ?? [];
    assert.ok(alarm, 'the process-errors alarm keeps its name');
    const a = alarm.Properties;
    assert.equal(a.MetricName, undefined, 'a metric math alarm');
    const queries = arr(a.Metrics, 'Metrics').map((q) => obj(q, 'MetricDataQuery'));
    const watched = new Map(queries.filter((q) => q.MetricStat).map((q) => {
      const stat = obj(q.MetricStat, 'MetricStat');
      const metric = obj(stat.Metric, 'Metric');
      assert.deepEqual([metric.Namespace, metric.MetricName, stat.Stat, stat.Period, q.ReturnData], ['AWS/Lambda', 'Errors', 'Sum', 300, false]);
      const [dim] = arr(metric.Dimensions, 'Dimensions').map((d) => obj(d, 'dimension'));
      assert.equal(dim?.Name, 'FunctionName');
      return [JSON.stringify(dim?.Value), String(q.Id)];
    }));
    const process = watched.get(JSON.stringify(ref(lambda(t(), 'process')[0])));
    const reconcile = watched.get(JSON.stringify(ref(lambda(t(), 'reconcile')[0])));
    assert.ok(process && reconcile && watched.size === 2, 'the Errors of exactly the process and reconcile functions');
    // Lambda publishes Errors only for a period with invocations: without FILL, a period in which one function did not
    // run would make the sum missing, and the other's errors would go unseen.
    const returned = queries.filter((q) => q.ReturnData === true);
    assert.equal(returned.length, 1);
    assert.equal(returned[0]!.Expression, `FILL(${process}, 0) + FILL(${reconcile}, 0)`);
    assert.equal(a.Threshold, 0);
    assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(a.EvaluationPeriods, 1);
    assert.match(String(a.AlarmDescription), /reconcile/);
  });

  it('fires when the reconciliation recovered events the webhook path never delivered', () => {
    const a = alarmOn(t(), 'FrontWebhooks/dev', 'EventsRecovered');
    assert.equal(a.Dimensions, undefined);
    assert.equal(a.Threshold, 0);
    assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
  });

  it('fires when Front refuses the API token, in the process or the reconcile function, or the reconcile function cannot read it (one metric)', () => {
    const a = alarmOn(t(), 'FrontWebhooks/dev', 'FrontApiAuthFailures');
    assert.equal(a.Threshold, 0);
    const filters = metricFilters(t()).filter((f) => f.metric.MetricName === 'FrontApiAuthFailures');
    const groups = filters.map((f) => JSON.stringify(f.group)).sort();
    assert.deepEqual(groups, [JSON.stringify(ref('ProcessLogGroup')), JSON.stringify(ref('ReconcileLogGroup')), JSON.stringify(ref('ReconcileLogGroup'))]);
    assert.ok(filters.some((f) => matchesFilter(f.pattern, { message: 'front reconcile skipped', reason: 'token_unavailable' })));
    assert.match(String(a.AlarmDescription), /SSM/);
  });

  it('all notify the alarm topic', () => {
    for (const [id, a] of ofType(t(), 'AWS::CloudWatch::Alarm')) {
      assert.deepEqual(a.Properties.AlarmActions, [ref('AlarmTopic')], id);
    }
  });

  it('name the exact dead-letter command for their stage and region', () => {
    const a = alarmOn(prod.template, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    assert.match(String(a.AlarmDescription), /`npm run dlq -- list --stage prod --region us-east-1`/);
  });
});

describe('per-stage settings: params.<stage> in serverless.yml, no --param', () => {
  const subscription = (p: Packaged) => resource(p.template, 'AlarmEmailSubscription');
  const created = (p: Packaged) => evaluateCondition(p.template, String(subscription(p).Condition));
  const stageSettings = (p: Packaged) => {
    const [, stage] = ofType(p.template, 'AWS::ApiGatewayV2::Stage')[0]!;
    const routes = obj(stage.Properties.DefaultRouteSettings, 'DefaultRouteSettings');
    return {
      rate: routes.ThrottlingRateLimit,
      burst: routes.ThrottlingBurstLimit,
      oldest: alarmOn(p.template, 'AWS/SQS', 'ApproximateAgeOfOldestMessage').Threshold,
      signatures: ofType(p.template, 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.MetricName === 'SignatureFailures')?.[1].Properties.Threshold,
    };
  };

  it('e-mails the alarms of a stage whose block sets alarmEmail, on every deploy, with no flag', () => {
    assert.equal(created(withParams), true);
    assert.equal(subscription(withParams).Properties.Endpoint, PARAMS_STAGE_EMAIL);
    assert.equal(subscription(withParams).Properties.Protocol, 'email');
    assert.deepEqual(subscription(withParams).Properties.TopicArn, ref('AlarmTopic'));
  });

  it('subscribes nothing for a stage without alarmEmail', () => {
    assert.equal(created(withoutParams), false);
  });

  it('has a dashboard unless the stage says dashboard: false (3 are free per account, then $3 a month each)', () => {
    const dashboard = (p: Packaged) => resource(p.template, 'Dashboard');
    assert.equal(evaluateCondition(withoutParams.template, String(dashboard(withoutParams).Condition)), true);
    assert.equal(evaluateCondition(withParams.template, String(dashboard(withParams).Condition)), false);
  });

  it('takes each setting from the stage\'s block, and what it does not set from params.default', () => {
    const own = stageSettings(withParams);
    const defaults = stageSettings(withoutParams);
    assert.equal(own.rate, 321);
    assert.equal(own.oldest, 120);
    assert.equal(own.burst, defaults.burst);
    assert.equal(own.signatures, defaults.signatures);
    assert.ok(Number(defaults.signatures) > 0);
    assert.notEqual(defaults.rate, 321);
    assert.notEqual(defaults.oldest, 120);
  });
});

describe('dashboard', () => {
  it('is valid JSON once CloudFormation substitutes it, and shows every stage of the pipeline', () => {
    const [[, dashboard] = []] = ofType(dev.template, 'AWS::CloudWatch::Dashboard');
    assert.ok(dashboard);
    const sub = dashboard.Properties.DashboardBody;
    const body = JSON.parse(substituted(obj(sub, 'DashboardBody')['Fn::Sub'] ?? null)) as { widgets: JsonObject[] };
    const text = JSON.stringify(body);
    const wanted = {
      received: '"AWS/ApiGateway","Count"',
      'rejected by reason (a Logs Insights widget)': "outcome = 'rejected' | stats count(*) by reason",
      'ingest outcomes (a Logs Insights widget)': 'stats count(*) by outcome',
      'processed by type (a Logs Insights widget)': "filter message = 'front event processed' | stats count(*) by eventType",
      processed: '"EventsProcessed"',
      recovered: '"EventsRecovered"',
      failed: '"EventsFailed"',
      'dead-lettered': '"EventsDeadLettered"',
      lag: '"EventLag"',
      'DLQ depth': '"ApproximateNumberOfMessagesVisible"',
      durations: '"AWS/Lambda","Duration"',
      'reconcile errors': '"label":"reconcile errors"',
    };
    for (const [what, needle] of Object.entries(wanted)) assert.ok(text.includes(needle), `dashboard shows ${what}`);
    assert.ok(body.widgets.length >= 8);
  });
});

describe('saved Logs Insights queries', () => {
  const queriesOf = (t: Template) => new Map(ofType(t, 'AWS::Logs::QueryDefinition').map(([, r]) => [String(r.Properties.Name), r.Properties]));

  it('exist for processed events, an event journey, a conversation, rejected requests, cold starts, recovered events and reconciliation runs', () => {
    const q = queriesOf(dev.template);
    const find = (needle: string) => [...q.values()].find((x) => String(x.QueryString).includes(needle));
    const both = [ref('IngestLogGroup'), ref('ProcessLogGroup')];
    assert.deepEqual(find('filter message = "front event processed"')?.LogGroupNames, [ref('ProcessLogGroup')]);
    assert.deepEqual(find('filter eventId = ')?.LogGroupNames, both);
    assert.deepEqual(find('filter conversationId = ')?.LogGroupNames, both);
    assert.deepEqual(find('status >= 400')?.LogGroupNames, [ref('IngestLogGroup')]);
    // Lambda's REPORT lines are not logged: cold starts and durations come from the functions' own lines.
    assert.deepEqual(find('ispresent(cold_start)')?.LogGroupNames, both);
    assert.deepEqual(find('arrival = "recovered"')?.LogGroupNames, [ref('ProcessLogGroup'), ref('ReconcileLogGroup')]);
    assert.deepEqual(find('message like /front reconcile/')?.LogGroupNames, [ref('ReconcileLogGroup')]);
    for (const name of q.keys()) assert.ok(name.startsWith('front-webhooks-dev/'), `query ${name} is in the stage's folder`);
  });
});

/** Every metric filter of a template: the metric it feeds, and which lines it counts. */
function metricFilters(t: Template): Array<{ group: Json; pattern: string; metric: JsonObject }> {
  return ofType(t, 'AWS::Logs::MetricFilter').map(([, r]) => ({
    group: r.Properties.LogGroupName!,
    pattern: String(r.Properties.FilterPattern),
    metric: obj(arr(r.Properties.MetricTransformations, 'MetricTransformations')[0], 'transformation'),
  }));
}

describe('metrics', () => {
  it('are few: one namespace per stage, no dimensions, nothing but what an alarm or the dashboard reads', () => {
    const series = new Set(metricFilters(dev.template).map((f) => `${String(f.metric.MetricNamespace)}/${String(f.metric.MetricName)}`));
    assert.deepEqual([...series].sort(), [
      'FrontWebhooks/dev/EventLag', 'FrontWebhooks/dev/EventsDeadLettered', 'FrontWebhooks/dev/EventsFailed', 'FrontWebhooks/dev/EventsProcessed',
      'FrontWebhooks/dev/EventsRecovered', 'FrontWebhooks/dev/FrontApiAuthFailures', 'FrontWebhooks/dev/SignatureFailures',
    ]);
    for (const f of metricFilters(dev.template)) {
      assert.equal(f.metric.Dimensions, undefined, 'a dimension multiplies the series billed');
      // No default value: a metric with no data in an hour is not billed for it, so a quiet stage pays nothing.
      assert.equal(f.metric.DefaultValue, undefined);
    }
    assert.ok(!readFileSync(join(dev.dir, 'dist', 'process', 'index.mjs'), 'utf8').includes('CloudWatchMetrics'), 'no Embedded Metric Format lines from the process function');
  });

  it('log JSON without Lambda\'s START, END and REPORT lines, for every function', () => {
    for (const fn of FUNCTION_FILES) {
      assert.deepEqual(lambda(dev.template, fn)[1].Properties.LoggingConfig, { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' }, fn);
    }
  });
});

describe('metric filters against the lines the built functions write', () => {
  it('count only real signature failures among ingest\'s refusals', async () => {
    const body = Buffer.from(JSON.stringify({ id: 'evt_filtercheck', type: 'inbound' }));
    const request = (headers: Record<string, string>) =>
      toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: { 'content-type': 'application/json', ...headers }, body });
    const lines = await ingestLogLines([
      request({}),
      request(signedHeaders('rule', 'not-the-rule-secret', body)),
      request(signedHeaders('app', 'the-app-secret', body, Date.now() - 10 * 60_000)),
    ]);
    const requests = lines.filter((l) => l.message === 'front webhook request');
    assert.deepEqual(requests.map((l) => l.reason), ['missing_signature', 'invalid_signature', 'stale_timestamp']);
    const filter = metricFilters(dev.template).find((f) => f.metric.MetricName === 'SignatureFailures')!;
    assert.deepEqual(filter.group, ref('IngestLogGroup'));
    assert.deepEqual(requests.filter((l) => matchesFilter(filter.pattern, l)).map((l) => l.reason), ['invalid_signature', 'stale_timestamp']);
  });

  it('count processed, recovered, failed and dead-lettered events, their lag, and a refused or unreadable Front API token', async () => {
    // Prepare: the built process function (with a registry whose handler fails on demand) and the built reconcile
    // function, on fauxqs and dynalite, against a fake Front API that refuses their token.
    const sqs = await startTestSqs('metrics');
    const state = await startTestStore('metrics');
    const front = await startFakeFront({ token: 'the-right-token' });
    const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    try {
      const env = {
        QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl, STATE_TABLE: state.tableName, AWS_ENDPOINT_URL_SQS: new URL(sqs.queueUrl).origin,
        AWS_ENDPOINT_URL_DYNAMODB: state.endpoint, FRONT_API_URL: front.url, FRONT_API_TOKEN: 'a-refused-token',
        HYDRATE_PREVIEWS: 'true', MAX_HANDLER_ATTEMPTS: '1', POWERTOOLS_LOG_LEVEL: 'INFO',
      };
      await buildProcessVariant('tests/fixtures/handlers.ts', join(dir, 'index.mjs'));
      const processFn = (await loadBundleFile<{ handler: ProcessBundleHandler }>(join(dir, 'index.mjs'), env)).handler;
      const reconcileFn = (await loadBundle<{ handler: (e: unknown, c: ReturnType<typeof lambdaContext>) => Promise<void> }>('reconcile', env)).handler;
      const webhook = sampleEventForMetrics({ type: 'tag', emittedAt: Date.now() / 1000 - 2 });
      const recovered = sampleEventForMetrics({ type: 'inbound', emittedAt: Date.now() / 1000 - 60 });
      const failing = sampleEventForMetrics({ type: 'assign' });
      (failing.conversation as Record<string, unknown>).subject = '[fail 9]';
      const preview = sampleEventForMetrics({ type: 'tag', preview: true });
      for (const [event, arrival] of [[webhook, undefined], [recovered, 'recovered'], [failing, undefined], [preview, undefined]] as const) {
        const message = eventMessage(Buffer.from(JSON.stringify(event)), event, { scheme: 'rule', receivedAt: new Date().toISOString(), ...(arrival && { arrival }) });
        await sendToQueue(sqs.client, sqs.queueUrl, message, 5000);
      }
      front.record(sampleEventForMetrics({ type: 'tag', emittedAt: Date.now() / 1000 - 600 }));
      const records = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:q.fifo', 'us-east-1'));
      // Act
      const processed = await captureLogLines(() => processFn({ Records: records }, lambdaContext(30_000)));
      const reconciled = await captureLogLines(() => reconcileFn({}, lambdaContext(30_000)));
      // And a reconcile function that cannot read its token parameter (SSM unreachable): nothing is recovered either.
      const unreadable = (await loadBundle<{ handler: (e: unknown, c: ReturnType<typeof lambdaContext>) => Promise<void> }>('reconcile', {
        ...env, FRONT_API_TOKEN: '', FRONT_API_TOKEN_PARAM: '/front-webhooks/dev/api-token', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9',
      })).handler;
      const skipped = await captureLogLines(() => unreadable({}, lambdaContext(30_000)));
      assert.deepEqual(skipped.lines.map((l) => [l.level, l.message, l.reason]), [['ERROR', 'front reconcile skipped', 'token_unavailable']]);
      // Assess: each filter, on its function's log group, counts exactly the lines it should.
      const groups = new Map<string, Array<Record<string, unknown>>>([
        [JSON.stringify(ref('ProcessLogGroup')), processed.lines],
        [JSON.stringify(ref('ReconcileLogGroup')), [...reconciled.lines, ...skipped.lines]],
      ]);
      const counted = new Map<string, unknown[]>();
      for (const f of metricFilters(dev.template)) {
        const name = String(f.metric.MetricName);
        const lines = groups.get(JSON.stringify(f.group)) ?? [];
        const values = lines.filter((l) => matchesFilter(f.pattern, l)).map((l) => f.metric.MetricValue === '1' ? 1 : l[String(f.metric.MetricValue).replace(/^\$\./, '')]);
        counted.set(name, [...(counted.get(name) ?? []), ...values]);
      }
      assert.deepEqual(counted.get('EventsProcessed'), [1, 1]);
      assert.deepEqual(counted.get('EventsRecovered'), [1]);
      assert.deepEqual(counted.get('EventsFailed'), [1]);
      assert.deepEqual(counted.get('EventsDeadLettered'), [1]);
      assert.equal(counted.get('FrontApiAuthFailures')?.length, 3, 'a refused token in each function, and the unreadable one');
      const lags = counted.get('EventLag') as number[];
      assert.equal(lags.length, 2);
      assert.ok(lags.every((lag) => typeof lag === 'number' && lag >= 1000), `lags ${lags}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await front.close();
      await sqs.stop();
      await state.stop();
    }
  });
});
