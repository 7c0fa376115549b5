/**
 * The AWS SDK's credentials in the functions' bundles: scripts/build.ts aliases @aws-sdk/credential-provider-node
 * (the SDK's default chain) to this module, so every client of a bundle reads its credentials from the environment
 * variables only. On Lambda the runtime puts the function role's credentials there (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and they are what the default chain's first provider returns; the rest
 * of the chain (SSO, INI files, credential process, web identity, login, container and instance metadata) is never
 * reached on Lambda, yet it is about 100 KB of each bundle. `npm start` and the tests set the variables too. Code
 * run from source (scripts, tests, the DLQ tool) is not bundled and keeps the whole chain.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

/** Same name and call as the default chain's, which the SDK clients' runtime configuration imports. */
export function defaultProvider(init?: FromEnvInit): () => Promise<Credentials> {
  const read = fromEnv(init);
  let credentials: Promise<Credentials> | undefined;
  // Read once, as the default chain memoizes: the variables do not change during a Lambda sandbox's life.
  return () => (credentials ??= read().catch((error: unknown) => {
    credentials = undefined;
    throw new Error(
      'No AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the functions read them from the environment ' +
        'only, as Lambda provides them (the default credential chain is left out of the bundle, see scripts/build.ts).',
      { cause: error },
    );
  }));
}
