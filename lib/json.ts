/**
 * JSON.parse for bodies whose content must never reach a log line or a queue attribute: V8's messages quote the
 * start of the input (`Unexpected token 'S', "SECRETBODY"... is not valid JSON`), so only the kind of error and
 * the position are kept.
 */
export type Parsed = { ok: true; value: unknown } | { ok: false; detail: string };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, detail: `the body is not JSON (${jsonErrorWithoutContent(error)})` };
  }
}

export function jsonErrorWithoutContent(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^Unexpected end of JSON input/.test(message)) return 'it is empty or ends early';
  const located = /^([A-Za-z -]+?)(?: in JSON)? at position (\d+)/.exec(message);
  if (located) return `${located[1]} at position ${located[2]}`;
  return 'an unexpected character';
}
