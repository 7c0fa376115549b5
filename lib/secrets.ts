import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Scheme } from './signature.ts';
import { createSsmClient } from './ssm.ts';

/**
 * Where each scheme's signing secrets come from. A value holds one secret or several,
 * comma-separated: any of them verifies, so a secret can be rotated without downtime.
 * - `FRONT_RULE_SECRET` / `FRONT_APP_SECRET`: the value itself (local runs and tests);
 * - `FRONT_RULE_SECRET_PARAM` / `FRONT_APP_SECRET_PARAM`: the name of an SSM SecureString (deployed).
 */
export const SECRET_SETTINGS = {
  rule: { value: 'FRONT_RULE_SECRET', parameter: 'FRONT_RULE_SECRET_PARAM' },
  app: { value: 'FRONT_APP_SECRET', parameter: 'FRONT_APP_SECRET_PARAM' },
} as const;

/** How long a value read from SSM is trusted before it is read again (picks up rotations). */
export const SECRET_MAX_AGE_SECONDS = 300;

export type SecretSource = { kind: 'value'; value: string } | { kind: 'ssm'; name: string } | { kind: 'none' };

export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
  /** The parameter and region it tried ("SSM parameter /svc/stage/rule-secret in eu-west-1"): names, no values. */
  readonly where: string;

  constructor(message: string, options: ErrorOptions & { where: string }) {
    super(message, options);
    this.where = options.where;
  }
}

export function splitSecrets(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function secretSourcesFromEnv(env: NodeJS.ProcessEnv): Record<Scheme, SecretSource> {
  const source = (scheme: Scheme): SecretSource => {
    const { value, parameter } = SECRET_SETTINGS[scheme];
    const literal = env[value];
    if (literal !== undefined && splitSecrets(literal).length > 0) return { kind: 'value', value: literal };
    const name = env[parameter];
    if (name) return { kind: 'ssm', name };
    return { kind: 'none' };
  };
  return { rule: source('rule'), app: source('app') };
}

/** A message an operator can act on when a scheme has no secret. */
export function missingSecretMessage(scheme: Scheme): string {
  const { value, parameter } = SECRET_SETTINGS[scheme];
  const kind = scheme === 'rule' ? 'rule webhook (API) secret' : 'application webhook (app) secret';
  return `no ${kind} is configured: set ${value}, or ${parameter} to the name of an SSM SecureString`;
}

export interface SecretStore {
  /** The secrets of a scheme; `undefined` when none is configured. Throws SecretsUnavailableError when SSM fails. */
  get(scheme: Scheme): Promise<readonly string[] | undefined>;
}

/**
 * Secrets from the environment or SSM Parameter Store (SecureString, decrypted: one GetParameter with the SDK's
 * SSMClient; the caching is done here, per scheme). `preload()` reads SSM at cold start. After that the request
 * path never waits on SSM: a value older than SECRET_MAX_AGE_SECONDS is still used while a background read
 * replaces it (stale-while-revalidate), and a failed background read keeps the last good value.
 * Only a cold start whose read failed makes a request wait on SSM (and answer 503 if it fails again).
 */
export function createSecretStore(
  sources: Record<Scheme, SecretSource>,
  ssmClient?: SSMClient,
  now: () => number = Date.now,
): SecretStore & { preload(): Promise<void> } {
  let client = ssmClient;
  const ssm = (): SSMClient => {
    client ??= createSsmClient();
    return client;
  };
  const literal = {
    rule: sources.rule.kind === 'value' ? splitSecrets(sources.rule.value) : undefined,
    app: sources.app.kind === 'value' ? splitSecrets(sources.app.value) : undefined,
  };
  const cached = new Map<Scheme, { secrets: string[]; readAt: number }>();
  const reading = new Map<Scheme, Promise<string[]>>();

  const read = (scheme: Scheme, name: string): Promise<string[]> => {
    const pending = reading.get(scheme);
    if (pending) return pending;
    const attempt = (async () => {
      let value: string | undefined;
      // Where it looked, for the 503 and the log line: a parameter put in another region is the usual mistake.
      const where = async () => `SSM parameter ${name} in ${await ssm().config.region().catch(() => 'an unknown region')}`;
      try {
        const output = await ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
        value = output.Parameter?.Value;
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        const at = await where();
        throw new SecretsUnavailableError(`could not read ${at}: ${detail}`, { cause: error, where: at });
      }
      const secrets = value === undefined ? [] : splitSecrets(value);
      if (secrets.length === 0) {
        const at = await where();
        throw new SecretsUnavailableError(`${at} is empty`, { where: at });
      }
      cached.set(scheme, { secrets, readAt: now() });
      return secrets;
    })().finally(() => reading.delete(scheme));
    reading.set(scheme, attempt);
    return attempt;
  };

  const get = async (scheme: Scheme): Promise<readonly string[] | undefined> => {
    const source = sources[scheme];
    if (source.kind === 'none') return undefined;
    if (source.kind === 'value') return literal[scheme];
    const entry = cached.get(scheme);
    if (!entry) return read(scheme, source.name);
    if (now() - entry.readAt > SECRET_MAX_AGE_SECONDS * 1000) {
      // Refresh in the background; until it lands (or if it fails) the last good value keeps verifying.
      read(scheme, source.name).catch(() => {});
    }
    return entry.secrets;
  };
  return {
    get,
    /** Reads every SSM-held secret now (joining a read already in flight); failures are left for get() to report. */
    async preload() {
      await Promise.allSettled((['rule', 'app'] as const).map((scheme) => {
        const source = sources[scheme];
        return source.kind === 'ssm' ? read(scheme, source.name) : undefined;
      }));
    },
  };
}
