import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../config.ts';
import { DynamoRateBudget } from '../store/budget.ts';
import { DEFAULT_REQUESTS_PER_MINUTE, FRONT_API_BASE_URL, FrontApiClient, type FrontApiActivity } from './api.ts';
import { apiTokenFromEnv, type ApiToken } from './token.ts';

/** What this stage does with Front's Core API; read once at cold start. */
export interface FrontApiSettings {
  /** FRONT_API_URL, default https://api2.frontapp.com (the local stack points it at its fake). */
  baseUrl: string;
  token: ApiToken;
  /** FRONT_API_REQUESTS_PER_MINUTE: this deployment's share of the company's limit, shared by every caller. */
  requestsPerMinute: number;
  /** HYDRATE_PREVIEWS=true: previews reach handlers as full events, fetched with GET /events/{id}. */
  hydratePreviews: boolean;
}

/** What the reconciliation lists: the event types and inboxes this stage's Front rule sends (empty: all). */
export interface ReconcileSettings {
  types: string[];
  inboxes: string[];
  /** Re-read this far before the watermark: Front makes some events visible late, and bounds may be exclusive. */
  overlapSeconds: number;
  /** Stop this far before now: events still being written are listed by the next run. */
  settleSeconds: number;
  /** How far back the very first run looks (there is no watermark yet); never past the record window (lib/reconcile.ts). */
  initialLookbackSeconds: number;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}".`);
  return value;
}

export function frontApiSettingsFromEnv(env: NodeJS.ProcessEnv): FrontApiSettings {
  const hydrate = (env.HYDRATE_PREVIEWS ?? '').trim().toLowerCase();
  if (!['', 'true', 'false'].includes(hydrate)) throw new ConfigError(`HYDRATE_PREVIEWS must be true or false, not "${env.HYDRATE_PREVIEWS}".`);
  return {
    baseUrl: env.FRONT_API_URL?.trim() || FRONT_API_BASE_URL,
    token: apiTokenFromEnv(env),
    requestsPerMinute: whole(env, 'FRONT_API_REQUESTS_PER_MINUTE', DEFAULT_REQUESTS_PER_MINUTE, 1, 1000),
    hydratePreviews: hydrate === 'true',
  };
}

export function reconcileSettingsFromEnv(env: NodeJS.ProcessEnv): ReconcileSettings {
  return {
    types: list(env.RECONCILE_TYPES),
    inboxes: list(env.RECONCILE_INBOXES),
    overlapSeconds: whole(env, 'RECONCILE_OVERLAP_SECONDS', 600, 0, 86_400),
    settleSeconds: whole(env, 'RECONCILE_SETTLE_SECONDS', 60, 0, 3600),
    initialLookbackSeconds: whole(env, 'RECONCILE_INITIAL_LOOKBACK_SECONDS', 3600, 60, 30 * 86_400),
  };
}

/** The stage's Front API client: the token as configured, every request within the table-backed shared budget. */
export function createFrontApi(settings: FrontApiSettings, table: { client: DynamoDBClient; tableName: string }, onEvent?: (activity: FrontApiActivity) => void): FrontApiClient {
  return new FrontApiClient({
    baseUrl: settings.baseUrl,
    token: () => settings.token.get(),
    budget: new DynamoRateBudget(table.client, table.tableName, settings.requestsPerMinute),
    ...(onEvent && { onEvent }),
  });
}
