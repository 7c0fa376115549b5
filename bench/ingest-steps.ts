/**
 * Where ingest's CPU goes beyond a bare SendMessage: one bundle holding the rungs from "SendMessage with ingest's
 * client" up to the real ingest handler (functions/ingest.ts), each adding one piece of ingest's work. bench/ingest.ts
 * runs it in one process (bench/handler-worker.ts) and switches rung between rounds (`setStep`), so the rungs share
 * one heap and one JIT, and their differences are what each piece costs, not process noise.
 * Built with scripts/build.ts `bundleOptions`, like the functions. The rungs, in order:
 * - `send`: SendMessage of the body with the group and deduplication ids, on the client ingest builds
 *   (createSqsClient: bounded connect and request times, 3 attempts);
 * - `attributes`: the same, plus the message attributes ingest sets (lib/queue.ts eventAttributes);
 * - `deadline`: the same through sendToQueue, which bounds the whole send with an AbortSignal;
 * - `no-log`: createIngest (routing, signature, parse, ajv, encoding, the message) without its log line;
 * - `ingest`: the handler Lambda runs, its log line included.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as ingestHandler } from '../functions/ingest.ts';
import { fromHttpApiEvent, toHttpApiResult } from '../lib/apigw.ts';
import { ingestConfigFromEnv } from '../lib/config.ts';
import { createIngest } from '../lib/ingest.ts';
import { createSqsClient, eventAttributes, sendToQueue, toAttributes, type QueuedMessage } from '../lib/queue.ts';
import { createSecretStore, secretSourcesFromEnv } from '../lib/secrets.ts';
import type { Step } from './ingest.ts';

const config = ingestConfigFromEnv(process.env);
const sqs = createSqsClient(config.sendDeadlineMs);
const withoutLog = createIngest({
  sqs, queueUrl: config.queueUrl, dlqUrl: config.dlqUrl, secrets: createSecretStore(secretSourcesFromEnv(process.env)),
  sendDeadlineMs: config.sendDeadlineMs, log: () => {},
});

let step: Step = 'send';
export function setStep(next: Step): void {
  step = next;
}

const ACCEPTED: APIGatewayProxyStructuredResultV2 = { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"status":"queued"}' };

/** The event's message as ingest builds it, from the ids bench/ingest.ts puts in the x-bench-* headers. */
function messageOf(event: APIGatewayProxyEventV2): QueuedMessage {
  const id = event.headers['x-bench-deduplication-id'] ?? '';
  const eventType = event.headers['x-bench-event-type'] ?? '';
  return {
    body: event.body ?? '',
    groupId: event.headers['x-bench-group-id'] ?? '',
    deduplicationId: id,
    attributes: eventAttributes({ eventId: id, eventType, scheme: 'rule', receivedAt: new Date().toISOString(), encoding: 'utf8' }),
  };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  switch (step) {
    case 'send':
    case 'attributes': {
      const message = messageOf(event);
      await sqs.send(new SendMessageCommand({
        QueueUrl: config.queueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId,
        MessageDeduplicationId: message.deduplicationId,
        ...(step === 'attributes' && { MessageAttributes: toAttributes(message.attributes) }),
      }));
      return ACCEPTED;
    }
    case 'deadline':
      await sendToQueue(sqs, config.queueUrl, messageOf(event), config.sendDeadlineMs);
      return ACCEPTED;
    case 'no-log':
      return toHttpApiResult(await withoutLog(fromHttpApiEvent(event)));
    case 'ingest':
      return ingestHandler(event);
    default:
      throw new Error(`unknown step ${String(step)}`);
  }
}
