import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Front's two webhook signature schemes (../shared/front/webhooks.md §1.3, §2.4):
 * - rule webhooks: base64(HMAC-SHA1(secret, rawBody)), no timestamp;
 * - application webhooks: base64(HMAC-SHA256(secret, `${timestamp}:` ‖ rawBody)), timestamp in ms.
 * Both are computed over the bytes as received, never over a re-serialized body.
 */
export type Scheme = 'rule' | 'app';

/** Front refuses nothing older than this; we refuse app requests this far off, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export function signRule(secret: string, body: Uint8Array | string): string {
  return createHmac('sha1', secret).update(body).digest('base64');
}

export function signApp(secret: string, timestamp: string, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(`${timestamp}:`).update(body).digest('base64');
}

/**
 * True when `signature` matches the body under any of `secrets` (several secrets allow rotation).
 * Constant-time per candidate; a signature of the wrong length or not canonical base64 is simply false.
 */
export function verifySignature(
  scheme: Scheme,
  secrets: readonly string[],
  signature: string,
  body: Uint8Array,
  timestamp?: string,
): boolean {
  const text = signature.trim();
  const given = Buffer.from(text, 'base64');
  // Node's base64 decoder skips characters it does not know and stops at padding, so "<sig><sig>" or "<sig>!!"
  // would decode to the right digest: only the canonical encoding of the digest is accepted.
  if (given.toString('base64') !== text) return false;
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(
      // Stryker disable next-line StringLiteral: equivalent in use, ingest passes the timestamp whenever the scheme is app.
      scheme === 'rule' ? signRule(secret, body) : signApp(secret, timestamp ?? '', body),
      'base64',
    );
    // timingSafeEqual throws on a length mismatch; the length of a digest is public anyway.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/** Parses Front's millisecond timestamp header; undefined unless it is a plain positive integer. */
export function parseTimestamp(header: string): number | undefined {
  if (!/^\d{1,16}$/.test(header)) return undefined;
  return Number(header);
}

export function isFresh(timestampMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - timestampMs) <= MAX_CLOCK_SKEW_MS;
}
