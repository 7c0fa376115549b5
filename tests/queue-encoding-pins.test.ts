/**
 * The body encodings of lib/queue.ts on exact inputs: what is kept as text and what is escaped at every boundary of
 * UTF-8 and of what SQS accepts (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), and the round trip back to
 * the bytes received, which the process function needs to find the body the signature was verified on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyText, decodeBody, encodeBody, encodeJsonBody, escapeBytes } from '../lib/queue.ts';

const E = '\uE000';
const bytes = (...values: number[]) => Buffer.from(values);
/** What SQS accepts in a message body, character by character. */
const SQS_TEXT = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('characters SQS accepts are kept as text', () => {
  it('keeps UTF-8 text SQS accepts as it is, at every boundary of its ranges', () => {
    for (const text of ['\t', '\n', '\r', ' ', '~', '@', 'A', 'Z', '_', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue001', '\ufffd', '\u{10000}', '\u{10ffff}', 'é', '😀', '{"a":"b"}']) {
      assert.deepEqual(encodeBody(Buffer.from(text)), { body: text, encoding: 'utf8' }, JSON.stringify(text));
      // Beside a byte that must be escaped, the same characters stay text.
      assert.equal(escapeBytes(Buffer.concat([Buffer.from(text), bytes(0xff)])), `${text}${E}ff`, JSON.stringify(text));
    }
  });

  it('uses the text it is given instead of decoding the bytes again', () => {
    assert.deepEqual(encodeBody(Buffer.from('abc'), 'abc'), { body: 'abc', encoding: 'utf8' });
    assert.deepEqual(encodeJsonBody(Buffer.from('"abc"'), '"abc"'), { body: '"abc"', encoding: 'utf8' });
  });
});

describe('what SQS refuses is escaped, byte by byte, two lower-case hex digits each', () => {
  it('escapes control characters SQS refuses, and only those', () => {
    for (const [cp, kept] of [[0x00, false], [0x08, false], [0x09, true], [0x0a, true], [0x0b, false], [0x0c, false], [0x0d, true], [0x0e, false], [0x1f, false], [0x20, true]] as const) {
      const raw = bytes(0x61, cp, 0x62);
      const expected = kept ? { body: `a${String.fromCharCode(cp)}b`, encoding: 'utf8' } : { body: `a${E}${cp.toString(16).padStart(2, '0')}b`, encoding: 'escaped' };
      assert.deepEqual(encodeBody(raw), expected, `U+${cp.toString(16)}`);
    }
  });

  it('escapes U+FFFE, U+FFFF and the escape U+E000 itself, whole', () => {
    assert.deepEqual(encodeBody(Buffer.from('a\uFFFEb')), { body: `a${E}ef${E}bf${E}beb`, encoding: 'escaped' });
    assert.deepEqual(encodeBody(Buffer.from('\uFFFF')), { body: `${E}ef${E}bf${E}bf`, encoding: 'escaped' });
    assert.deepEqual(encodeBody(Buffer.from(`x${E}y`)), { body: `x${E}ee${E}80${E}80y`, encoding: 'escaped' });
    assert.deepEqual(encodeJsonBody(Buffer.from('"\uFFFE"'), '"\uFFFE"'), { body: `"${E}ef${E}bf${E}be"`, encoding: 'escaped' });
    assert.deepEqual(encodeJsonBody(Buffer.from('"\uFFFF"'), '"\uFFFF"'), { body: `"${E}ef${E}bf${E}bf"`, encoding: 'escaped' });
    assert.deepEqual(encodeJsonBody(Buffer.from(`"${E}"`), `"${E}"`), { body: `"${E}ee${E}80${E}80"`, encoding: 'escaped' });
  });

  it('escapes bytes that are not UTF-8, each on its own', () => {
    const cases: Array<[number[], string]> = [
      [[0x80], `${E}80`], // a continuation byte alone
      [[0xc1, 0xbf], `${E}c1${E}bf`], // a lead byte no sequence starts with
      [[0xc0, 0x80], `${E}c0${E}80`], // overlong NUL
      [[0xe0, 0x80, 0x80], `${E}e0${E}80${E}80`], // overlong, 3 bytes
      [[0xf0, 0x80, 0x80, 0x80], `${E}f0${E}80${E}80${E}80`], // overlong, 4 bytes
      [[0xed, 0xa0, 0x80], `${E}ed${E}a0${E}80`], // U+D800, a surrogate
      [[0xed, 0xbf, 0xbf], `${E}ed${E}bf${E}bf`], // U+DFFF
      [[0xf4, 0x90, 0x80, 0x80], `${E}f4${E}90${E}80${E}80`], // past U+10FFFF
      [[0xf5, 0x80, 0x80, 0x80], `${E}f5${E}80${E}80${E}80`],
      [[0xe2, 0x28, 0xa1], `${E}e2(${E}a1`], // a sequence cut by an ASCII byte
      [[0x61, 0xe2, 0x82], `a${E}e2${E}82`], // truncated at the end
      [[0xff, 0xfe], `${E}ff${E}fe`],
    ];
    for (const [raw, body] of cases) assert.deepEqual(encodeBody(bytes(...raw)), { body, encoding: 'escaped' }, Buffer.from(raw).toString('hex'));
    // JSON.parse accepts the text these bytes decode to (U+FFFD): still escaped, from the bytes.
    assert.deepEqual(encodeJsonBody(bytes(0x22, 0xff, 0x22), '"\uFFFD"'), { body: `"${E}ff"`, encoding: 'escaped' });
  });

  it('keeps zero bytes as the escape of nothing, since SQS refuses an empty body', () => {
    assert.deepEqual(encodeBody(Buffer.alloc(0)), { body: E, encoding: 'escaped' });
    assert.deepEqual(encodeJsonBody(Buffer.alloc(0), ''), { body: E, encoding: 'escaped' });
    assert.deepEqual(decodeBody(E, 'escaped'), Buffer.alloc(0));
  });
});

describe('the round trip', () => {
  it('gives back the exact bytes of any body, from a text SQS accepts', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (array, withText) => {
      const raw = Buffer.from(array);
      const { body, encoding } = withText ? encodeBody(raw, raw.toString('utf8')) : encodeBody(raw);
      assert.ok(body.length > 0);
      assert.match(body, SQS_TEXT);
      assert.deepEqual(decodeBody(body, encoding), raw);
      assert.deepEqual(Buffer.from(bodyText(body, encoding), 'utf8'), Buffer.from(raw.toString('utf8'), 'utf8'));
    }), { numRuns: 2000, seed: 7 });
  });

  it('gives back text of any code points, kept at its size when SQS accepts it', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 32 }), (text) => {
      const raw = Buffer.from(text, 'utf8');
      const { body, encoding } = encodeBody(raw);
      assert.deepEqual(decodeBody(body, encoding), raw);
      if (raw.length > 0 && SQS_TEXT.test(text) && !text.includes(E)) assert.deepEqual({ body, encoding }, { body: text, encoding: 'utf8' });
      else assert.equal(encoding, 'escaped');
    }), { numRuns: 2000, seed: 11 });
  });

  it('reads bodies queued by earlier releases (base64) and bodies as they are (utf8, or no encoding said)', () => {
    assert.deepEqual(decodeBody(Buffer.from([0, 1, 255]).toString('base64'), 'base64'), bytes(0, 1, 255));
    assert.equal(bodyText(Buffer.from('{"a":1}').toString('base64'), 'base64'), '{"a":1}');
    assert.deepEqual(decodeBody('é', 'utf8'), Buffer.from('é'));
    assert.deepEqual(decodeBody(`a${E}ff`, undefined), Buffer.from(`a${E}ff`));
    assert.equal(bodyText(`a${E}ff`, 'utf8'), `a${E}ff`);
    assert.equal(bodyText(`a${E}62c`, 'escaped'), 'abc');
    assert.deepEqual(decodeBody(`${E}00${E}${E}0a`, 'escaped'), bytes(0x00, 0x0a));
  });
});
