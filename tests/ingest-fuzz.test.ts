/**
 * The property-based test of issue 7, at the entry point Lambda calls: the BUILT ingest bundle's handler, given
 * API Gateway HTTP API (payload 2.0) events, with fauxqs in-process behind it; then everything it queued goes through
 * the real process logic, with dynalite as the state table.
 *
 * Three properties (random requests, requests signed as Front signs them, signed requests mutated), then two checks
 * over all of them. The oracle is independent of the code under test: a request is authentic when it carries the
 * signature its scheme demands over the exact bytes (rule: base64 HMAC-SHA1 of the body with the rule secret; app:
 * base64 HMAC-SHA256 of `<timestamp>:` and the body with the app secret, canonical) and, for app, a timestamp
 * within 5 minutes. Then:
 * - no throw, never a 5xx, a JSON answer;
 * - forged or unsigned: 401 (404/405 for another path or method, 400 for what is not an HTTP API event), nothing stored;
 * - authentic: 200 for a sync (`{challenge}` only when the request carries x-front-challenge), 202 queued for an event
 *   (a challenge header on it is ignored; an event too large for SQS is queued as a reference to it), 202
 *   dead_lettered for an unusable body, 413 when an unusable body is too large for SQS;
 * - every 2xx and 413 is found afterwards: queued in the main queue, byte for byte (a reference: with the size and
 *   SHA-256 of the bytes), with FIFO ids SQS accepts; dead_lettered and 413 in the DLQ with their reason; nothing
 *   else in either queue;
 * - every event answered 202 queued is handled exactly once by the process logic (a reference with the event as
 *   the fake of Front's API serves it), a redelivery skipped by the state table, and nothing queued is
 *   dead-lettered by it.
 *
 * The seed is fixed (FUZZ_SEED overrides it) and in the suite's name; fast-check prints it, with the shrunk
 * counterexample, on failure. FUZZ_VERBOSE=1 lists which generated features reached which answer.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { countMessages } from '../lib/dlq.ts';
import { defineHandlers, type FrontEventHandler } from '../lib/handlers/types.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { DEFAULT_SETTINGS } from '../lib/process/settings.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { ATTR, decodeBody, MAX_MESSAGE_BYTES } from '../lib/queue.ts';
import { FrontApiClient, InMemoryRateBudget } from '../lib/front/api.ts';
import type { FrontEventBody } from '../lib/front/event.ts';
import { startFakeFront, type FakeFront } from '../local/fake-front.ts';
import type { Scheme } from '../lib/signature.ts';
import { loadBundle, type IngestHandler } from './helpers/bundles.ts';
import { APP_SECRET, RULE_SECRET } from './helpers/ingest.ts';
import { metricsOf, recordingLogger, type LogRecord } from './helpers/local.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';
import { startTestStore, type TestStore } from './helpers/store.ts';
import { nearLimitEvent, nearLimitNotJson, onceIn, oversizeSync, printable, signedBody, type Expected, type FrontBody } from './helpers/webhook-arbitraries.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
const RUNS = { random: 2500, signed: 3500, mutated: 4000 };
/** Front's replay window, and the margin the generators keep from its edge (the handler's clock runs on meanwhile). */
const WINDOW_MS = 5 * 60 * 1000;
const EDGE_MS = 10_000;
const WEBHOOK_PATH = '/webhooks/front';
/** SQS's rule for MessageGroupId and MessageDeduplicationId. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

let sqs: TestSqs;
let state: TestStore;
let handler: IngestHandler;
const savedEnv = { ...process.env };

before(async () => {
  sqs = await startTestSqs('fuzz');
  state = await startTestStore('fuzz');
  ({ handler } = await loadBundle<{ handler: IngestHandler }>('ingest', {
    // The queue URLs' own origin (resolved in-process), so the SDK does not warn at every send that they differ.
    QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: new URL(sqs.queueUrl).origin,
    FRONT_RULE_SECRET: RULE_SECRET, FRONT_APP_SECRET: APP_SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT',
  }));
});
after(async () => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  await sqs.stop();
  await state.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// The oracle: written from Front's documentation (../shared/front/webhooks.md §1.3, §2.3, §2.4) and the README's
// "What Front gets back", not from lib/.

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The signature Front sends for these bytes: what the oracle accepts, and how the tests sign. */
function frontSignature(scheme: Scheme, secret: string, body: Buffer, timestamp?: string): string {
  return scheme === 'rule'
    ? createHmac('sha1', secret).update(body).digest('base64')
    : createHmac('sha256', secret).update(`${timestamp}:`).update(body).digest('base64');
}

/** A request as the handler's event carries it: the exact bytes, and the header names as given. */
interface Wire {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Sent base64-encoded (isBase64Encoded), as API Gateway does for binary bodies and may do for any. */
  base64: boolean;
}

/** Header names are case-insensitive; the generators never send one name twice. */
function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

type Authenticity = { authentic: true; scheme: Scheme } | { authentic: false; scheme: Scheme; why: 'missing' | 'wrong' | 'stale' };

/** Authentic: the canonical signature of the scheme over the exact bytes; for app, a fresh millisecond timestamp. */
function authenticity(wire: Wire, sentAt: number): Authenticity {
  const timestamp = header(wire.headers, 'x-front-request-timestamp');
  const scheme: Scheme = timestamp === undefined ? 'rule' : 'app';
  const given = header(wire.headers, 'x-front-signature');
  if (!given) return { authentic: false, scheme, why: 'missing' };
  // Unix time in milliseconds: digits only; more than 16 of them is past the year 300,000, no time Front sends.
  if (scheme === 'app' && !/^[0-9]{1,16}$/.test(timestamp!)) return { authentic: false, scheme, why: 'wrong' };
  // RFC 9110 §5.5: leading and trailing spaces and tabs are not part of a field value.
  const signature = given.replace(/^[ \t]+|[ \t]+$/g, '');
  const expected = frontSignature(scheme, scheme === 'rule' ? RULE_SECRET : APP_SECRET, wire.body, timestamp);
  if (signature !== expected) return { authentic: false, scheme, why: 'wrong' };
  if (scheme === 'app' && Math.abs(Number(timestamp) - sentAt) > WINDOW_MS) return { authentic: false, scheme, why: 'stale' };
  return { authentic: true, scheme };
}

function parseBody(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The event a parsed body carries for its scheme (rule: the body; app: the envelope's payload), if any. */
function eventIn(scheme: Scheme, value: unknown): Record<string, unknown> | undefined {
  const event = scheme === 'rule' ? value : isObject(value) ? value.payload : undefined;
  return isObject(event) ? event : undefined;
}

/** One conversation's events share a FIFO group; an event without a conversation is its own group. */
function groupKeyOf(event: Record<string, unknown>): string {
  const conversation = event.conversation;
  return String(isObject(conversation) && conversation.id !== undefined ? conversation.id : event.id);
}

/** Bytes of the body the queued message may hold at most: each byte not printable ASCII may be escaped to 5. */
function sizeClass(bytes: Buffer): 'under' | 'over' | 'either' {
  if (bytes.length > MAX_MESSAGE_BYTES) return 'over';
  let odd = 0;
  for (const byte of bytes) if (byte >= 0x80 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)) odd += 1;
  // 6000: attributes (ids up to 256 characters, a failure detail up to 1 KiB) with room to spare.
  return bytes.length + 4 * odd + 6000 < MAX_MESSAGE_BYTES ? 'under' : 'either';
}

/** What an authentic request may be answered: as its generator said, or as its bytes say when it could not. */
type Answerable =
  | Exclude<Expected, { kind: 'unknown' }>
  /** Not JSON: dead-lettered as invalid_json, or 413 when too large. */
  | { kind: 'not-json'; size: 'under' | 'over' | 'either' }
  /** JSON, but not a sync: queued if it is a Front event, else dead-lettered as invalid_shape; or 413 when too large. */
  | { kind: 'parsed'; size: 'under' | 'over' | 'either' };

function answerableFromBytes(scheme: Scheme, bytes: Buffer): Answerable {
  const parsed = parseBody(bytes);
  const size = sizeClass(bytes);
  if (!parsed.ok) return { kind: 'not-json', size };
  const v = parsed.value;
  // Front's sync (webhooks.md §2.3): `{type: "sync", authorization: {id}}`, whatever else it carries.
  if (scheme === 'app' && isObject(v) && v.type === 'sync' && isObject(v.authorization) && typeof v.authorization.id === 'string' && v.authorization.id !== '') {
    return { kind: 'sync' };
  }
  return { kind: 'parsed', size };
}

// ---------------------------------------------------------------------------------------------------------------
// What was acknowledged, to be found afterwards.

interface QueuedAnswer { body: Buffer; scheme: Scheme; eventId: string; eventType: string; reference?: true }
const ledger = {
  /** First body answered 202 queued per (group, event id): SQS FIFO keeps that one, deduplicating the rest. */
  queued: new Map<string, QueuedAnswer>(),
  queuedEventIds: new Set<string>(),
  /** By reason and SHA-256 of the body (the DLQ deduplicates identical dead letters). */
  deadLetters: new Map<string, { reason: string; body: Buffer }>(),
  /** By SHA-256 of the body: the DLQ keeps a summary. */
  tooLarge: new Map<string, { bytes: number; eventId?: string }>(),
  statuses: new Map<string, number>(),
};
const count = (what: string) => ledger.statuses.set(what, (ledger.statuses.get(what) ?? 0) + 1);

interface Answer { status: number; json: Record<string, unknown>; headers: Record<string, unknown> }

/** Calls the bundle's handler: whatever the input, a JSON answer below 500. A throw fails the property. */
async function call(event: unknown): Promise<Answer> {
  const result = await handler(event as APIGatewayProxyEventV2);
  assert.ok(result.statusCode !== undefined && result.statusCode < 500, `status ${result.statusCode}: ${result.body}`);
  assert.equal(result.headers?.['content-type'], 'application/json');
  assert.equal(result.isBase64Encoded, false);
  const json = JSON.parse(result.body ?? '') as Record<string, unknown>;
  assert.ok(isObject(json), `the body is a JSON object: ${result.body}`);
  if (result.statusCode >= 400) {
    assert.deepEqual(Object.keys(json).sort(), ['error', 'message'], result.body);
    assert.equal(typeof json.message, 'string');
  }
  return { status: result.statusCode, json, headers: result.headers ?? {} };
}

function recordReference(body: Buffer, scheme: Scheme, eventId: string): void {
  const event = eventIn(scheme, (parseBody(body) as { value: unknown }).value)!;
  const key = `${groupKeyOf(event)}\u0000${eventId}`;
  if (!ledger.queued.has(key)) ledger.queued.set(key, { body, scheme, eventId, eventType: String(event.type), reference: true });
  ledger.queuedEventIds.add(eventId);
  count('queued 202 reference');
}

function assertReference(answer: Answer, eventId: unknown, context: string): void {
  assert.deepEqual([answer.status, Object.keys(answer.json).sort(), answer.json.status, answer.json.eventId, answer.json.reference],
    [202, ['eventId', 'message', 'reference', 'status'], 'queued', eventId, true], context);
}

/** Not authentic, or not for this endpoint: refused, and (checked after the properties) nothing stored. */
function assertRefused(wire: Wire, auth: Authenticity, answer: Answer, reasons: 'exact' | 'status only' = 'exact'): void {
  const pathOk = wire.path.replace(/\/+$/, '') === WEBHOOK_PATH;
  const methodOk = wire.method.toUpperCase() === 'POST';
  if (!pathOk) {
    assert.deepEqual([answer.status, answer.json.error], [404, 'not_found']);
  } else if (!methodOk) {
    assert.deepEqual([answer.status, answer.json.error, answer.headers.allow], [405, 'method_not_allowed', 'POST']);
  } else {
    assert.equal(answer.status, 401, `a request that is not authentic (${auth.authentic ? '' : auth.why}) answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    if (reasons === 'status only') assert.ok(String(answer.json.error).length > 0);
    else if (!auth.authentic && auth.why === 'missing') assert.equal(answer.json.error, 'missing_signature');
    else if (!auth.authentic && auth.why === 'stale') assert.equal(answer.json.error, 'stale_timestamp');
    else assert.ok(['invalid_signature', 'invalid_timestamp'].includes(String(answer.json.error)), String(answer.json.error));
  }
  count(`refused ${answer.status}`);
}

/**
 * An authentic request to the endpoint: the answer its body calls for (`base` is the body as the generator built it,
 * when the request still carries it under its scheme), recorded to be found in the queues afterwards.
 */
function assertAccepted(wire: Wire, scheme: Scheme, base: FrontBody | undefined, answer: Answer): string {
  const challenge = header(wire.headers, 'x-front-challenge');
  const expected: Answerable = base && base.expected.kind !== 'unknown' ? base.expected : answerableFromBytes(scheme, wire.body);
  const { status, json } = answer;
  const context = `${base?.what ?? 'a mutated body'} (${wire.body.length} bytes) answered ${status} ${JSON.stringify(json).slice(0, 300)}`;
  switch (expected.kind) {
    case 'sync':
      assert.equal(status, 200, context);
      if (challenge !== undefined) assert.deepEqual(json, { challenge }, context);
      else assert.deepEqual([Object.keys(json).sort(), json.status], [['message', 'status'], 'ignored'], context);
      count('sync 200');
      return challenge !== undefined ? 'challenge' : 'ignored';
    case 'event':
      if (expected.overLimit) {
        assertReference(answer, expected.eventId, context);
        recordReference(wire.body, scheme, expected.eventId);
        return 'reference';
      }
      assert.deepEqual([status, json], [202, { status: 'queued', eventId: expected.eventId }], context);
      recordQueued(wire.body, scheme, expected.eventId);
      return 'queued';
    case 'unusable':
      if (expected.overLimit) {
        assert.deepEqual([status, json.error], [413, 'payload_too_large'], context);
        recordTooLarge(wire.body);
        return 'too_large';
      }
      assertDeadLettered(answer, expected.reason, context);
      recordDeadLetter(wire.body, expected.reason);
      return 'dead_lettered';
    case 'not-json':
      if (status === 413) {
        assert.notEqual(expected.size, 'under', context);
        assert.equal(json.error, 'payload_too_large');
        recordTooLarge(wire.body);
        return 'too_large';
      }
      assert.notEqual(expected.size, 'over', context);
      assertDeadLettered(answer, 'invalid_json', context);
      recordDeadLetter(wire.body, 'invalid_json');
      return 'dead_lettered';
    case 'parsed':
      // Parsed but not a sync: an event (queued), or not one (dead-lettered), or too large.
      if (status === 413) {
        assert.notEqual(expected.size, 'under', context);
        assert.equal(json.error, 'payload_too_large');
        recordTooLarge(wire.body);
        return 'too_large';
      }
      if (json.status === 'queued') {
        const event = eventIn(scheme, (parseBody(wire.body) as { value: unknown }).value);
        if (json.reference === true) {
          assert.notEqual(expected.size, 'under', context);
          assertReference(answer, event?.id, context);
          recordReference(wire.body, scheme, String(event?.id));
          return 'reference';
        }
        assert.notEqual(expected.size, 'over', context);
        assert.deepEqual([status, json], [202, { status: 'queued', eventId: event?.id }], context);
        recordQueued(wire.body, scheme, String(event?.id));
        return 'queued';
      }
      assert.notEqual(expected.size, 'over', context);
      assertDeadLettered(answer, 'invalid_shape', context);
      recordDeadLetter(wire.body, 'invalid_shape');
      return 'dead_lettered';
  }
}

function assertDeadLettered(answer: Answer, reason: string, context: string): void {
  assert.deepEqual([answer.status, Object.keys(answer.json).sort(), answer.json.status, answer.json.reason], [202, ['message', 'reason', 'status'], 'dead_lettered', reason], context);
}

function recordQueued(body: Buffer, scheme: Scheme, eventId: string): void {
  const event = eventIn(scheme, (parseBody(body) as { value: unknown }).value)!;
  const key = `${groupKeyOf(event)}\u0000${eventId}`;
  if (!ledger.queued.has(key)) ledger.queued.set(key, { body, scheme, eventId, eventType: String(event.type) });
  ledger.queuedEventIds.add(eventId);
  count('queued 202');
}

function recordDeadLetter(body: Buffer, reason: string): void {
  ledger.deadLetters.set(`${reason}|${sha256(body)}`, { reason, body });
  count(`dead_lettered 202 ${reason}`);
}

function recordTooLarge(body: Buffer, eventId?: string): void {
  ledger.tooLarge.set(sha256(body), { bytes: body.length, ...(eventId && { eventId }) });
  count('too_large 413');
}

// ---------------------------------------------------------------------------------------------------------------
// Requests: API Gateway HTTP API events around a wire request.

type NameCase = 'lower' | 'title' | 'upper';
const renameHeader = (name: string, style: NameCase) =>
  style === 'lower' ? name : style === 'upper' ? name.toUpperCase() : name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/** The event API Gateway builds (lib/apigw.ts, as the local stack uses it), with the header names as given. */
function httpApiEvent(wire: Wire): APIGatewayProxyEventV2 {
  const event = toHttpApiEvent({ method: wire.method, path: wire.path, headers: wire.headers, body: wire.body });
  event.headers = { ...wire.headers };
  if (wire.base64) Object.assign(event, { body: wire.body.toString('base64'), isBase64Encoded: true });
  return event;
}

/** Which features of the generators reached which answer to an authentic request: `<tag> → <outcome>`. */
const coverage = new Map<string, number>();

/** Sends a request and checks the answer against the oracle. */
async function exchange(wire: Wire, sentAt: number, base: FrontBody | undefined): Promise<void> {
  const auth = authenticity(wire, sentAt);
  const answer = await call(httpApiEvent(wire));
  const toEndpoint = wire.path.replace(/\/+$/, '') === WEBHOOK_PATH && wire.method.toUpperCase() === 'POST';
  if (!auth.authentic || !toEndpoint) return assertRefused(wire, auth, answer);
  const outcome = assertAccepted(wire, auth.scheme, base, answer);
  const tags = [
    ...(base?.tags ?? []),
    ...(header(wire.headers, 'x-front-challenge') !== undefined ? ['challenge header'] : []),
    ...(wire.base64 ? ['base64 transport'] : []),
    ...(Object.keys(wire.headers).some((name) => name !== name.toLowerCase()) ? ['header names not lower-case'] : []),
  ];
  for (const tag of tags) coverage.set(`${tag} → ${outcome}`, (coverage.get(`${tag} → ${outcome}`) ?? 0) + 1);
}

const frontHeaderNames = ['x-front-signature', 'x-front-request-timestamp', 'x-front-challenge'];
const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('user-agent', 'x-forwarded-for', 'x-amzn-trace-id', 'accept-encoding'), fc.stringMatching(/^x-[a-z0-9-]{1,12}$/))
    .filter((name) => !frontHeaderNames.includes(name) && name !== 'content-type'),
  fc.string({ maxLength: 40 }),
  { maxKeys: 3 },
);
const challengeValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 32 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'chl_1,chl_2', 'ünïcödé', '🦄'),
);
/** Skews that are clearly fresh or clearly stale: never within EDGE_MS of the 5-minute edge. */
const freshSkew = fc.integer({ min: -(WINDOW_MS - EDGE_MS), max: WINDOW_MS - EDGE_MS });
const staleSkew = fc.tuple(fc.integer({ min: WINDOW_MS + EDGE_MS, max: 20 * WINDOW_MS }), fc.boolean()).map(([ms, past]) => (past ? -ms : ms));

/** How Front (or API Gateway) may present a signed request, besides its body. */
const presentation = fc.record({
  skewMs: fc.oneof({ weight: 12, arbitrary: freshSkew }, { weight: 1, arbitrary: staleSkew }),
  names: fc.constantFrom<NameCase>('lower', 'lower', 'title', 'upper'),
  contentType: fc.constantFrom<string | undefined>('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', undefined),
  base64: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  challenge: onceIn(2, challengeValue),
  extra: extraHeaders,
  path: fc.constantFrom(WEBHOOK_PATH, WEBHOOK_PATH, WEBHOOK_PATH, `${WEBHOOK_PATH}/`),
});
type Presentation = typeof presentation extends fc.Arbitrary<infer T> ? T : never;

interface Draft { scheme: Scheme; body: Buffer; timestamp: string | undefined; secret: string; signature: string | undefined; p: Presentation; method: string; path: string }

function sign(draft: Draft): string {
  return frontSignature(draft.timestamp === undefined ? 'rule' : 'app', draft.secret, draft.body, draft.timestamp);
}

/** A request exactly as Front would send this body now. */
function draftOf(body: FrontBody, p: Presentation, sentAt: number): Draft {
  const draft: Draft = {
    scheme: body.scheme, body: body.bytes, timestamp: body.scheme === 'app' ? String(sentAt + p.skewMs) : undefined,
    secret: body.scheme === 'rule' ? RULE_SECRET : APP_SECRET, signature: undefined, p, method: 'POST', path: p.path,
  };
  draft.signature = sign(draft);
  return draft;
}

function wireOf(draft: Draft): Wire {
  const headers: Record<string, string> = {};
  const add = (name: string, value: string | undefined) => { if (value !== undefined) headers[renameHeader(name, draft.p.names)] = value; };
  add('content-type', draft.p.contentType);
  add('x-front-signature', draft.signature);
  add('x-front-request-timestamp', draft.timestamp);
  add('x-front-challenge', draft.p.challenge ?? undefined);
  for (const [name, value] of Object.entries(draft.p.extra)) add(name, value);
  return { method: draft.method, path: draft.path, headers, body: draft.body, base64: draft.p.base64 };
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations of a signed request: in transit (not re-signed), or by a sender with the secret (re-signed).

const mutation = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  // The body
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('flip-bit' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.constantFrom(Uint8Array.of(0x20), Uint8Array.of(0x0a), Uint8Array.of(0xef, 0xbf, 0xbf), Uint8Array.of(0xff))) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), body: fc.oneof(signedBody(1000), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))) }) },
  // The signature
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('signature-char' as const), at: fc.nat(), char: fc.constantFrom('A', 'a', '/', '+', '=', '-', '_', '!', ' ', 'é') }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('signature' as const),
      how: fc.constantFrom('truncate', 'pad', 'swap-case', 'twice', 'base64url', 'hex', 'unpadded', 'other-algorithm', 'reserialized', 'drop', 'empty', 'trailing-garbage'),
    }),
  },
  // The timestamp
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('shift-timestamp' as const), deltaMs: fc.integer({ min: -2 * WINDOW_MS, max: 2 * WINDOW_MS }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('timestamp' as const), how: fc.constantFrom('drop', 'seconds', 'twice', 'leading-zero', 'text') , text: fc.constantFrom('', 'abc', '1.7e12', '-5', ' 1764160000000', '17641600000000000', '0x1A') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add-timestamp' as const), skewMs: fc.oneof(freshSkew, staleSkew) }) },
  // The secret
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('secret' as const), secret: fc.constantFrom('other-scheme', 'suffixed', 'empty', 'upper', 'spaced') }) },
  // The transport
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('method' as const), method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'post', 'Post') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('path' as const), path: fc.constantFrom('/webhooks/front//', '/webhooks/frontx', '/webhooks', '/Webhooks/front', '/webhooks/front/extra', '/', '') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transport' as const), how: fc.constantFrom('base64', 'upper-names', 'title-names') }) },
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function withMutation(m: Mutation, draft: Draft, resign: boolean, sentAt: number): void {
  const body = draft.body;
  switch (m.kind) {
    case 'none': break;
    case 'flip-bit': {
      if (body.length === 0) break;
      const copy = Buffer.from(body);
      copy[m.at % copy.length]! ^= 1 << m.bit;
      draft.body = copy;
      break;
    }
    case 'truncate': draft.body = body.subarray(0, m.at % (body.length + 1)); break;
    case 'append': draft.body = Buffer.concat([body, m.bytes]); break;
    case 'insert': { const at = m.at % (body.length + 1); draft.body = Buffer.concat([body.subarray(0, at), m.bytes, body.subarray(at)]); break; }
    case 'replace': draft.body = Buffer.isBuffer(m.body) ? m.body : m.body.bytes; break;
    case 'shift-timestamp':
      if (draft.timestamp !== undefined) draft.timestamp = String(Number(draft.timestamp) + m.deltaMs);
      break;
    case 'timestamp':
      if (m.how === 'drop') draft.timestamp = undefined;
      else if (draft.timestamp === undefined) break;
      else if (m.how === 'seconds') draft.timestamp = String(Math.floor(Number(draft.timestamp) / 1000));
      else if (m.how === 'twice') draft.timestamp = `${draft.timestamp},${draft.timestamp}`;
      else if (m.how === 'leading-zero') draft.timestamp = `0${draft.timestamp}`;
      else draft.timestamp = m.text;
      break;
    case 'add-timestamp': draft.timestamp ??= String(sentAt + m.skewMs); break;
    case 'secret': {
      const own = draft.secret;
      draft.secret = { 'other-scheme': own === RULE_SECRET ? APP_SECRET : RULE_SECRET, suffixed: `${own}x`, empty: '', upper: own.toUpperCase(), spaced: ` ${own}` }[m.secret];
      draft.signature = sign(draft); // a sender with the wrong secret signs with it
      break;
    }
    case 'method': draft.method = m.method; break;
    case 'path': draft.path = m.path; break;
    case 'transport':
      if (m.how === 'base64') draft.p = { ...draft.p, base64: true };
      else draft.p = { ...draft.p, names: m.how === 'upper-names' ? 'upper' : 'title' };
      break;
    case 'signature-char':
    case 'signature':
      break;
  }
  // Keep clear of the replay window's edge, where the oracle and the handler could read the clock either side of it.
  if (draft.timestamp !== undefined && /^\d+$/.test(draft.timestamp)) {
    const skew = Number(draft.timestamp) - sentAt;
    if (Math.abs(Math.abs(skew) - WINDOW_MS) < EDGE_MS) draft.timestamp = String(sentAt + skew + 2 * EDGE_MS * Math.sign(skew));
  }
  if (resign && m.kind !== 'secret') draft.signature = sign(draft);
  const signature = draft.signature ?? '';
  if (m.kind === 'signature-char') {
    const at = m.at % signature.length;
    draft.signature = signature.slice(0, at) + m.char + signature.slice(at + 1);
  } else if (m.kind === 'signature') {
    const digest = Buffer.from(signature, 'base64');
    const parsed = parseBody(draft.body);
    draft.signature = {
      truncate: signature.slice(0, -1),
      pad: ` ${signature}\t`, // still the same field value (RFC 9110 §5.5)
      'swap-case': signature.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())),
      twice: `${signature},${signature}`, // a repeated header, as API Gateway joins it
      base64url: digest.toString('base64url'),
      hex: digest.toString('hex'),
      unpadded: signature.replace(/=+$/, ''),
      'other-algorithm': draft.timestamp === undefined
        ? createHmac('sha256', draft.secret).update(draft.body).digest('base64')
        : createHmac('sha1', draft.secret).update(`${draft.timestamp}:`).update(draft.body).digest('base64'),
      // Front's own samples sign JSON.stringify(JSON.parse(body)): right only when that gives back the same bytes.
      reserialized: parsed.ok ? frontSignature(draft.timestamp === undefined ? 'rule' : 'app', draft.secret, Buffer.from(JSON.stringify(parsed.value) ?? ''), draft.timestamp) : signature,
      drop: undefined,
      empty: '',
      'trailing-garbage': `${signature}!!`,
    }[m.how];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Random requests: unsigned, random bytes, random headers, methods and paths, and events that are not HTTP API events.

const headerName = fc.oneof(
  fc.constantFrom('x-front-signature', 'X-Front-Signature', 'X-FRONT-SIGNATURE', 'x-front-request-timestamp', 'X-Front-Request-Timestamp', 'x-front-challenge', 'content-type', 'Content-Type'),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.base64String({ maxLength: 64 }),
  fc.constantFrom('', ' ', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'application/json', 'application/octet-stream'),
  fc.integer({ min: -1, max: 2 ** 53 }).map(String),
  fc.constant('now').map(() => String(Date.now())),
);
const randomBody = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 3, arbitrary: fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 500 }).map((text) => Buffer.from(text)) },
  { weight: 4, arbitrary: signedBody(500).map((body) => body.bytes) }, // Front bodies, unsigned
);
const randomRequest = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'post', 'DELETE', 'OPTIONS', 'HEAD', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  ),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constant(WEBHOOK_PATH) },
    { weight: 1, arbitrary: fc.constantFrom(`${WEBHOOK_PATH}/`, '/webhooks/front//', '/webhooks/Front', '/webhooks', '/', '', '/webhooks/front?x=1', '/webhooks//front') },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `/${s}`) },
  ),
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
  body: randomBody,
  encoding: fc.constantFrom('base64', 'utf8', 'latin1'),
});

/** Events Lambda could be handed that are not HTTP API payload 2.0 events, or are broken ones. */
const notAnHttpApiEvent = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, 0, 'POST /webhooks/front', [], {}, { body: '{}' }, { requestContext: {} }, { requestContext: { http: {} } },
    { version: '1.0', httpMethod: 'POST', path: WEBHOOK_PATH, headers: { 'x-front-signature': 'AAAA' }, requestContext: { httpMethod: 'POST' }, body: '{}' },
    { Records: [{ body: '{}' }] }),
  fc.record({
    field: fc.constantFrom('headers', 'body', 'isBase64Encoded', 'rawPath', 'requestContext', 'requestContext.http', 'requestContext.http.method', 'requestContext.http.path'),
    value: fc.anything({ maxDepth: 2 }),
  }).map(({ field, value }) => {
    const event = toHttpApiEvent({ method: 'POST', path: WEBHOOK_PATH, headers: { 'x-front-signature': 'AAAA' }, body: Buffer.from('{}') }) as unknown as Record<string, unknown>;
    const path = field.split('.');
    let at = event;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1)!] = value;
    return event;
  }),
);

describe(`ingest bundle, property-based (issue 7), seed ${SEED}`, () => {
  it(`${RUNS.random} random requests: no throw, no 5xx, refused, nothing stored`, async (t) => {
    // Prepare
    const request = fc.oneof(
      { weight: 6, arbitrary: randomRequest.map((r) => ({ wire: r })) },
      { weight: 1, arbitrary: notAnHttpApiEvent.map((event) => ({ raw: event })) },
    );
    // Act
    await fc.assert(fc.asyncProperty(request, async (r) => {
      if ('raw' in r) {
        const event = r.raw as { requestContext?: { http?: { method?: unknown } } } | null | undefined;
        const answer = await call(r.raw);
        const readable = typeof event === 'object' && event !== null && typeof event.requestContext?.http?.method === 'string';
        if (!readable) assert.deepEqual([answer.status, answer.json.error], [400, 'bad_request']);
        else assert.ok([400, 401, 404, 405].includes(answer.status), `a broken event answered ${answer.status}`);
        count(`refused ${answer.status}`);
        return;
      }
      const { method, path, headers, body, encoding } = r.wire;
      const event = toHttpApiEvent({ method, path, headers: {}, body: Buffer.alloc(0) });
      Object.assign(event, { headers, body: body.toString(encoding === 'base64' ? 'base64' : encoding), isBase64Encoded: encoding === 'base64' });
      const bytes = encoding === 'base64' ? body : Buffer.from(event.body!, 'utf8');
      const wire: Wire = { method, path, headers, body: bytes, base64: encoding === 'base64' };
      const auth = authenticity(wire, Date.now());
      assert.equal(auth.authentic, false, 'a random request cannot carry a valid signature');
      // Random headers may name one header twice in different cases: which one counts is not the oracle's to say.
      assertRefused(wire, auth, await call(event), 'status only');
    }), { numRuns: RUNS.random, seed: SEED });
    // Assess
    assert.equal((await sqs.drain(sqs.queueUrl)).length, 0, 'nothing reaches the queue without a valid signature');
    assert.equal((await sqs.drain(sqs.dlqUrl)).length, 0, 'nothing reaches the dead-letter queue without a valid signature');
    assert.ok((ledger.statuses.get('refused 401') ?? 0) > RUNS.random / 4, `most requests reach the signature check: ${JSON.stringify([...ledger.statuses])}`);
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(ledger.statuses))}`);
    ledger.statuses.clear();
  });

  it(`${RUNS.signed} requests signed as Front signs them: each answered as its body calls for`, async (t) => {
    // Prepare
    const request = fc.record({ body: signedBody(300).map(printable), p: presentation });
    // The limit's edge itself, whatever the seed: a message of exactly 1 MiB is queued, one byte more is not.
    const plain: Presentation = { skewMs: 0, names: 'lower', contentType: 'application/json', base64: false, challenge: null, extra: {}, path: WEBHOOK_PATH };
    const edges: FrontBody[] = [nearLimitNotJson('rule', true, 1), nearLimitNotJson('app', false, 1), oversizeSync(1)];
    for (const scheme of ['rule', 'app'] as const) {
      for (const [delta, nonCharacter] of [[0, false], [1, false], [0, true], [1, true]] as const) {
        edges.push(nearLimitEvent(scheme, delta, nonCharacter, `edge_${scheme}_${delta}_${nonCharacter}`));
      }
    }
    const examples = edges.map((body): [{ body: FrontBody; p: Presentation }] => [{ body: printable(body), p: plain }]);
    // Act
    await fc.assert(fc.asyncProperty(request, async ({ body, p }) => {
      const sentAt = Date.now();
      const draft = draftOf(body, p, sentAt);
      await exchange(wireOf(draft), sentAt, body);
    }), { numRuns: RUNS.signed, seed: SEED + 1, examples });
    // Assess
    const accepted = (ledger.statuses.get('queued 202') ?? 0) + (ledger.statuses.get('sync 200') ?? 0);
    assert.ok(accepted > RUNS.signed / 2, `most signed requests are events or syncs: ${JSON.stringify([...ledger.statuses])}`);
    for (const outcome of ['queued 202', 'queued 202 reference', 'sync 200', 'dead_lettered 202 invalid_json', 'dead_lettered 202 invalid_shape', 'too_large 413', 'refused 401']) {
      assert.ok((ledger.statuses.get(outcome) ?? 0) > 0, `the generators reach "${outcome}": ${JSON.stringify([...ledger.statuses])}`);
    }
    // The odd cases the issue names reach the queue (or their own answer), not only the dead-letter queue.
    const reached = [
      ...['rule', 'app', 'full event', 'preview', 'known type', 'new type', 'id not printable ASCII', 'id with spaces', 'id over 128 characters',
        'no conversation', 'emitted_at extreme', 'tens of KB', 'pretty-printed', 'whitespace around', 'U+FFFE/U+FFFF', 'U+E000', 'emoji',
        '\\u0000 escape', 'lone surrogate escape', 'control character escape', 'raw bytes in a string', 'repeated key', 'challenge header',
        'base64 transport', 'header names not lower-case', 'message within 100 bytes of 1 MiB'].map((tag) => `${tag} → queued`),
      'message over 1 MiB → reference', 'not JSON, over 1 MiB → too_large', 'not JSON, near 1 MiB → dead_lettered', 'sync over 1 MiB → ignored',
      'sync → challenge', 'sync → ignored', 'sync with a payload → challenge', 'sync with a payload → ignored',
      'rule body signed as app → dead_lettered', 'app body signed as rule → dead_lettered',
    ];
    for (const what of reached) assert.ok((coverage.get(what) ?? 0) > 0, `the generators reach "${what}"`);
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(ledger.statuses))}`);
    t.diagnostic(process.env.FUZZ_VERBOSE
      ? `authentic requests by feature: ${[...coverage].sort().map(([k, n]) => `${k} ${n}`).join('; ')}`
      : `${coverage.size} (feature → answer) pairs reached, the ${reached.length} the issue names among them (FUZZ_VERBOSE=1 lists them)`);
    ledger.statuses.clear();
  });

  it(`${RUNS.mutated} signed requests mutated, half re-signed: accepted exactly when still authentic`, async (t) => {
    // Prepare
    const request = fc.record({
      body: signedBody(400).map(printable),
      p: presentation,
      mutations: fc.array(mutation, { minLength: 1, maxLength: 2 }),
      resign: fc.boolean(),
    });
    let authentic = 0;
    // Act
    await fc.assert(fc.asyncProperty(request, async ({ body, p, mutations, resign }) => {
      const sentAt = Date.now();
      const draft = draftOf(body, p, sentAt);
      for (const m of mutations) withMutation(m, draft, resign, sentAt);
      const wire = wireOf(draft);
      // The generator's expectation holds while the request carries its body under its scheme.
      const scheme: Scheme = draft.timestamp === undefined ? 'rule' : 'app';
      const intact = draft.body.equals(body.bytes) && scheme === body.scheme;
      if (authenticity(wire, sentAt).authentic) authentic += 1;
      await exchange(wire, sentAt, intact ? body : undefined);
    }), { numRuns: RUNS.mutated, seed: SEED + 2 });
    // Assess
    assert.ok(authentic > RUNS.mutated / 5 && authentic < (RUNS.mutated * 4) / 5, `a fair share of mutated requests are still authentic: ${authentic}`);
    t.diagnostic(`authentic ${authentic}; answers: ${JSON.stringify(Object.fromEntries(ledger.statuses))}`);
  });

  it('every event answered 202 queued is in the queue, byte for byte, and is handled exactly once', async (t) => {
    // Prepare: the real process logic, with a recording registry, dynalite as state table, fauxqs as DLQ.
    const handled = new Map<string, Array<{ type: string; handler: string; messageId: string; body: unknown }>>();
    const recordAs = (name: string): FrontEventHandler => (event, context) => {
      handled.set(event.id, [...(handled.get(event.id) ?? []), { type: event.type, handler: name, messageId: context.messageId, body: event.body }]);
    };
    const logs: LogRecord[] = [];
    // Front's API, for the events queued as references: the fake holds each one Front emitted (recorded below, when
    // its reference is first seen) and serves it as Front does.
    const front: FakeFront = await startFakeFront({ token: 'fuzz-token' });
    t.after(() => front.close());
    const processBatch = createProcessHandler({
      registry: defineHandlers({ inbound: recordAs('inbound'), tag: recordAs('tag'), default: recordAs('default') }),
      sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store,
      front: {
        client: new FrontApiClient({ baseUrl: front.url, token: async () => 'fuzz-token', budget: new InMemoryRateBudget(6000, { burstPerSecond: 1000 }) }),
        token: { source: 'test', get: async () => 'fuzz-token' },
        hydratePreviews: false,
      },
      logger: recordingLogger(logs),
      settings: { ...DEFAULT_SETTINGS, retryDelaysSeconds: [0], deferSeconds: 0 },
    });
    const messages = new Map<string, { event: Record<string, unknown>; key: string; reference: boolean }>();
    const groups = { byConversation: new Map<string, string>(), byGroupId: new Map<string, string>() };
    const deliveries = new Map<string, number>();
    let redelivered = 0;

    // Act: receive as Lambda's event source does; leave one message in four undeleted once (a lost delete), so SQS
    // delivers it again and the state table must skip it.
    for (;;) {
      const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 120,
        MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
      }));
      if (Messages.length === 0) {
        // Empty only when nothing is in flight either (a message made visible again may take a moment).
        if (await countMessages(sqs.client, sqs.queueUrl) === 0) break;
        continue;
      }
      for (const message of Messages) {
        if (messages.has(message.MessageId!)) continue;
        const checked = checkQueuedMessage(message, groups);
        messages.set(message.MessageId!, checked);
        if (checked.reference) front.record(checked.event as unknown as FrontEventBody);
      }
      const response = await processBatch({ Records: Messages.map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:fuzz-events.fifo', 'us-east-1')) });
      assert.deepEqual(response.batchItemFailures, [], 'no handler fails here');
      const kept: Message[] = [];
      const deleted: Message[] = [];
      for (const message of Messages) {
        const delivery = (deliveries.get(message.MessageId!) ?? 0) + 1;
        deliveries.set(message.MessageId!, delivery);
        (delivery === 1 && deliveries.size % 4 === 0 ? kept : deleted).push(message);
      }
      redelivered += kept.length;
      const entries = (list: Message[]) => list.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
      if (deleted.length > 0) await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries(deleted) }));
      if (kept.length > 0) {
        await sqs.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: sqs.queueUrl, Entries: entries(kept).map((e) => ({ ...e, VisibilityTimeout: 0 })) }));
      }
    }

    // Assess: every acknowledged event was in the queue, at most one message per (group, event id).
    const keys = [...messages.values()].map((m) => m.key);
    assert.equal(new Set(keys).size, keys.length, 'FIFO deduplication: one message per event id in a group');
    const queuedIds = new Set([...messages.values()].map((m) => String(m.event.id)));
    for (const id of ledger.queuedEventIds) assert.ok(queuedIds.has(id), `event ${JSON.stringify(id)} was answered 202 queued but is not in the queue`);
    // Each handled exactly once, by the handler for its type, with the event as queued.
    for (const id of ledger.queuedEventIds) {
      const runs = handled.get(id) ?? [];
      assert.equal(runs.length, 1, `event ${JSON.stringify(id)} handled ${runs.length} times`);
      const run = runs[0]!;
      const queued = messages.get(run.messageId);
      assert.ok(queued, `handled from a message that was not received: ${run.messageId}`);
      if (queued.reference) {
        // Fetched from Front's API, which links to itself: everything else is the event as emitted.
        assert.deepEqual({ ...(run.body as object), _links: undefined }, { ...queued.event, _links: undefined }, `event ${JSON.stringify(id)}, queued as a reference, reaches its handler whole`);
      } else {
        assert.deepEqual(run.body, queued.event, `event ${JSON.stringify(id)} reaches its handler as it was sent`);
      }
      assert.equal(run.handler, ['inbound', 'tag'].includes(run.type) ? run.type : 'default');
    }
    assert.deepEqual([...handled.keys()].filter((id) => !ledger.queuedEventIds.has(id)), [], 'nothing handled that was not acknowledged');
    assert.ok(redelivered > 0, 'some deliveries were repeated');
    const metrics = metricsOf(logs);
    assert.equal(metrics.skips, redelivered, 'every repeated delivery was skipped by the state table');
    assert.deepEqual(metrics.deadLetters, [], 'the process function dead-lettered nothing');
    assert.equal(metrics.failures, 0);
    assert.deepEqual(logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message), []);
    t.diagnostic(`${messages.size} queued messages for ${ledger.queuedEventIds.size} event ids answered 202 queued; ${redelivered} delivered twice, skipped the second time`);
  });

  it('every dead_lettered and 413 answer is in the dead-letter queue with its reason, and nothing else is', async (t) => {
    // Act
    const letters = await sqs.drain(sqs.dlqUrl);
    // Assess
    const found = new Map<string, number>();
    for (const letter of letters) {
      const attributes = letter.MessageAttributes ?? {};
      const reason = attributes[ATTR.failureReason]?.StringValue;
      assert.ok(reason, `a dead letter without failure-reason: ${letter.Body?.slice(0, 100)}`);
      assert.ok(attributes[ATTR.failureDetail]?.StringValue, 'a dead letter says what was wrong');
      assert.match(letter.Attributes?.MessageGroupId ?? '', FIFO_ID);
      let key: string;
      if (reason === 'payload_too_large') {
        const summary = JSON.parse(letter.Body ?? '') as { bytes: number; sha256: string; eventId?: string };
        const expected = ledger.tooLarge.get(summary.sha256);
        assert.ok(expected, `a too-large summary for a body never answered 413: ${letter.Body}`);
        assert.equal(summary.bytes, expected.bytes);
        if (expected.eventId) assert.equal(summary.eventId, expected.eventId);
        key = `too_large|${summary.sha256}`;
      } else {
        const body = decodeBody(letter.Body ?? '', attributes[ATTR.bodyEncoding]?.StringValue);
        key = `${reason}|${sha256(body)}`;
        assert.ok(ledger.deadLetters.has(key), `a dead letter (${reason}) for a body never answered dead_lettered with that reason: ${body.subarray(0, 100).toString('latin1')}`);
      }
      found.set(key, (found.get(key) ?? 0) + 1);
    }
    for (const key of ledger.deadLetters.keys()) assert.equal(found.get(key), 1, `dead letter ${key} kept ${found.get(key) ?? 0} times`);
    for (const sha of ledger.tooLarge.keys()) assert.equal(found.get(`too_large|${sha}`), 1, `413 summary ${sha} kept ${found.get(`too_large|${sha}`) ?? 0} times`);
    assert.equal(letters.length, ledger.deadLetters.size + ledger.tooLarge.size);
    t.diagnostic(`${ledger.deadLetters.size} dead letters and ${ledger.tooLarge.size} too-large summaries, all found`);
  });
});

/**
 * One message of the main queue, first delivery: it holds the bytes of the first body acknowledged for its
 * (group, event id), with FIFO ids SQS accepts, one group id per conversation and one conversation per group id.
 */
function checkQueuedMessage(message: Message, groups: { byConversation: Map<string, string>; byGroupId: Map<string, string> }): { event: Record<string, unknown>; key: string; reference: boolean } {
  const attributes = message.MessageAttributes ?? {};
  const encoding = attributes[ATTR.bodyEncoding]?.StringValue;
  assert.ok(encoding === 'utf8' || encoding === 'escaped', `body-encoding ${encoding}`);
  const bytes = decodeBody(message.Body ?? '', encoding);
  const scheme = attributes[ATTR.scheme]?.StringValue as Scheme;
  const parsed = parseBody(bytes);
  assert.ok(parsed.ok, `a queued body that is not JSON: ${bytes.subarray(0, 100).toString('latin1')}`);
  const isReference = attributes[ATTR.bodyKind]?.StringValue === 'reference';
  let event: Record<string, unknown> | undefined;
  let answered: QueuedAnswer | undefined;
  let key: string;
  let groupKey: string;
  if (isReference) {
    // A reference: the event's ids, and the size and SHA-256 of the bytes acknowledged.
    const reference = parsed.value as { eventId: string; eventType: string; conversationId?: string; bytes: number; sha256: string };
    groupKey = groupKeyOf({ id: reference.eventId, ...(reference.conversationId !== undefined && { conversation: { id: reference.conversationId } }) });
    key = `${groupKey}\u0000${reference.eventId}`;
    answered = ledger.queued.get(key);
    assert.ok(answered?.reference, `a queued reference never answered 202 queued as a reference: ${key}`);
    assert.deepEqual([reference.bytes, reference.sha256], [answered.body.length, sha256(answered.body)], `the reference to ${JSON.stringify(reference.eventId)} names other bytes than were acknowledged`);
    event = eventIn(answered.scheme, (parseBody(answered.body) as { value: unknown }).value);
    assert.ok(event);
    assert.equal(reference.eventType, answered.eventType);
  } else {
    event = eventIn(scheme, parsed.value);
    assert.ok(event, 'a queued body that carries no event');
    groupKey = groupKeyOf(event);
    key = `${groupKey}\u0000${String(event.id)}`;
    answered = ledger.queued.get(key);
    assert.ok(answered && !answered.reference, `a queued event never answered 202 queued: ${key}`);
    assert.ok(bytes.equals(answered.body), `the queued body of ${JSON.stringify(event.id)} decodes to other bytes than were acknowledged (${bytes.length} vs ${answered.body.length})`);
  }
  assert.equal(scheme, answered.scheme);
  assert.equal(attributes[ATTR.eventId]?.StringValue, answered.eventId);
  assert.equal(attributes[ATTR.eventType]?.StringValue, answered.eventType);
  const groupId = message.Attributes?.MessageGroupId ?? '';
  const deduplicationId = message.Attributes?.MessageDeduplicationId ?? '';
  assert.match(groupId, FIFO_ID);
  assert.match(deduplicationId, FIFO_ID);
  if (FIFO_ID.test(answered.eventId)) assert.equal(deduplicationId, answered.eventId, 'an id SQS accepts is its own deduplication id');
  // One group per conversation, one conversation per group.
  assert.equal(groups.byConversation.get(groupKey) ?? groupId, groupId, `conversation ${JSON.stringify(groupKey)} in two groups`);
  assert.equal(groups.byGroupId.get(groupId) ?? groupKey, groupKey, `group ${groupId} holds two conversations`);
  groups.byConversation.set(groupKey, groupId);
  groups.byGroupId.set(groupId, groupKey);
  return { event, key, reference: isReference };
}
