import type { SQSRecord } from 'aws-lambda';

/** What became of one record: acknowledged (processed, skipped or dead-lettered), or to be tried again later. */
export type RecordOutcome = { kind: 'done' } | { kind: 'retry'; delaySeconds: number };

/** A record left for a later invocation, and when it should come back. */
export interface Unfinished {
  record: SQSRecord;
  delaySeconds: number;
  /** `failed`: its own outcome; `held_back`: behind a retried record of its group; `deferred`: the batch ran out of time. */
  why: 'failed' | 'held_back' | 'deferred';
}

export interface FifoBatchOptions {
  /** How many groups run at once. */
  concurrency: number;
  /** Epoch ms after which no record starts: those left are deferred, to come back at once. */
  deadline: number;
  now?: () => number;
}

/** The message group of a record (a conversation); a record without one is its own group. */
export function groupOf(record: SQSRecord): string {
  return record.attributes?.MessageGroupId ?? `message:${record.messageId}`;
}

/**
 * Runs a FIFO batch the way its order requires and no stricter: the records of one message group (one
 * conversation) strictly one after another, in the order SQS delivered them; different groups concurrently, up to
 * `concurrency` at once. When a record is to be retried, the records behind it in its group are held back with it
 * (they come back together, in order); other groups go on. `processRecord` must not throw: a throw is a bug, and
 * its record is retried as if the function had crashed on it.
 */
export async function runFifoBatch(
  records: readonly SQSRecord[],
  processRecord: (record: SQSRecord) => Promise<RecordOutcome>,
  options: FifoBatchOptions,
): Promise<Unfinished[]> {
  const now = options.now ?? Date.now;
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = groups.get(groupOf(record));
    if (group) group.push(record);
    else groups.set(groupOf(record), [record]);
  }
  const unfinished: Unfinished[] = [];

  async function runGroup(group: readonly SQSRecord[]): Promise<void> {
    for (let i = 0; i < group.length; i++) {
      const record = group[i]!;
      if (now() >= options.deadline) {
        for (const rest of group.slice(i)) unfinished.push({ record: rest, delaySeconds: 0, why: 'deferred' });
        return;
      }
      let outcome: RecordOutcome;
      try {
        outcome = await processRecord(record);
      } catch {
        outcome = { kind: 'retry', delaySeconds: 0 };
      }
      if (outcome.kind === 'retry') {
        unfinished.push({ record, delaySeconds: outcome.delaySeconds, why: 'failed' });
        for (const rest of group.slice(i + 1)) unfinished.push({ record: rest, delaySeconds: outcome.delaySeconds, why: 'held_back' });
        return;
      }
    }
  }

  const queue = [...groups.values()];
  const workers = Array.from({ length: Math.min(Math.max(1, options.concurrency), queue.length) }, async () => {
    for (let group = queue.shift(); group; group = queue.shift()) await runGroup(group);
  });
  await Promise.all(workers);
  return unfinished;
}
