/**
 * fast-check arbitraries for what reaches POST /webhooks/front: bodies Front could sign (rule events full and preview,
 * app envelopes, syncs), bodies it would never send, and bodies near SQS's size limit. Each body says what the
 * pipeline must do with it once its signature is verified, decided by how it was built (never by the code under
 * test): the oracle of tests/ingest-fuzz.test.ts. Everything is derived from fast-check's seed, so a run replays.
 */
import fc from 'fast-check';
import { FRONT_EVENT_TYPES } from '../../lib/front/event-types.ts';
import { MAX_EMITTED_AT_SECONDS } from '../../lib/front/schemas.ts';
import { ATTR, MAX_MESSAGE_BYTES } from '../../lib/queue.ts';
import type { Scheme } from '../../lib/signature.ts';

/** What must become of an authentic body (a request that passed the signature and freshness checks). */
export type Expected =
  /** A Front event: 202 queued with this id, or 413 when the queued message would exceed SQS's limit. */
  | { kind: 'event'; eventId: string; eventType: string; overLimit: boolean }
  /** An app sync: 200, `{challenge}` when the request carries x-front-challenge, else `{status: "ignored"}`. */
  | { kind: 'sync' }
  /** Not usable: 202 dead_lettered with this reason, or 413 when even the dead letter would be too large. */
  | { kind: 'unusable'; reason: 'invalid_json' | 'invalid_shape'; overLimit: boolean }
  /** Built from random material: the test's oracle decides from the bytes (tests/ingest-fuzz.test.ts). */
  | { kind: 'unknown' };

export interface FrontBody {
  /** The scheme Front would sign this body with. */
  scheme: Scheme;
  bytes: Buffer;
  expected: Expected;
  /** How it was built, for failure reports. */
  what: string;
  /** The features it exercises (`preview`, `lone surrogate`, …), so a test can show its generators reach them. */
  tags: readonly string[];
}

const API = 'https://acme.api.frontapp.com';
const HEX = [...'0123456789abcdef'];
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });

/**
 * The project's rule for an opaque id (lib/front/schemas.ts, README "Decisions"): any text of 1 to 256 characters
 * SQS and DynamoDB can carry: no control characters, no lone surrogates, no U+FFFE/U+FFFF.
 */
export function isUsableId(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const chars = [...value];
  return chars.length >= 1 && chars.length <= 256 && !/[\u0000-\u001f\u007f\ufffe\uffff]|\p{Surrogate}/u.test(value);
}

/** A well-formed event type: known today or added by Front later (README "Decisions"). */
export function isWellFormedType(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z][a-z0-9_]{0,79}$/.test(value);
}

function isUsableEmittedAt(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && value >= 0 && value <= MAX_EMITTED_AT_SECONDS);
}

/** Ids as Front sends them, mostly; sometimes ones it never has but that are still usable. */
export const usableId = (prefix: string): fc.Arbitrary<string> => fc.oneof(
  { weight: 20, arbitrary: hex(10).map((h) => `${prefix}_${h}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter(isUsableId) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(`${prefix} with spaces`, `${prefix}_ünïcödé`, `${prefix}_🦄👩‍👩‍👧`, `${prefix}_\uE000`, `${prefix}_\uFFFD`,
      '日本語の会話', 'שיחה', ' leading and trailing ', '"quoted" \\ back/slash', '\u00a0\u2028\u202e'),
  },
  // Past SQS's 128-character FIFO id limit (ingest hashes those), up to the schema's 256.
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 256 }).map((n) => `${prefix}_${'é'.repeat(n - prefix.length - 1)}`) },
);

/** Values in an id's place that the pipeline cannot use (dead-lettered as invalid_shape). */
const unusableId = fc.constantFrom<unknown>('', 'nul\u0000', 'line\nbreak', 'del\u007f', '\ud800', 'x\udc00y', '\ufffe', 'non\uffff',
  'é'.repeat(257), 42, null, { id: 'evt_1' }, ['evt_1']);

/** Event ids: unique ones, a small pool delivered more than once, and odd ones. */
const eventId = fc.oneof(
  { weight: 8, arbitrary: usableId('evt') },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => `evt_again_${n}`) },
);

const eventType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...FRONT_EVENT_TYPES) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,79}$/) },
  // Well-formed, and names a router or an envelope could trip on.
  { weight: 1, arbitrary: fc.constantFrom('constructor', 'prototype', 'default', 'sync', 'hasownproperty', 'tostring', 'a'.repeat(80)) },
);
const malformedType = fc.constantFrom<unknown>('Inbound', '', 'in-bound', '1st', 'a'.repeat(81), 'inbound\n', 'tag\ud800', 7, null);

const emittedAt = fc.oneof(
  { weight: 10, arbitrary: fc.double({ min: 1_700_000_000, max: 1_800_000_000, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom<number | undefined>(undefined, 0, MAX_EMITTED_AT_SECONDS, 5e-324, 1e-7, 1764160000, 1764160000.123) },
);
const malformedEmittedAt = fc.constantFrom<unknown>(-1, -1e-9, MAX_EMITTED_AT_SECONDS + 1, 1e300, '1764160000', null, true);

/** Text for the free-form fields: what Front's users type, and what JSON allows but systems choke on. */
export const oddText = fc.oneof(
  { weight: 4, arbitrary: fc.constant('Hello, my order #4521 arrived damaged — could you send a replacement?') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) }, // any code point: controls, U+FFFE, U+FFFF, astral
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Order \uFFFE 42 \uFFFF done', 'private \uE000 use', '🦄 emoji 👩‍👩‍👧 family', 'nul \u0000 escaped', 'lone \ud800 high',
      'lone \udfff low', 'swapped \udc00\ud800 pair', 'bom \ufeff inside', 'separators \u2028\u2029', 'rtl \u202e override',
      'e\u0301 combining', 'tab\tand\nnewline', 'U+E000 twice \uE000\uE000', 'null \\u0000 as text',
    ),
  },
);

/** Bytes put verbatim inside a JSON string of the serialized body, and whether the body is still JSON. */
interface RawBytes { bytes: readonly number[]; json: boolean }
const rawBytes = fc.constantFrom<RawBytes>(
  { bytes: [0xff], json: true }, { bytes: [0xc3, 0x28], json: true }, { bytes: [0xed, 0xa0, 0x80], json: true }, // not UTF-8: read as U+FFFD
  { bytes: [0xc0, 0xaf], json: true }, { bytes: [0xe2, 0x82], json: true }, { bytes: [0xf4, 0x90, 0x80, 0x80], json: true },
  { bytes: [0x80], json: true }, { bytes: [0x7f], json: true }, { bytes: [0xef, 0xbf, 0xbf], json: true }, // DEL and raw U+FFFF: JSON allows them
  { bytes: [0x00], json: false }, { bytes: [0x01], json: false }, { bytes: [0x09], json: false }, { bytes: [0x1f], json: false }, // raw controls: not JSON
);
const RAW_MARKER = 'RAW-BYTES-GO-HERE';

/** How the JSON text is laid out: the signature covers these bytes, so none may be normalized away. */
const layout = fc.record({
  indent: fc.constantFrom<undefined | number | string>(undefined, undefined, undefined, 2, '\t', 1),
  crlf: fc.boolean(),
  around: fc.constantFrom('', '', '', ' ', '\n', '\r\n', '\t \n', '  \r\n\r\n'),
});

function serialize(value: unknown, how: { indent: undefined | number | string; crlf: boolean; around: string }): string {
  let text = JSON.stringify(value, null, how.indent);
  // Raw newlines appear only between tokens (JSON.stringify escapes them inside strings).
  if (how.crlf && how.indent !== undefined) text = text.replace(/\n/g, '\r\n');
  return `${how.around}${text}${how.around}`;
}

interface EventFields {
  id: unknown;
  type: unknown;
  emittedAt: unknown;
  conversationId: unknown;
  preview: boolean;
  text: string;
  /** A source without `_meta`: not a Front event. */
  brokenSource: boolean;
  /** Size of the message body in a full event. */
  messageBytes: number;
}

// Not URL-encoded: an id may hold a lone surrogate, which encodeURIComponent refuses; JSON carries it escaped.
const link = (kind: string, id: unknown) => ({ self: `${API}/${kind}/${String(id)}` });

/** A Front event shaped as Front sends it (lib/front/samples.ts, made deterministic): full or preview. */
function frontEvent(f: EventFields, filler = ''): Record<string, unknown> {
  const ref = (kind: string, id: string, data: unknown) => f.preview
    ? { _meta: { type: kind }, _links: link(`${kind}s`, id), id }
    : { _meta: { type: kind }, data };
  const conversation = f.conversationId === undefined ? undefined : f.preview
    ? { _links: { self: `${API}/conversations/x`, related: { events: `${API}/conversations/x/events` } }, id: f.conversationId }
    : {
        _links: { self: `${API}/conversations/x` }, id: f.conversationId, type: 'conversation', subject: f.text, status: 'assigned',
        ticket_ids: [], assignee: null, recipient: null, tags: [], links: [], custom_fields: {}, is_private: false,
        scheduled_reminders: [], metadata: {}, created_at: 1764150000.75,
      };
  const body = `<p>${f.text}</p>${'x'.repeat(f.messageBytes)}${filler}`;
  return {
    _links: link('events', f.id),
    id: f.id,
    type: f.type,
    ...(f.emittedAt !== undefined && { emitted_at: f.emittedAt }),
    source: f.brokenSource ? { data: { id: 'tea_1' } } : ref('teammate', 'tea_1', { _links: link('teammates', 'tea_1'), id: 'tea_1', email: 'leela@acme.example', first_name: f.text }),
    target: ref('message', 'msg_1', { _links: link('messages', 'msg_1'), id: 'msg_1', type: 'email', subject: f.text, body, text: f.text, attachments: [] }),
    ...(conversation && { conversation }),
    note: RAW_MARKER,
  };
}

/** What is odd about a piece of text, in the words of the issue. */
function textTags(text: string): string[] {
  const tags: string[] = [];
  if (/[\ufffe\uffff]/.test(text)) tags.push('U+FFFE/U+FFFF');
  if (text.includes('\ue000')) tags.push('U+E000');
  if (/\p{Extended_Pictographic}/u.test(text)) tags.push('emoji');
  if (text.includes('\u0000')) tags.push('\\u0000 escape');
  if (/\p{Surrogate}/u.test(text)) tags.push('lone surrogate escape');
  if (/[\u0001-\u001f]/.test(text)) tags.push('control character escape');
  return tags;
}

function eventTags(f: EventFields, how: { indent: unknown; around: string }): string[] {
  const id = String(f.id);
  return [
    f.preview ? 'preview' : 'full event',
    (FRONT_EVENT_TYPES as readonly unknown[]).includes(f.type) ? 'known type' : 'new type',
    ...(/[^\x21-\x7e]/.test(id) ? ['id not printable ASCII'] : []),
    ...(/\s/.test(id) ? ['id with spaces'] : []),
    ...([...id].length > 128 ? ['id over 128 characters'] : []),
    ...(f.conversationId === undefined ? ['no conversation'] : []),
    ...([0, MAX_EMITTED_AT_SECONDS, 5e-324, 1e-7].includes(f.emittedAt as number) ? ['emitted_at extreme'] : []),
    ...(f.messageBytes > 10_000 ? ['tens of KB'] : []),
    ...(how.indent !== undefined ? ['pretty-printed'] : []),
    ...(how.around !== '' ? ['whitespace around'] : []),
    ...textTags(f.text),
  ];
}

function isUsableEvent(f: EventFields): boolean {
  return isUsableId(f.id) && isWellFormedType(f.type) && isUsableEmittedAt(f.emittedAt) && !f.brokenSource
    && (f.conversationId === undefined || isUsableId(f.conversationId));
}

/** Usable fields mostly; one unusable field in about one event in eight. */
const eventFields: fc.Arbitrary<EventFields> = fc.record({
  id: fc.oneof({ weight: 15, arbitrary: eventId }, { weight: 1, arbitrary: unusableId }),
  type: fc.oneof({ weight: 25, arbitrary: eventType }, { weight: 1, arbitrary: malformedType }),
  emittedAt: fc.oneof({ weight: 25, arbitrary: emittedAt }, { weight: 1, arbitrary: malformedEmittedAt }),
  conversationId: fc.oneof(
    { weight: 16, arbitrary: usableId('cnv') },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 5 }).map((n) => `cnv_shared_${n}`) },
    { weight: 3, arbitrary: fc.constant(undefined) }, // reminders and some others carry no conversation
    { weight: 1, arbitrary: unusableId },
  ),
  preview: fc.boolean(),
  text: oddText,
  brokenSource: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  messageBytes: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 0, max: 600 }) }, { weight: 1, arbitrary: fc.integer({ min: 600, max: 60_000 }) }),
});

/** Front's application-webhook names for some event types (third-party lists; Front publishes none). */
const APP_NAMES: Record<string, string> = {
  inbound: 'inbound_received', outbound: 'outbound_sent', comment: 'new_comment_added', assign: 'assignee_changed',
  tag: 'tag_added', untag: 'tag_removed', archive: 'conversation_archived', move: 'conversation_moved',
};

const companyId = fc.oneof(
  { weight: 10, arbitrary: hex(6).map((h) => `cmp_${h}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) }, // any non-empty string is accepted
);
const brokenAuthorization = fc.constantFrom<unknown>(undefined, {}, { id: '' }, { id: 42 }, 'cmp_1', null, []);

function describeEvent(f: EventFields): string {
  return `${f.preview ? 'preview' : 'full'} ${JSON.stringify(f.type)} event ${JSON.stringify(f.id)?.slice(0, 60)} in ${JSON.stringify(f.conversationId)?.slice(0, 60)}`;
}

/** A body with raw bytes spliced in place of the marker (the note field), and what those bytes make of it. */
function withRawBytes(text: string, raw: RawBytes | null): { bytes: Buffer; json: boolean } {
  const bytes = Buffer.from(text);
  const at = raw ? bytes.indexOf(RAW_MARKER) : -1;
  if (!raw || at < 0) return { bytes, json: true };
  return { bytes: Buffer.concat([bytes.subarray(0, at), Buffer.from(raw.bytes), bytes.subarray(at + RAW_MARKER.length)]), json: raw.json };
}

/** `arbitrary` about once in `times` values, else null. */
export const onceIn = <T>(times: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: times - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

const rawOrNot = onceIn(7, rawBytes);

/** A rule webhook body: one event, full or preview, as Front serializes it or laid out otherwise. */
const ruleEventBody: fc.Arbitrary<FrontBody> = fc.record({ f: eventFields, how: layout, raw: rawOrNot, decoyId: onceIn(20, fc.constant('evt_decoy')) })
  .map(({ f, how, raw, decoyId }) => {
    let text = serialize(frontEvent(f), how);
    // A repeated key: JSON.parse keeps the last, and so must every reader of the body.
    if (decoyId !== null) text = text.replace('{', `{"id":${JSON.stringify(decoyId)},`);
    const { bytes, json } = withRawBytes(text, raw);
    const expected: Expected = !json ? { kind: 'unusable', reason: 'invalid_json', overLimit: false }
      : isUsableEvent(f) ? { kind: 'event', eventId: f.id as string, eventType: f.type as string, overLimit: false }
      : { kind: 'unusable', reason: 'invalid_shape', overLimit: false };
    const tags = ['rule', ...eventTags(f, how), ...(raw ? ['raw bytes in a string'] : []), ...(decoyId !== null ? ['repeated key'] : [])];
    return { scheme: 'rule', bytes, expected, what: `rule ${describeEvent(f)}${raw ? ` with raw bytes ${JSON.stringify(raw.bytes)}` : ''}`, tags };
  });

/** An application webhook: an envelope around an event, as Front sends it, or a broken envelope. */
const appEventBody: fc.Arbitrary<FrontBody> = fc.record({
  f: eventFields,
  how: layout,
  raw: rawOrNot,
  name: fc.oneof(
    { weight: 3, arbitrary: fc.constant<string | undefined>(undefined) }, // Front's name for the type, or the type itself
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,79}$/) },
    { weight: 1, arbitrary: fc.constant('sync') }, // a sync, whatever it carries
  ),
  company: companyId,
  broken: fc.oneof(
    { weight: 30, arbitrary: fc.constant<null | { authorization?: unknown; payload?: unknown; type?: unknown }>(null) },
    { weight: 1, arbitrary: brokenAuthorization.map((authorization) => ({ authorization })) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 'evt_1', 42, []).map((payload) => ({ payload })) },
    { weight: 1, arbitrary: malformedType.map((type) => ({ type })) },
  ),
}).map(({ f, how, raw, name, company, broken }) => {
  const type = name ?? APP_NAMES[String(f.type)] ?? f.type;
  const envelope: Record<string, unknown> = { type, authorization: { id: company }, payload: frontEvent(f) };
  if (broken) {
    for (const [key, value] of Object.entries(broken)) {
      if (value === undefined) delete envelope[key];
      else envelope[key] = value;
    }
  }
  const { bytes, json } = withRawBytes(serialize(envelope, how), raw);
  const authorized = !broken || !('authorization' in broken);
  const finalType = envelope.type;
  let expected: Expected;
  if (!json) expected = { kind: 'unusable', reason: 'invalid_json', overLimit: false };
  else if (!authorized || !isWellFormedType(finalType)) expected = { kind: 'unusable', reason: 'invalid_shape', overLimit: false };
  else if (finalType === 'sync') expected = { kind: 'sync' };
  else if (broken && 'payload' in broken) expected = { kind: 'unusable', reason: 'invalid_shape', overLimit: false };
  else if (isUsableEvent(f)) expected = { kind: 'event', eventId: f.id as string, eventType: f.type as string, overLimit: false };
  else expected = { kind: 'unusable', reason: 'invalid_shape', overLimit: false };
  const tags = ['app', ...eventTags(f, how), ...(raw ? ['raw bytes in a string'] : []), ...(finalType === 'sync' ? ['sync with a payload'] : [])];
  return { scheme: 'app', bytes, expected, tags, what: `app ${JSON.stringify(finalType)} envelope (${broken ? `broken: ${JSON.stringify(broken)}` : 'intact'}) around ${describeEvent(f)}${raw ? ` with raw bytes ${JSON.stringify(raw.bytes)}` : ''}` };
});

/** Front saving the app's webhook settings: `{type: "sync", authorization}`, sometimes carrying a payload of any JSON. */
const syncBody: fc.Arbitrary<FrontBody> = fc.record({
  company: fc.oneof({ weight: 12, arbitrary: companyId }, { weight: 1, arbitrary: brokenAuthorization.map((a) => ({ broken: a })) }),
  payload: onceIn(3, fc.oneof(fc.jsonValue({ maxDepth: 3 }), eventFields.map((f) => frontEvent(f)))),
  how: layout,
}).map(({ company, payload, how }) => {
  const broken = typeof company === 'object';
  const authorization = broken ? company.broken : { id: company };
  const envelope = { type: 'sync', ...(authorization !== undefined && { authorization }), ...(payload !== null && { payload }) };
  return {
    scheme: 'app',
    bytes: Buffer.from(serialize(envelope, how)),
    expected: broken ? { kind: 'unusable', reason: 'invalid_shape', overLimit: false } : { kind: 'sync' },
    what: `sync${payload !== null ? ' with a payload' : ''}${broken ? ` with authorization ${JSON.stringify(authorization)}` : ''}`,
    tags: ['app', payload !== null ? 'sync with a payload' : 'sync', ...(how.indent !== undefined ? ['pretty-printed'] : [])],
  };
});

/** Bodies that are not a Front webhook at all, signed all the same. */
const notFrontBody: fc.Arbitrary<FrontBody> = fc.record({
  scheme: fc.constantFrom<Scheme>('rule', 'app'),
  body: fc.oneof(
    fc.constantFrom('', 'null', '[]', '42', '"evt_1"', 'true', '{}', '{"id":"evt_1"}', '{"type":"inbound"}', ' ', '\ufeff{}').map((text) => ({ text, what: 'a JSON literal' })),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ bytes: Buffer.from(bytes), what: 'random bytes' })),
    fc.json({ maxDepth: 3 }).map((text) => ({ text, what: 'random JSON' })),
    fc.tuple(eventFields, fc.nat()).map(([f, cut]) => {
      const text = JSON.stringify(frontEvent(f));
      return { text: text.slice(0, cut % text.length), what: 'a truncated event' };
    }),
  ),
}).map(({ scheme, body }) => {
  const bytes = 'bytes' in body ? body.bytes : Buffer.from(body.text);
  return { scheme, bytes, expected: { kind: 'unknown' }, what: `${body.what} signed as ${scheme}`, tags: [scheme, body.what] };
});

/** A Front body of one scheme signed under the other: authentic, but not what that scheme carries. */
const crossedBody: fc.Arbitrary<FrontBody> = fc.oneof(ruleEventBody, appEventBody, syncBody).map((body) => {
  const notJson = body.expected.kind === 'unusable' && body.expected.reason === 'invalid_json';
  return {
    ...body,
    scheme: body.scheme === 'rule' ? 'app' : 'rule',
    expected: notJson ? body.expected : { kind: 'unusable', reason: 'invalid_shape', overLimit: false },
    what: `${body.what}, signed as ${body.scheme === 'rule' ? 'app' : 'rule'} instead`,
    tags: [body.scheme === 'rule' ? 'rule body signed as app' : 'app body signed as rule'],
  } satisfies FrontBody;
});

/**
 * Bytes SQS counts for the message ingest queues for an event body: the body as queued plus each attribute's
 * name, type ("String") and value. Only for bodies of ASCII and U+FFFF (each of whose 3 bytes is queued as
 * U+E000 and two hex digits, the `escaped` body encoding), the only ones this file makes near the limit.
 */
export function queuedEventBytes(bytes: Buffer, eventId: string, eventType: string, scheme: Scheme): number {
  const nonCharacters = bytes.toString('latin1').split('\xef\xbf\xbf').length - 1;
  const encoding = nonCharacters > 0 ? 'escaped' : 'utf8';
  const attributes: Record<string, string> = {
    [ATTR.eventId]: eventId, [ATTR.eventType]: eventType, [ATTR.scheme]: scheme,
    [ATTR.receivedAt]: '2026-11-26T12:00:00.000Z', [ATTR.bodyEncoding]: encoding,
  };
  let total = bytes.length + nonCharacters * 12;
  for (const [name, value] of Object.entries(attributes)) total += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  return total;
}

/**
 * A full event whose queued message (body and attributes) would be `delta` bytes from SQS's limit, either way;
 * with one U+FFFF (queued escaped, 12 bytes more) or none.
 */
export function nearLimitEvent(scheme: Scheme, delta: number, nonCharacter: boolean, id: string): FrontBody {
  // Full events only: a preview holds ids and links, never a megabyte.
  const f: EventFields = { id: `evt_big_${id}`, type: 'inbound', emittedAt: 1764160000.5, conversationId: `cnv_big_${id}`, preview: false, text: 'big', brokenSource: false, messageBytes: 0 };
  const build = (pad: number) => {
    const event = frontEvent({ ...f, messageBytes: pad }, nonCharacter ? '\uffff' : '');
    const value = scheme === 'rule' ? event : { type: 'inbound_received', authorization: { id: 'cmp_big' }, payload: event };
    return Buffer.from(JSON.stringify(value).replace(RAW_MARKER, 'note'));
  };
  const empty = queuedEventBytes(build(0), f.id as string, 'inbound', scheme);
  const bytes = build(MAX_MESSAGE_BYTES + delta - empty);
  const total = queuedEventBytes(bytes, f.id as string, 'inbound', scheme);
  return {
    scheme,
    bytes,
    expected: { kind: 'event', eventId: f.id as string, eventType: 'inbound', overLimit: total > MAX_MESSAGE_BYTES },
    what: `${scheme} event of ${bytes.length} bytes, its message ${total - MAX_MESSAGE_BYTES} bytes from the limit${nonCharacter ? ', with a U+FFFF' : ''}`,
    tags: [scheme, total > MAX_MESSAGE_BYTES ? 'message over 1 MiB' : total > MAX_MESSAGE_BYTES - 100 ? 'message within 100 bytes of 1 MiB' : 'message near 1 MiB'],
  };
}

/** A body that is not JSON, `by` bytes over SQS's limit, or under it with room for a dead letter's attributes. */
export function nearLimitNotJson(scheme: Scheme, over: boolean, by: number): FrontBody {
  // Dead letters carry a failure detail of up to 1 KiB more: stay 5000 bytes clear below the limit.
  const size = over ? MAX_MESSAGE_BYTES + by : MAX_MESSAGE_BYTES - 5000 - by;
  const bytes = Buffer.from(`{"id":"evt_cut","note":"${'y'.repeat(size - 24)}`);
  return {
    scheme, bytes, expected: { kind: 'unusable', reason: 'invalid_json', overLimit: over },
    what: `unterminated JSON of ${bytes.length} bytes`, tags: [scheme, over ? 'not JSON, over 1 MiB' : 'not JSON, near 1 MiB'],
  };
}

/** A sync carrying a payload `by` bytes over SQS's limit: answered all the same, since a sync is never queued. */
export function oversizeSync(by: number): FrontBody {
  return {
    scheme: 'app',
    bytes: Buffer.from(JSON.stringify({ type: 'sync', authorization: { id: 'cmp_big' }, payload: 'z'.repeat(MAX_MESSAGE_BYTES + by) })),
    expected: { kind: 'sync' },
    what: `sync carrying ${MAX_MESSAGE_BYTES + by} bytes of payload`,
    tags: ['app', 'sync over 1 MiB'],
  };
}

/**
 * Bodies near SQS's 1 MiB message limit (body and attributes): events whose message would be a few bytes from it,
 * either way; bodies that are not JSON just under and over it; a sync over it (a sync is never queued).
 */
export const nearLimitBody: fc.Arbitrary<FrontBody> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      scheme: fc.constantFrom<Scheme>('rule', 'app'),
      delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-10_000, 10_000, 500_000)),
      nonCharacter: fc.boolean(),
      id: hex(10),
    }).map(({ scheme, delta, nonCharacter, id }) => nearLimitEvent(scheme, delta, nonCharacter, id)),
  },
  {
    weight: 1,
    arbitrary: fc.record({ scheme: fc.constantFrom<Scheme>('rule', 'app'), over: fc.boolean(), by: fc.integer({ min: 1, max: 4000 }) })
      .map(({ scheme, over, by }) => nearLimitNotJson(scheme, over, by)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map(oversizeSync) },
);

/** Any body Front could sign, from the usual to the unusable; near the size limit about once in `rareness` bodies. */
export function signedBody(rareness: number): fc.Arbitrary<FrontBody> {
  return fc.oneof(
    { weight: 10 * rareness, arbitrary: ruleEventBody },
    { weight: 8 * rareness, arbitrary: appEventBody },
    { weight: 3 * rareness, arbitrary: syncBody },
    { weight: 2 * rareness, arbitrary: notFrontBody },
    { weight: 1 * rareness, arbitrary: crossedBody },
    { weight: 24, arbitrary: nearLimitBody },
  );
}

/** Short, printable form of a body for fast-check's counterexample reports (bodies reach 1.5 MB). */
export function printable(body: FrontBody): FrontBody & { [fc.toStringMethod]: () => string } {
  const head = body.bytes.subarray(0, 300).toString('latin1');
  return Object.assign(body, {
    [fc.toStringMethod]: () => `{${body.what}; ${body.bytes.length} bytes${JSON.stringify(head).replace(/^"|"$/g, ' `')}${body.bytes.length > 300 ? '…' : ''}\`; expected ${JSON.stringify(body.expected)}}`,
  });
}
