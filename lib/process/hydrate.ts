import { FrontAuthError, FrontNotFoundError, FrontRateLimitedError, type FrontApiClient } from '../front/api.ts';
import { normalizeEvent, type FrontEvent } from '../front/event.ts';
import type { ApiToken } from '../front/token.ts';
import { validateBody } from '../front/validate.ts';
import { StoreUnavailableError } from '../store/events.ts';
import type { DecodedRecord } from './record.ts';

/** How the process function reaches Front's API, when the stage has a token. */
export interface FrontFetch {
  client: Pick<FrontApiClient, 'getEvent'>;
  token: ApiToken;
  /** HYDRATE_PREVIEWS: previews reach handlers as the full event. References are always fetched. */
  hydratePreviews: boolean;
}

export type Resolved =
  | { ok: true; event: FrontEvent; hydrated: boolean; note?: 'no_token' | 'not_found' | 'not_an_event' }
  /** Front could not be asked now (rate limit, outage, bad token, state table): try again later, no attempt counted. */
  | { ok: false; kind: 'defer'; reason: string; detail: string; retryAfterSeconds?: number; authFailure?: boolean }
  /** The event cannot be had at all: keep the message in the DLQ (as an oversize summary was before). */
  | { ok: false; kind: 'dead_letter'; detail: string };

type Decoded = Extract<DecodedRecord, { ok: true }>;

function describe(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1024);
}

function deferral(error: unknown): Resolved {
  if (error instanceof FrontRateLimitedError) return { ok: false, kind: 'defer', reason: 'front_rate_limited', detail: describe(error), retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) };
  if (error instanceof FrontAuthError) return { ok: false, kind: 'defer', reason: 'front_unauthorized', detail: describe(error), authFailure: true };
  if (error instanceof StoreUnavailableError) return { ok: false, kind: 'defer', reason: 'store_unavailable', detail: describe(error) };
  return { ok: false, kind: 'defer', reason: 'front_unavailable', detail: describe(error) };
}

/**
 * The event a handler gets: as queued, or fetched from Front's API (GET /events/{id}) when the message is a
 * reference to an event too large for SQS, or a preview and the stage hydrates previews. The fetched event keeps
 * how it was delivered (scheme, app envelope fields); it is a full event, typed as such.
 */
export async function resolveEvent(decoded: Decoded, front: FrontFetch | undefined, deadlineAt: number): Promise<Resolved> {
  const wanted = decoded.kind === 'reference' || (front?.hydratePreviews === true && decoded.event.preview);
  if (!wanted) return { ok: true, event: (decoded as Extract<Decoded, { kind: 'event' }>).event, hydrated: false };
  const id = decoded.kind === 'reference' ? decoded.reference.eventId : decoded.event.id;
  const preview = decoded.kind === 'event' ? decoded.event : undefined;

  let token: string | undefined;
  try {
    token = front ? await front.token.get() : undefined;
  } catch (error) {
    return { ok: false, kind: 'defer', reason: 'front_unavailable', detail: describe(error) };
  }
  if (!front || !token) {
    if (preview) return { ok: true, event: preview, hydrated: false, note: 'no_token' };
    return { ok: false, kind: 'dead_letter', detail: `the event (${decoded.kind === 'reference' ? decoded.reference.bytes : '?'} bytes) was too large for SQS and there is no Front API token to fetch it: add one, then redrive` };
  }

  let fetched: unknown;
  try {
    fetched = await front.client.getEvent(id, { deadlineAt });
  } catch (error) {
    if (!(error instanceof FrontNotFoundError)) return deferral(error);
    if (preview) return { ok: true, event: preview, hydrated: false, note: 'not_found' };
    return { ok: false, kind: 'dead_letter', detail: `Front's API has no event ${id} (GET /events/${id} answered 404)` };
  }
  const validated = validateBody('rule', fetched);
  if (!validated.ok) {
    if (preview) return { ok: true, event: preview, hydrated: false, note: 'not_an_event' };
    return { ok: false, kind: 'dead_letter', detail: `Front's API answered for ${id} with ${validated.error}` };
  }
  const full = normalizeEvent('rule', validated.body);
  const app = decoded.kind === 'reference' ? decoded.reference : preview;
  return {
    ok: true,
    hydrated: true,
    event: {
      ...full,
      scheme: decoded.scheme,
      ...(app?.appEventType && { appEventType: app.appEventType }),
      ...(app?.companyId && { companyId: app.companyId }),
    },
  };
}
