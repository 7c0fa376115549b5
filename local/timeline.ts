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
  private readonly listeners = new Map<(entry: TimelineEntry) => void, (() => void) | undefined>();
  private seq = 0;

  constructor(private readonly max = 2000) {}

  add(fn: FunctionName, line: Record<string, unknown>): void {
    const entry = { seq: ++this.seq, fn, line };
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    for (const listener of this.listeners.keys()) listener(entry);
  }

  /** Entries after `seq` (all kept ones for 0). */
  since(seq: number): TimelineEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  /** `onClose` runs when the timeline closes (the stack stops). */
  subscribe(listener: (entry: TimelineEntry) => void, onClose?: () => void): () => void {
    this.listeners.set(listener, onClose);
    return () => this.listeners.delete(listener);
  }

  /** Ends every subscription: a page's live stream must not keep the stopping stack's server open. */
  close(): void {
    const onCloses = [...this.listeners.values()];
    this.listeners.clear();
    for (const onClose of onCloses) onClose?.();
  }
}
