import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { appEnvelope, sampleEvent } from '../lib/front/samples.ts';
import { DEFAULT_SEND_DEADLINE_MS } from '../lib/config.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

/** Front gives up on a webhook after 5 s: a 503 must reach it before then. A functional deadline, not a benchmark. */
const FRONT_TIMEOUT_MS = 5000;

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('unavailable'); });
after(async () => { await sqs.stop(); });

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve(typeof address === 'object' && address ? address.port : 0);
  }));
}

/** A loopback port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('queue unreachable', () => {
  // A TCP server that accepts every connection and never answers: the slow failure, where only timeouts help.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let silentPort = 0;
  before(async () => { silentPort = await listen(silent); });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  for (const [name, port] of [['a closed port', closedPort], ['a server that never answers', () => Promise.resolve(silentPort)]] as const) {
    it(`answers 503 queue_unavailable before Front's 5 s when the queue is ${name}`, async () => {
      // Prepare
      const endpoint = `http://127.0.0.1:${await port()}`;
      const queueUrl = `${endpoint}/000000000000/unreachable-events.fifo`;
      const ingest = ingestUnderTest(sqs, { endpoint, queueUrl, dlqUrl: `${endpoint}/000000000000/unreachable-dlq.fifo`, sendDeadlineMs: DEFAULT_SEND_DEADLINE_MS });
      const started = performance.now();
      // Act
      const rule = await ingest.send(signed('rule', sampleEvent()));
      const ruleMs = performance.now() - started;
      const app = await ingest.send(signed('app', appEnvelope(sampleEvent())));
      const appMs = performance.now() - started - ruleMs;
      // Assess
      for (const [response, ms] of [[rule, ruleMs], [app, appMs]] as const) {
        assert.equal(response.status, 503);
        assert.deepEqual(Object.keys(response.json).sort(), ['error', 'message']);
        assert.equal(response.json.error, 'queue_unavailable');
        assert.equal(response.headers['retry-after'], '5');
        assert.ok(ms < FRONT_TIMEOUT_MS, `answered after ${Math.round(ms)} ms; Front gives up at ${FRONT_TIMEOUT_MS} ms`);
      }
      assert.deepEqual(ingest.logs.map((l) => [l.outcome, l.reason]), [['unavailable', 'queue_unavailable'], ['unavailable', 'queue_unavailable']]);
    });
  }

  it('answers 503 too when an unusable body cannot reach the dead-letter queue', async () => {
    // Prepare
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const ingest = ingestUnderTest(sqs, { endpoint, queueUrl: `${endpoint}/000000000000/q.fifo`, dlqUrl: `${endpoint}/000000000000/dlq.fifo` });
    // Act
    const response = await ingest.send(signed('rule', 'not json'));
    // Assess
    assert.equal(response.status, 503);
    assert.equal(response.json.error, 'queue_unavailable');
  });
});
