import { createIngest, type IngestLogEntry, type WebhookRequest, type WebhookResponse } from '../../lib/ingest.ts';
import { createSqsClient } from '../../lib/queue.ts';
import { createSecretStore, type SecretSource, type SecretStore } from '../../lib/secrets.ts';
import { signedHeaders } from '../../lib/front/samples.ts';
import type { Scheme } from '../../lib/signature.ts';
import type { TestSqs } from './sqs.ts';

export const RULE_SECRET = 'rule-secret-for-tests-0123456789';
export const APP_SECRET = 'app-secret-for-tests-abcdefghij';

export interface IngestUnderTest {
  send(request: Omit<Partial<WebhookRequest>, 'body'> & { body: Buffer | string }): Promise<{ status: number; headers: Record<string, string>; json: Record<string, unknown> }>;
  /** The handler itself, for requests built by the API Gateway adapter. */
  handle(request: WebhookRequest): Promise<WebhookResponse>;
  logs: IngestLogEntry[];
}

/** The ingest logic wired to fauxqs, as functions/ingest.ts wires it to SQS. */
export function ingestUnderTest(sqs: Pick<TestSqs, 'queueUrl' | 'dlqUrl' | 'endpoint'>, options: {
  rule?: SecretSource; app?: SecretSource; secrets?: SecretStore; now?: () => number; queueUrl?: string; dlqUrl?: string;
  endpoint?: string; sendDeadlineMs?: number;
} = {}): IngestUnderTest {
  const logs: IngestLogEntry[] = [];
  const sendDeadlineMs = options.sendDeadlineMs ?? 2500;
  const sqsClient = createSqsClient(sendDeadlineMs, options.endpoint ?? sqs.endpoint);
  const ingest = createIngest({
    sqs: sqsClient,
    queueUrl: options.queueUrl ?? sqs.queueUrl,
    dlqUrl: options.dlqUrl ?? sqs.dlqUrl,
    secrets: options.secrets ?? createSecretStore({
      rule: options.rule ?? { kind: 'value', value: RULE_SECRET },
      app: options.app ?? { kind: 'value', value: APP_SECRET },
    }),
    sendDeadlineMs,
    log: (entry) => logs.push(entry),
    ...(options.now && { now: options.now }),
  });
  return {
    logs,
    handle: ingest,
    async send(request) {
      const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
      const response = await ingest({ method: 'POST', path: '/webhooks/front', headers: {}, ...request, body });
      return { status: response.statusCode, headers: response.headers, json: JSON.parse(response.body) as Record<string, unknown> };
    },
  };
}

/** A request Front would send: the body signed under `scheme` with the test secrets. */
export function signed(scheme: Scheme, body: unknown, options: { secret?: string; timestampMs?: number; headers?: Record<string, string> } = {}): { headers: Record<string, string>; body: Buffer } {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const secret = options.secret ?? (scheme === 'rule' ? RULE_SECRET : APP_SECRET);
  return { headers: { ...signedHeaders(scheme, secret, raw, options.timestampMs), ...options.headers }, body: raw };
}
