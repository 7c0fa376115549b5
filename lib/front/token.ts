import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { createSsmClient } from '../ssm.ts';

/**
 * Front's API token for this stage: FRONT_API_TOKEN (local runs, tests), or the SSM SecureString named by
 * FRONT_API_TOKEN_PARAM (deployed: `/<service>/<stage>/api-token`, only the name in the template).
 * A parameter that does not exist means "no token": reconciliation, hydration and oversize fetches are off,
 * and turn on by themselves once the parameter is created: an instance reads it again when its copy is over
 * 5 minutes old, in the background (stale-while-revalidate: the answer serves the next call, and no call waits on
 * SSM after the first), so within about 10 to 15 minutes (docs/operations.md).
 */
export interface ApiToken {
  /** Where the token comes from, for the start-up line (never the token itself). */
  readonly source: string;
  /** The token, or undefined when none is configured. Throws when SSM cannot be reached and nothing is known yet. */
  get(): Promise<string | undefined>;
}

export const TOKEN_MAX_AGE_MS = 5 * 60 * 1000;

export function apiTokenFromEnv(env: NodeJS.ProcessEnv, options: { ssm?: SSMClient; now?: () => number } = {}): ApiToken {
  const literal = env.FRONT_API_TOKEN?.trim();
  if (literal) return { source: 'FRONT_API_TOKEN', get: async () => literal };
  const name = env.FRONT_API_TOKEN_PARAM?.trim();
  if (!name) return { source: 'none (FRONT_API_TOKEN_PARAM not set)', get: async () => undefined };
  const now = options.now ?? Date.now;
  let client = options.ssm;
  let known: { token: string | undefined; readAt: number } | undefined;
  let reading: Promise<string | undefined> | undefined;
  const read = () => {
    reading ??= (async () => {
      client ??= createSsmClient();
      try {
        const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
        const token = Parameter?.Value?.trim() || undefined;
        known = { token, readAt: now() };
        return token;
      } catch (error) {
        if (error instanceof ParameterNotFound) {
          known = { token: undefined, readAt: now() };
          return undefined;
        }
        throw new Error(`could not read the Front API token from SSM parameter ${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    })().finally(() => { reading = undefined; });
    return reading;
  };
  return {
    source: `SSM parameter ${name}`,
    async get() {
      if (!known) return read();
      if (now() - known.readAt > TOKEN_MAX_AGE_MS) read().catch(() => {});
      return known.token;
    },
  };
}
