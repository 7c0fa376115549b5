/**
 * DynamoDB's eventually consistent reads, in front of dynalite (which is always consistent): for `lagMs` after
 * an item is written, a GetItem or BatchGetItem that does not ask for ConsistentRead sees the item as it was
 * before the write. DynamoDB documents that such a read "might not reflect the results of a recently completed
 * write" (usually within a second); code that relies on reading its own write must ask for a consistent read,
 * and this makes the local stack and the tests catch code that does not.
 *
 * A loopback HTTP proxy speaking DynamoDB's JSON protocol: before forwarding a write it reads the item
 * (consistently) and keeps that version, keyed by table and key, until the lag has passed.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import table from '../lib/table.json' with { type: 'json' };

type AttributeMap = Record<string, unknown>;

export interface EventualConsistency {
  /** http://127.0.0.1:<port>: give it to the functions as their DynamoDB endpoint. */
  endpoint: string;
  /** Eventually consistent reads served a stale version so far (for tests). */
  readonly staleReads: number;
  stop(): Promise<void>;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startEventualConsistency(options: { target: string; lagMs: number; port?: number }): Promise<EventualConsistency> {
  const target = new URL(options.target);
  /** `<table>\n<key JSON>` → the item before the latest write (undefined: it did not exist), until when. */
  const stale = new Map<string, { item: AttributeMap | undefined; until: number }>();
  let staleReads = 0;
  const keyOf = (tableName: string, key: AttributeMap) => `${tableName}\n${JSON.stringify(key)}`;

  const forward = (action: string, headers: IncomingMessage['headers'], body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest({ host: target.hostname, port: target.port, method: 'POST', path: '/', headers: { ...headers, 'x-amz-target': action, 'content-length': String(body.length) } }, (response) => {
        readAll(response).then((b) => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') h[k] = v;
          resolve({ status: response.statusCode ?? 500, headers: h, body: b });
        }, reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const remember = async (headers: IncomingMessage['headers'], tableName: string, key: AttributeMap) => {
    // The version reads will see until the lag passes: the item as it is now, before the write.
    const read = await forward('DynamoDB_20120810.GetItem', headers, Buffer.from(JSON.stringify({ TableName: tableName, Key: key, ConsistentRead: true })));
    const item = read.status === 200 ? (JSON.parse(read.body.toString('utf8')) as { Item?: AttributeMap }).Item : undefined;
    const entry = stale.get(keyOf(tableName, key));
    // Several writes within the lag: reads keep seeing the version before the first of them.
    stale.set(keyOf(tableName, key), { item: entry && entry.until > Date.now() ? entry.item : item, until: Date.now() + options.lagMs });
  };
  const staleVersion = (tableName: string, key: AttributeMap) => {
    const entry = stale.get(keyOf(tableName, key));
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      stale.delete(keyOf(tableName, key));
      return undefined;
    }
    return entry;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const action = String(req.headers['x-amz-target'] ?? '');
      const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const op = action.split('.')[1];
      if (op === 'UpdateItem' || op === 'DeleteItem' || op === 'PutItem') {
        const key = op === 'PutItem'
          ? { [table.partitionKey]: (input.Item as AttributeMap)[table.partitionKey] }
          : (input.Key as AttributeMap);
        await remember(req.headers, String(input.TableName), key);
      }
      if (op === 'GetItem' && input.ConsistentRead !== true) {
        const entry = staleVersion(String(input.TableName), input.Key as AttributeMap);
        if (entry) {
          staleReads += 1;
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify(entry.item ? { Item: entry.item } : {}));
          return;
        }
      }
      const answer = await forward(action, req.headers, body);
      if (op === 'BatchGetItem' && answer.status === 200) {
        // Per table: replace what a stale version would show.
        const requested = input.RequestItems as Record<string, { Keys: AttributeMap[]; ConsistentRead?: boolean }>;
        const parsed = JSON.parse(answer.body.toString('utf8')) as { Responses?: Record<string, AttributeMap[]> };
        for (const [tableName, request] of Object.entries(requested)) {
          if (request.ConsistentRead === true) continue;
          const items = parsed.Responses?.[tableName] ?? [];
          for (const key of request.Keys) {
            const entry = staleVersion(tableName, key);
            if (!entry) continue;
            staleReads += 1;
            const k = JSON.stringify(key[table.partitionKey]);
            const at = items.findIndex((item) => JSON.stringify(item[table.partitionKey]) === k);
            if (at >= 0) items.splice(at, 1);
            if (entry.item) items.push(entry.item);
          }
          if (parsed.Responses) parsed.Responses[tableName] = items;
        }
        const out = Buffer.from(JSON.stringify(parsed));
        // The body changed: drop the CRC32 dynalite computed over the old one (the SDK checks it when present).
        const { 'x-amz-crc32': _crc, ...headers } = answer.headers;
        res.writeHead(200, { ...headers, 'content-length': String(out.length) });
        res.end(out);
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: error instanceof Error ? error.message : String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get staleReads() { return staleReads; },
    stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
