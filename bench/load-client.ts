/**
 * The load generator of bench/e2e.ts, in its own process so its CPU is not the servers' event loop's: reads
 * `{url, requests: [{body, headers, conversation}], senders}` on stdin, sends them with `senders` concurrent
 * workers (each conversation always through the same worker, in order, so the order events reach ingest is the
 * order they were sent), and prints `{seconds, latencies, statuses, sentAt}` on stdout.
 */
import { request as httpRequest, Agent } from 'node:http';

interface Input { url: string; senders: number; requests: Array<{ id: string; body: string; headers: Record<string, string>; conversation: string }> }

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Input;
const url = new URL(input.url);
const agent = new Agent({ keepAlive: true, maxSockets: input.senders });

function post(body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const lanes: Array<Input['requests']> = Array.from({ length: input.senders }, () => []);
const laneOf = new Map<string, number>();
for (const r of input.requests) {
  if (!laneOf.has(r.conversation)) laneOf.set(r.conversation, laneOf.size % input.senders);
  lanes[laneOf.get(r.conversation)!]!.push(r);
}
const latencies: number[] = [];
const statuses: Record<number, number> = {};
const sentAt: Record<string, number> = {};
const started = performance.now();
await Promise.all(lanes.map(async (lane) => {
  for (const r of lane) {
    const t0 = performance.now();
    sentAt[r.id] = Date.now();
    const status = await post(r.body, r.headers);
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
}));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(JSON.stringify({ seconds, latencies, statuses, sentAt }));
