/**
 * The inspector's server side, on the local stack's own port (never deployed): the page at / (local/inspector/,
 * plain HTML, CSS and JavaScript: nothing to build) and its API under /_local/:
 * - GET  /_local/timeline?since=N  the functions' lines after N (requests, events, reconciliation runs)
 * - GET  /_local/stream            the same, live (server-sent events)
 * - GET  /_local/dlq               the dead letters, with their reasons (peeked: they stay)
 * - POST /_local/dlq/redrive       {"ids": [...]} or {"all": true}: back to the queue (lib/dlq.ts redriveAll)
 * - POST /_local/send              {"type", "scheme"?, "preview"?, "count"?, "missed"?, "deadLetter"?}: sample events
 * - POST /_local/reconcile         runs the reconciliation now (else every 30 s): a "missed" event shows up at once
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDeadLetters, redriveAll, release, select } from '../lib/dlq.ts';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import { localSqsClient } from './sqs.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoEventStore, type EventStore } from '../lib/store/events.ts';
import { localDynamoClient } from './dynamodb.ts';
import { sendOne, type SendResult } from './send.ts';
import type { LocalStack } from './stack.ts';

const PAGE_DIR = fileURLToPath(new URL('./inspector/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function serveFile(response: ServerResponse, name: string): void {
  const file = normalize(join(PAGE_DIR, name));
  if (!file.startsWith(PAGE_DIR) || !existsSync(file)) return json(response, 404, { error: 'not_found', message: `No ${name} here.` });
  response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  response.end(readFileSync(file));
}

/** The page's SQS and state-table clients, built once per stack rather than per request. */
const clients = new WeakMap<LocalStack, Promise<{ client: SQSClient; store: EventStore }>>();
function clientsOf(stack: LocalStack): Promise<{ client: SQSClient; store: EventStore }> {
  let made = clients.get(stack);
  if (!made) {
    made = localSqsClient(stack.sqsEndpoint).then((client) => ({
      client,
      store: createDynamoEventStore({ client: localDynamoClient(stack.dynamoEndpoint), tableName: stack.tableName }),
    }));
    clients.set(stack, made);
  }
  return made;
}

export async function handleInspector(request: IncomingMessage, response: ServerResponse, path: string, stack: LocalStack): Promise<void> {
  try {
    if (request.method === 'GET' && path === '/') return serveFile(response, 'index.html');
    if (request.method === 'GET' && path.startsWith('/_local/page/')) return serveFile(response, path.slice('/_local/page/'.length));
    if (request.method === 'GET' && path === '/_local/timeline') {
      const since = Number(new URL(request.url ?? '', 'http://localhost').searchParams.get('since') ?? 0) || 0;
      return json(response, 200, { entries: stack.timeline.since(since) });
    }
    if (request.method === 'GET' && path === '/_local/stream') {
      // connection: close, so the socket goes with the stream when the stopping stack ends it.
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'close' });
      // A comment line sends the headers now: the page knows it is connected before the first line.
      response.write(': connected\n\n');
      const since = Number(request.headers['last-event-id'] ?? 0) || 0;
      for (const entry of stack.timeline.since(since)) response.write(`id: ${entry.seq}\ndata: ${JSON.stringify(entry)}\n\n`);
      const unsubscribe = stack.timeline.subscribe((entry) => response.write(`id: ${entry.seq}\ndata: ${JSON.stringify(entry)}\n\n`), () => response.end());
      request.on('close', unsubscribe);
      return;
    }
    if (request.method === 'GET' && path === '/_local/info') {
      return json(response, 200, { url: stack.url, types: FRONT_EVENT_TYPES, queueUrl: stack.queueUrl, dlqUrl: stack.dlqUrl });
    }
    if (request.method === 'POST' && path === '/_local/reconcile') {
      await stack.reconcile();
      return json(response, 200, { done: true });
    }
    const { client, store } = await clientsOf(stack);
    if (request.method === 'GET' && path === '/_local/dlq') {
      const letters = await readDeadLetters(client, stack.dlqUrl);
      await release(client, stack.dlqUrl, letters);
      return json(response, 200, { letters: letters.map(({ receiptHandle: _, attributes: __, body: ___, ...rest }) => rest) });
    }
    if (request.method === 'POST' && path === '/_local/dlq/redrive') {
      const body = await readJson(request);
      const ids = Array.isArray(body.ids) ? body.ids.filter((id): id is string => typeof id === 'string') : [];
      if (ids.length === 0 && body.all !== true) return json(response, 400, { error: 'bad_request', message: 'Send {"ids": ["evt_…"]} or {"all": true}.' });
      const result = await redriveAll(client, stack.dlqUrl, stack.queueUrl, (letters) => select(letters, ids));
      return json(response, 200, {
        redriven: result.redriven.map((l) => ({ messageId: l.messageId, eventId: l.eventId, reason: l.reason })),
        skipped: result.skipped.map(({ letter, why }) => ({ messageId: letter.messageId, eventId: letter.eventId, why })),
      });
    }
    if (request.method === 'POST' && path === '/_local/send') {
      const body = await readJson(request);
      const type = typeof body.type === 'string' ? body.type : 'inbound';
      if (!/^[a-z][a-z0-9_]{0,79}$/.test(type)) return json(response, 400, { error: 'bad_request', message: `"${type}" is not an event type.` });
      const scheme = body.scheme === 'app' ? 'app' : 'rule';
      const count = Math.min(Math.max(Number(body.count) || 1, 1), 100);
      const results: SendResult[] = [];
      for (let i = 0; i < count; i++) {
        results.push(await sendOne({
          url: stack.url, scheme, secret: stack.secrets[scheme].split(',')[0]!.trim(), type, preview: body.preview === true,
          frontUrl: stack.frontUrl, missed: body.missed === true,
          ...(body.deadLetter === true && {
            deadLetter: { client, dlqUrl: stack.dlqUrl, store },
          }),
        }));
      }
      return json(response, 200, { results });
    }
    return json(response, 404, { error: 'not_found', message: `No ${request.method} ${path} in the inspector's API.` });
  } catch (error) {
    return json(response, 400, { error: 'bad_request', message: error instanceof Error ? error.message : String(error) });
  }
}
