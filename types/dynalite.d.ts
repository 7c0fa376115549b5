// dynalite ships no types; this is the part of its API the local stack uses (dynalite/index.js).
declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    /** LevelDB directory; in memory when absent. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** The local stack's own option (local/eventual-consistency.ts): eventually consistent reads lag writes this long. */
    readLagMs?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
