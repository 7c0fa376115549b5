import { validateAppEnvelope, validateFrontEvent, type StandaloneValidator } from '../generated/validators.cjs';
import type { Scheme } from '../signature.ts';
import type { AppEnvelopeBody, FrontEventBody } from './event.ts';

export type Validated =
  | { ok: true; body: FrontEventBody | AppEnvelopeBody }
  | { ok: false; error: string };

/**
 * The first schema error in words an operator can act on. It is logged and kept as a DLQ attribute, so it names
 * only what the schema knows (paths, keywords, the property the schema requires), never a value from the body:
 * the schemas validate no free-form keys (no additionalProperties or patternProperties), so every instance path
 * is made of property names the schema itself declares.
 */
function describe(validator: StandaloneValidator): string {
  const first = validator.errors?.[0];
  if (!first) return 'does not match the schema';
  const where = first.instancePath === '' ? 'the body' : first.instancePath;
  return `${where} ${first.message ?? 'is invalid'}`;
}

/** Checks a parsed body against the schema of its scheme: a Front event (rule) or an app envelope (app). */
export function validateBody(scheme: Scheme, body: unknown): Validated {
  const validator = scheme === 'rule' ? validateFrontEvent : validateAppEnvelope;
  if (validator(body)) return { ok: true, body: body as FrontEventBody | AppEnvelopeBody };
  const kind = scheme === 'rule' ? 'a Front event' : 'a Front application webhook envelope';
  return { ok: false, error: `not ${kind}: ${describe(validator)}` };
}
