/** Settings read from the environment once per cold start; a missing one fails the init with a clear message. */
export interface IngestConfig {
  queueUrl: string;
  dlqUrl: string;
  sendDeadlineMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function required(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is not set: it must hold ${what}.`);
  return value;
}

/** Front gives up after 5 s; one SQS send (retries included) must end well before that. */
export const DEFAULT_SEND_DEADLINE_MS = 2500;

export function ingestConfigFromEnv(env: NodeJS.ProcessEnv): IngestConfig {
  const deadline = Number(env.SQS_SEND_DEADLINE_MS ?? DEFAULT_SEND_DEADLINE_MS);
  if (!Number.isFinite(deadline) || deadline < 100 || deadline > 4000) {
    throw new ConfigError(`SQS_SEND_DEADLINE_MS must be between 100 and 4000 (milliseconds), not ${env.SQS_SEND_DEADLINE_MS}.`);
  }
  return {
    queueUrl: required(env, 'QUEUE_URL', 'the URL of the FIFO queue events are sent to'),
    dlqUrl: required(env, 'DLQ_URL', 'the URL of the FIFO dead-letter queue'),
    sendDeadlineMs: deadline,
  };
}
