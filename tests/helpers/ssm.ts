import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SSMClient } from '@aws-sdk/client-ssm';

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

export function ssmClient(endpoint: string): SSMClient {
  return new SSMClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
  });
}

