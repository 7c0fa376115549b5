/**
 * The last lines the local functions wrote, in order, for the inspector page: requests (ingest's line per request)
 * and what became of each event (processed, failed, skipped, deferred, dead-lettered), reconciliation runs.
 * In memory only, bounded.
 */
export type FunctionName = 'ingest' | 'process' | 'reconcile';

export interface TimelineEntry {
  seq: number;
  fn: FunctionName;
  line: Record<string, unknown>;
}

export class Timeline {
  private readonly entries: TimelineEntry[] = [];
  private readonly listeners = new Set<(entry: TimelineEntry) => void>();
  private seq = 0;

  constructor(private readonly max = 2000) {}

  add(fn: FunctionName, line: Record<string, unknown>): void {
    const entry = { seq: ++this.seq, fn, line };
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    for (const listener of this.listeners) listener(entry);
  }

  /** Entries after `seq` (all kept ones for 0). */
  since(seq: number): TimelineEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  subscribe(listener: (entry: TimelineEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
