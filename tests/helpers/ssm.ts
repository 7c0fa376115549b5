import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, beforeEach } from 'node:test';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { createSsmClient } from '../../lib/ssm.ts';
import { startTestSqs, type TestSqs } from './sqs.ts';

/**
 * A tiny SSM Parameter Store on loopback speaking the AWS JSON 1.1 protocol the SDK uses
 * (POST /, X-Amz-Target: AmazonSSM.GetParameter | AmazonSSM.GetParameters), so the secret store
 * is exercised through the real SSMClient.
 */
export interface FakeSsm {
  endpoint: string;
  /** Parameter name → value; a name mapped to undefined is a parameter SSM returns without a Value. */
  parameters: Map<string, string | undefined>;
  calls: Array<{ target: string; body: Record<string, unknown> }>;
  /** When set, every call answers this HTTP status with an InternalServerError. */
  failWith?: number;
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

export async function startFakeSsm(): Promise<FakeSsm> {
  const fake: FakeSsm = { endpoint: '', parameters: new Map(), calls: [], close: async () => {} };
  const parameter = (name: string) => ({ Name: name, Type: 'SecureString', Value: fake.parameters.get(name), Version: 1, DataType: 'text', ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}` });
  const server: Server = createServer(async (request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const body = await readJson(request);
    fake.calls.push({ target, body });
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(payload));
    };
    if (fake.failWith) return answer(fake.failWith, { __type: 'InternalServerError', message: 'fake SSM is failing' });
    if (target === 'AmazonSSM.GetParameter') {
      const name = String(body.Name);
      if (!fake.parameters.has(name)) return answer(400, { __type: 'ParameterNotFound', message: `Parameter ${name} not found.` });
      return answer(200, { Parameter: parameter(name) });
    }
    if (target === 'AmazonSSM.GetParameters') {
      const names = (body.Names as string[]) ?? [];
      return answer(200, {
        Parameters: names.filter((n) => fake.parameters.has(n)).map(parameter),
        InvalidParameters: names.filter((n) => !fake.parameters.has(n)),
      });
    }
    return answer(400, { __type: 'InvalidAction', message: `fake SSM does not implement ${target}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  fake.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

/** The functions' own SSM client (lib/ssm.ts), pointed at the fake. */
export function ssmClient(endpoint: string): SSMClient {
  return createSsmClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

export interface SecretsTestbed {
  /** fauxqs: where ingest queues what it accepts. */
  readonly sqs: TestSqs;
  /** The fake SSM: its parameters, the calls it got, and its failure switch. */
  readonly ssm: FakeSsm;
}

/**
 * The emulators a test file of the signing secrets runs on: fauxqs and the fake SSM, started before its tests,
 * emptied before each test (no parameters, no calls, not failing), stopped after them.
 */
export function secretsTestbed(prefix: string): SecretsTestbed {
  let sqs: TestSqs | undefined;
  let ssm: FakeSsm | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('secretsTestbed: used before its before() hook ran');
    return value;
  };
  before(async () => {
    sqs = await startTestSqs(prefix);
    ssm = await startFakeSsm();
  });
  after(async () => {
    await ssm?.close();
    await sqs?.stop();
  });
  beforeEach(async () => {
    await started(sqs).reset();
    const fake = started(ssm);
    fake.parameters.clear();
    fake.calls.length = 0;
    delete fake.failWith;
  });
  return { get sqs() { return started(sqs); }, get ssm() { return started(ssm); } };
}
