import { validateAppEnvelope, validateFrontEvent, type StandaloneValidator } from '../generated/validators.cjs';
import type { Scheme } from '../signature.ts';
import type { AppEnvelopeBody, FrontEventBody } from './event.ts';

export type Validated =
  | { ok: true; body: FrontEventBody | AppEnvelopeBody }
  | { ok: false; error: string };

function describe(validator: StandaloneValidator): string {
  const first = validator.errors?.[0];
  if (!first) return 'does not match the schema';
  const where = first.instancePath === '' ? 'the body' : first.instancePath;
  const extra = first.keyword === 'additionalProperties' || first.keyword === 'required'
    ? ` (${JSON.stringify(first.params)})`
    : '';
  return `${where} ${first.message ?? 'is invalid'}${extra}`;
}

/** Checks a parsed body against the schema of its scheme: a Front event (rule) or an app envelope (app). */
export function validateBody(scheme: Scheme, body: unknown): Validated {
  const validator = scheme === 'rule' ? validateFrontEvent : validateAppEnvelope;
  if (validator(body)) return { ok: true, body: body as FrontEventBody | AppEnvelopeBody };
  const kind = scheme === 'rule' ? 'a Front event' : 'a Front application webhook envelope';
  return { ok: false, error: `not ${kind}: ${describe(validator)}` };
}
