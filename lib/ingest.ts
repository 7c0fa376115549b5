import type { SQSClient } from '@aws-sdk/client-sqs';
import { eventOf, type AppEnvelopeBody } from './front/event.ts';
import { validateBody } from './front/validate.ts';
import { parseJson } from './json.ts';
import {
  ATTR,
  MAX_MESSAGE_BYTES,
  QueueUnavailableError,
  contentId,
  encodeBody,
  encodeJsonBody,
  eventAttributes,
  failureAttributes,
  fifoId,
  groupIdOf,
  messageBytes,
  referenceMessage,
  sendToQueue,
  type QueuedMessage,
} from './queue.ts';
import { missingSecretMessage, SecretsUnavailableError, type SecretStore } from './secrets.ts';
import { isFresh, parseTimestamp, verifySignature, type Scheme } from './signature.ts';

export const WEBHOOK_PATH = '/webhooks/front';

/** An HTTP request as the ingest logic needs it: header names lower-cased, body as the bytes received. */
export interface WebhookRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
  /** The body as text, when the transport has it and `body` is exactly its UTF-8 encoding: saves decoding it again. */
  text?: string;
}

export interface WebhookResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type Outcome =
  | 'queued'
  | 'challenge'
  | 'ignored'
  | 'dead_lettered'
  | 'rejected'
  | 'too_large'
  | 'unavailable'
  | 'not_found';

/** The one line logged per request. Never a secret, a signature or a body. */
export interface IngestLogEntry {
  outcome: Outcome;
  status: number;
  scheme?: Scheme;
  eventId?: string;
  eventType?: string;
  conversationId?: string;
  reason?: string;
  detail?: string;
  /** Queued as a reference: the event was over SQS's size limit, the process function fetches it from Front. */
  reference?: true;
  bytes: number;
  durationMs: number;
}

export interface IngestDeps {
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  secrets: SecretStore;
  /** Upper bound for each SQS send, retries included. */
  sendDeadlineMs: number;
  log: (entry: IngestLogEntry) => void;
  now?: () => number;
}

type Result = Omit<IngestLogEntry, 'durationMs' | 'bytes'> & { response: WebhookResponse };

const JSON_HEADERS = { 'content-type': 'application/json' };

function reply(statusCode: number, body: object, headers: Record<string, string> = {}): WebhookResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function reject(status: number, error: string, message: string, scheme?: Scheme, headers?: Record<string, string>): Result {
  return {
    outcome: status === 404 || status === 405 ? 'not_found' : 'rejected',
    status,
    reason: error,
    ...(scheme && { scheme }),
    response: reply(status, { error, message }, headers),
  };
}

/**
 * Receives one Front webhook: authenticate, then parse and validate, then queue, and only then acknowledge.
 * Authentic requests that cannot be used are kept in the dead-letter queue with the reason;
 * unauthenticated ones are refused with 401 and leave no trace.
 */
export function createIngest(deps: IngestDeps): (request: WebhookRequest) => Promise<WebhookResponse> {
  const now = deps.now ?? Date.now;

  async function deadLetter(message: QueuedMessage, scheme: Scheme, reason: string, detail: string): Promise<Result> {
    await sendToQueue(deps.sqs, deps.dlqUrl, message, deps.sendDeadlineMs);
    return {
      outcome: 'dead_lettered',
      status: 202,
      scheme,
      reason,
      detail,
      ...(message.attributes[ATTR.eventId] && { eventId: message.attributes[ATTR.eventId] }),
      response: reply(202, {
        status: 'dead_lettered',
        reason,
        message: `The request is authentic but ${detail}. It was kept in the dead-letter queue for an operator to inspect and replay.`,
      }),
    };
  }

  /** Keeps an authentic body in the DLQ, or a summary of it when the body itself does not fit. */
  async function keepUnusable(raw: Buffer, scheme: Scheme, receivedAt: string, reason: string, detail: string, ids: { eventId?: string; eventType?: string } = {}): Promise<Result> {
    const { body, encoding } = encodeBody(raw);
    const attributes = {
      ...eventAttributes({ ...ids, scheme, receivedAt, encoding }),
      ...failureAttributes(reason, detail),
    };
    const id = `${reason}-${contentId(raw)}`;
    // Its own message group: in a FIFO queue a group shows only its first messages until they are deleted,
    // and dead letters of one reason have no order to keep, so each stays visible to `npm run dlq -- list`.
    const message: QueuedMessage = { body, attributes, groupId: id, deduplicationId: id };
    if (messageBytes(message) <= MAX_MESSAGE_BYTES) return deadLetter(message, scheme, reason, detail);
    return keepSummaryOfOversize(raw, scheme, receivedAt, ids, `${detail}; the body (${raw.length} bytes) is too large for the queue`);
  }

  async function keepSummaryOfOversize(raw: Buffer, scheme: Scheme, receivedAt: string, ids: { eventId?: string; eventType?: string }, detail: string): Promise<Result> {
    const sha256 = contentId(raw);
    const summary = { reason: 'payload_too_large', bytes: raw.length, sha256, ...ids };
    const message: QueuedMessage = {
      body: JSON.stringify(summary),
      groupId: `payload_too_large-${sha256}`,
      deduplicationId: `payload_too_large-${sha256}`,
      attributes: {
        ...eventAttributes({ ...ids, scheme, receivedAt, encoding: 'utf8' }),
        ...failureAttributes('payload_too_large', detail),
      },
    };
    await sendToQueue(deps.sqs, deps.dlqUrl, message, deps.sendDeadlineMs);
    return {
      outcome: 'too_large',
      status: 413,
      scheme,
      reason: 'payload_too_large',
      detail,
      ...ids,
      response: reply(413, {
        error: 'payload_too_large',
        message: `The request is authentic but ${detail}: a queued message holds at most ${MAX_MESSAGE_BYTES} bytes. ` +
          'A summary (size, SHA-256) was kept in the dead-letter queue for an operator to see.',
      }),
    };
  }

  /** What the guard around `handle` needs to know when something unexpected throws. */
  interface Progress { scheme?: Scheme; authentic: boolean; receivedAt?: string }

  async function handle(request: WebhookRequest, progress: Progress): Promise<Result> {
    const path = request.path.replace(/\/+$/, '');
    if (path !== WEBHOOK_PATH) {
      return reject(404, 'not_found', `Nothing here. Front webhooks are received at POST ${WEBHOOK_PATH}.`);
    }
    if (request.method !== 'POST') {
      return reject(405, 'method_not_allowed', `Use POST for ${WEBHOOK_PATH}.`, undefined, { allow: 'POST' });
    }

    // Authenticate. A timestamp header means the application-webhook scheme; none means a rule webhook.
    const timestampHeader = request.headers['x-front-request-timestamp'];
    const scheme: Scheme = timestampHeader === undefined ? 'rule' : 'app';
    progress.scheme = scheme;
    const signature = request.headers['x-front-signature'];
    if (!signature) {
      return reject(401, 'missing_signature', 'The X-Front-Signature header is missing: only requests signed by Front are accepted.', scheme);
    }
    let timestampMs: number | undefined;
    if (scheme === 'app') {
      // Stryker disable next-line StringLiteral: equivalent, the scheme is app only when this header is present (above).
      timestampMs = parseTimestamp(timestampHeader ?? '');
      if (timestampMs === undefined) {
        return reject(401, 'invalid_timestamp', 'X-Front-Request-Timestamp must be Unix time in milliseconds.', scheme);
      }
    }
    const secrets = await deps.secrets.get(scheme);
    if (!secrets) return reject(401, 'secret_not_configured', `Cannot verify this request: ${missingSecretMessage(scheme)}.`, scheme);
    if (!verifySignature(scheme, secrets, signature, request.body, timestampHeader)) {
      const which = scheme === 'rule' ? 'the rule webhook (API) secret' : 'the app secret, over "<timestamp>:<body>"';
      return reject(401, 'invalid_signature', `X-Front-Signature does not match the body signed with ${which}.`, scheme);
    }
    if (timestampMs !== undefined && !isFresh(timestampMs, now())) {
      return reject(401, 'stale_timestamp', 'X-Front-Request-Timestamp is more than 5 minutes from now: the request is refused as a possible replay. Check the server clock.', scheme);
    }

    // Authentic from here on: every path below either queues the body or keeps it in the DLQ.
    progress.authentic = true;
    const receivedAt = new Date(now()).toISOString();
    progress.receivedAt = receivedAt;
    const text = request.text ?? request.body.toString('utf8');
    const parsed = parseJson(text);
    if (!parsed.ok) return keepUnusable(request.body, scheme, receivedAt, 'invalid_json', parsed.detail);
    const validated = validateBody(scheme, parsed.value);
    if (!validated.ok) return keepUnusable(request.body, scheme, receivedAt, 'invalid_shape', `the body is ${validated.error}`);

    const event = eventOf(scheme, validated.body);
    if (!event) {
      // An app "sync" (Front saving the webhook settings) is never an event, whatever else it carries.
      const challenge = request.headers['x-front-challenge'];
      if (challenge !== undefined) return { outcome: 'challenge', status: 200, scheme, response: reply(200, { challenge }) };
      const type = (validated.body as AppEnvelopeBody).type;
      return { outcome: 'ignored', status: 200, scheme, eventType: type, response: reply(200, { status: 'ignored', message: `A "${type}" request carries no event; nothing was queued.` }) };
    }
    // An x-front-challenge header on anything but a sync is ignored: the event is queued as usual.
    const ids = { eventId: event.id, eventType: event.type };
    const conversationId = event.conversation?.id;
    const { body, encoding } = encodeJsonBody(request.body, text);
    const message: QueuedMessage = {
      body,
      groupId: groupIdOf(event),
      // Repeated deliveries of one event within SQS's 5-minute window collapse into one message.
      deduplicationId: fifoId(event.id),
      attributes: eventAttributes({ ...ids, scheme, receivedAt, encoding }),
    };
    if (messageBytes(message, encoding === 'utf8' ? request.body.length : undefined) > MAX_MESSAGE_BYTES) {
      // Over SQS's limit: queue a reference in the event's place, in its conversation's order; the process function
      // fetches the event from Front's API (GET /events/{id}) and dead-letters the reference, replayable, when the
      // stage has no API token. Acknowledged only once the reference is queued, as any event.
      const reference = referenceMessage({
        ...ids,
        ...(conversationId && { conversationId }),
        bytes: request.body.length,
        sha256: contentId(request.body),
        ...(scheme === 'app' && {
          appEventType: (validated.body as AppEnvelopeBody).type,
          companyId: (validated.body as AppEnvelopeBody).authorization.id,
        }),
      }, { scheme, receivedAt });
      await sendToQueue(deps.sqs, deps.queueUrl, reference, deps.sendDeadlineMs);
      return queued({
        status: 'queued',
        eventId: event.id,
        reference: true,
        message: `The body is ${request.body.length} bytes; a queued message holds at most ${MAX_MESSAGE_BYTES}. A reference was queued instead: the event is fetched from Front's API when it is processed.`,
      });
    }
    await sendToQueue(deps.sqs, deps.queueUrl, message, deps.sendDeadlineMs);
    return queued({ status: 'queued', eventId: event.id });

    function queued(answer: { status: 'queued'; eventId: string; reference?: true; message?: string }): Result {
      return {
        outcome: 'queued',
        status: 202,
        scheme,
        ...ids,
        ...(conversationId && { conversationId }),
        ...(answer.reference && { reference: true }),
        response: reply(202, answer),
      };
    }
  }

  function unavailable(error: QueueUnavailableError | SecretsUnavailableError): Result {
    const what = error instanceof QueueUnavailableError ? 'queue_unavailable' : 'secrets_unavailable';
    return {
      outcome: 'unavailable',
      status: 503,
      reason: what,
      detail: error.message,
      response: reply(503, {
        error: what,
        message: error instanceof SecretsUnavailableError
          ? `The signing secret could not be read (${error.where}), so the request could not be verified. Retry later.`
          : 'The event could not be queued, so it was not accepted. Retry later.',
      }, { 'retry-after': '5' }),
    };
  }

  /**
   * The last resort for an error nothing above expected (a bug): an authentic body is kept in the DLQ with the
   * reason and acknowledged, so it is never lost; anything else is refused as unreadable. Never a 5xx for input.
   */
  async function unexpected(request: WebhookRequest, progress: Progress, error: unknown): Promise<Result> {
    const detail = `an unexpected error occurred while handling it (${error instanceof Error ? error.name : typeof error})`;
    if (!progress.authentic || !progress.scheme) {
      return { ...reject(400, 'bad_request', 'The request could not be read as a Front webhook.', progress.scheme), detail };
    }
    try {
      return await keepUnusable(request.body, progress.scheme, progress.receivedAt ?? new Date(now()).toISOString(), 'internal_error', detail);
    } catch (keepError) {
      if (keepError instanceof QueueUnavailableError) return unavailable(keepError);
      return { ...reject(400, 'bad_request', 'The request could not be read as a Front webhook.', progress.scheme), detail };
    }
  }

  return async (request) => {
    const started = performance.now();
    // Stryker disable next-line ObjectLiteral: equivalent, an absent `authentic` is as false as `false`.
    const progress: Progress = { authentic: false };
    let result: Result;
    try {
      result = await handle(request, progress);
    } catch (error) {
      result = error instanceof QueueUnavailableError || error instanceof SecretsUnavailableError
        ? unavailable(error)
        : await unexpected(request, progress, error);
    }
    const { response, ...entry } = result;
    deps.log({ ...entry, bytes: request.body.length, durationMs: Math.round((performance.now() - started) * 100) / 100 });
    return response;
  };
}
