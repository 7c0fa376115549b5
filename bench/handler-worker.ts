/**
 * One built handler in its own process, driven over IPC by bench/ingest.ts. It imports the bundle named in argv,
 * receives the events once (`{ events }`, by payload label), then for each `{ payload, n }` calls the handler n
 * times in sequence over that payload's events and answers the CPU (user + system, process.cpuUsage, since the end
 * of its previous round) and wall time per call. Each handler has its own process, so neither pays for the other's
 * heap, GC or JIT; stdout (the ingest log lines) goes to /dev/null. A bundle that exports `setStep`
 * (bench/ingest-steps.ts) also takes `{ step }`, which picks what its next rounds run. Bundled by the benchmark and
 * run with plain `node`, like the bundles.
 */
import dns from 'node:dns';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

// fauxqs names queues http://sqs.<region>.localhost:<port>/…, which this machine's resolver does not know.
const lookup = dns.lookup as (...args: unknown[]) => unknown;
(dns as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]) => lookup(host.endsWith('.localhost') ? '127.0.0.1' : host, ...rest);

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
export type WorkerMessage = { events: Record<string, APIGatewayProxyEventV2[]> } | { payload: string; n: number } | { step: string };
export type WorkerReply = { ready: true } | { cpuUs: number; wallUs: number } | { error: string };

const { handler, setStep } = await import(pathToFileURL(process.argv[2] ?? '').href) as { handler: Handler; setStep?: (step: string) => void };
let events: Record<string, APIGatewayProxyEventV2[]> = {};
let next = 0; // a request never repeats an event the handler saw just before
let since = process.cpuUsage();

const reply = (message: WorkerReply) => process.send!(message);

process.on('message', async (message: WorkerMessage) => {
  if ('events' in message) {
    events = message.events;
    reply({ ready: true });
    return;
  }
  if ('step' in message) {
    // bench/ingest-steps.ts: which rung the next rounds run.
    if (!setStep) return reply({ error: 'this bundle has no steps' });
    setStep(message.step);
    reply({ ready: true });
    return;
  }
  const pool = events[message.payload] ?? [];
  const started = performance.now();
  for (let i = 0; i < message.n; i++) {
    const result = await handler(pool[next++ % pool.length]!);
    if (result.statusCode !== 202) return reply({ error: `answered ${result.statusCode}: ${result.body}` });
  }
  const wallUs = ((performance.now() - started) * 1000) / message.n;
  // CPU since the end of the previous round, not since this one started: work a request leaves for later
  // (timers, garbage collection) is counted even when it runs while the other handler's round is measured.
  const used = process.cpuUsage(since);
  since = process.cpuUsage();
  reply({ cpuUs: (used.user + used.system) / message.n, wallUs });
});
reply({ ready: true });
