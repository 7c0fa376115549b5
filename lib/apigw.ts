import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { WebhookRequest, WebhookResponse } from './ingest.ts';

/** An HTTP API (payload 2.0) event as the ingest logic reads it: the body exactly as Front sent it. */
export function fromHttpApiEvent(event: APIGatewayProxyEventV2): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  // HTTP APIs already lower-case header names; REST APIs and local callers may not.
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body ?? '';
  const base64 = Boolean(event.isBase64Encoded);
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath ?? event.requestContext.http.path,
    headers,
    body: base64 ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
    // A well-formed string is exactly what its UTF-8 bytes decode to: the ingest logic parses it as it is instead
    // of decoding the bytes back (tens of µs on a 50 KB event). A lone surrogate would not survive the round trip.
    text: !base64 && isWellFormed(raw) ? raw : undefined,
  };
}

/** String.prototype.isWellFormed (ES2024, in Node since 20), not in this project's ES2023 typings yet. */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

export function toHttpApiResult(response: WebhookResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}

/**
 * The HTTP API (payload 2.0) event API Gateway would build for a request: how the local stack and the
 * tests call the real handler. Text bodies are passed as-is, others base64-encoded, as API Gateway does.
 */
export function toHttpApiEvent(request: WebhookRequest & { sourceIp?: string }, now: Date = new Date()): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name.toLowerCase()] = value;
  const text = request.body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(request.body) && /json|text/.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: request.sourceIp ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: isText ? text : request.body.toString('base64'),
    isBase64Encoded: !isText,
  };
}
