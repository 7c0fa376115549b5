/**
 * DynamoDB's eventually consistent reads, inside dynalite (which is always consistent): for `readLagMs` after an
 * item is written, a GetItem (or a BatchGetItem, which dynalite runs as GetItems) that does not ask for
 * ConsistentRead sees the item as it was before the write. DynamoDB documents that such a read "might not reflect
 * the results of a recently completed write" (usually within a second); code that relies on reading its own write
 * must ask for a consistent read, and this makes the local stack and the tests catch code that does not.
 *
 * dynalite's actions are CommonJS modules it captures when it loads; they are wrapped in Node's module cache before
 * that, so no extra hop is added: before a write, the item is read (consistently, in-process) and that version is
 * kept, per table and key, until the lag has passed. The lag comes from the `readLagMs` option given to dynalite
 * (each instance has its own); 0 or absent: consistent, as dynalite is.
 */
import { createRequire } from 'node:module';

type Item = Record<string, unknown>;
type Callback = (error: unknown, data?: Record<string, unknown>) => void;
interface Store {
  options: { readLagMs?: number };
  getTable(name: string, cb: (error: unknown, table?: { KeySchema: Array<{ AttributeName: string }> }) => void): void;
}
type Action = (store: Store, data: Record<string, unknown>, cb: Callback) => void;

const require = createRequire(import.meta.url);
const versions = new WeakMap<Store, Map<string, { item: Item | undefined; until: number }>>();
let applied = false;

function staleVersion(store: Store, tableName: unknown, key: unknown): { item: Item | undefined } | undefined {
  const kept = versions.get(store);
  const id = `${String(tableName)}\n${JSON.stringify(key)}`;
  const entry = kept?.get(id);
  if (!entry) return undefined;
  if (entry.until <= Date.now()) {
    kept?.delete(id);
    return undefined;
  }
  return entry;
}

/** Wraps dynalite's actions; call before dynalite itself is loaded. */
export function makeDynaliteEventuallyConsistent(): void {
  if (applied) return;
  if (require.cache[require.resolve('dynalite')]) throw new Error('dynalite was loaded before local/eventual-consistency.ts could wrap its actions');
  const path = (name: string) => require.resolve(`dynalite/actions/${name}`);
  const load = (name: string) => require(path(name)) as Action;
  const replace = (name: string, action: Action) => {
    const cached = require.cache[path(name)];
    if (!cached) throw new Error(`dynalite changed: actions/${name} is not a module; review local/eventual-consistency.ts`);
    cached.exports = action;
  };

  const getItem = load('getItem');
  replace('getItem', (store, data, cb) => {
    if (data.ConsistentRead !== true) {
      const stale = staleVersion(store, data.TableName, data.Key);
      if (stale) return cb(null, stale.item ? { Item: stale.item } : {});
    }
    getItem(store, data, cb);
  });

  for (const name of ['updateItem', 'putItem', 'deleteItem']) {
    const write = load(name);
    replace(name, (store, data, cb) => {
      const lagMs = store.options.readLagMs ?? 0;
      if (lagMs <= 0) return write(store, data, cb);
      store.getTable(String(data.TableName), (tableError, table) => {
        if (tableError || !table) return write(store, data, cb);
        const key = name === 'putItem'
          ? Object.fromEntries(table.KeySchema.map((k) => [k.AttributeName, (data.Item as Item)[k.AttributeName]]))
          : (data.Key as Item);
        getItem(store, { TableName: data.TableName, Key: key, ConsistentRead: true }, (_readError, before) => {
          const kept = versions.get(store) ?? new Map<string, { item: Item | undefined; until: number }>();
          versions.set(store, kept);
          const id = `${String(data.TableName)}\n${JSON.stringify(key)}`;
          const previous = kept.get(id);
          // Several writes within the lag: reads keep seeing the version before the first of them.
          const item = previous && previous.until > Date.now() ? previous.item : (before?.Item as Item | undefined);
          kept.set(id, { item, until: Date.now() + lagMs });
          write(store, data, cb);
        });
      });
    });
  }
  applied = true;
}
