/**
 * The benchmarks' baseline: a Lambda handler that only sends the request body to SQS, with the same SDK, built with
 * the same esbuild options as the functions (scripts/build.ts `bundle`). It does none of ingest's work (no signature,
 * parse, validation, attributes, log line) and uses the SDK's defaults, so ingest's figures divided by its figures
 * are what ingest costs beyond the SendMessage any SQS-backed webhook receiver makes.
 * The group and deduplication ids ingest would use arrive in `x-bench-group-id` / `x-bench-deduplication-id`.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const sqs = new SQSClient({});
const queueUrl = process.env.QUEUE_URL;

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
  await sqs.send(new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageGroupId: event.headers['x-bench-group-id'],
    MessageDeduplicationId: event.headers['x-bench-deduplication-id'],
  }));
  return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"status":"queued"}' };
}
