import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';

/**
 * The SSM client every parameter read uses (signing secrets, Front's API token): two tries of at most 1.5 s each, so
 * an SSM that does not answer is a clear error within about 3 s (for ingest, a 503 before Front's 5 s are up).
 * `throwOnRequestTimeout`: without it the SDK only logs a warning when requestTimeout passes, and waits on.
 */
export function createSsmClient(config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1500, throwOnRequestTimeout: true },
    ...config,
  });
}
