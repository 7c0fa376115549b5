/**
 * The SQS client ingest builds (lib/queue.ts createSqsClient): within the send deadline it retries a request that gets
 * no answer and a connect that never completes, as its timeouts say, instead of waiting out the deadline on one try.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { createSqsClient, sendBatchToQueue, sendToQueue, type QueuedMessage } from '../lib/queue.ts';
import { LOCAL_REGION } from '../local/sqs.ts';
import { startBlackhole, startSilentServer } from './helpers/hanging.ts';

// The client signs its requests as it would on AWS: a region and credentials, as the tests' SQS sets them.
process.env.AWS_REGION ??= LOCAL_REGION;
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';

describe('the SQS client ingest builds', () => {
  const message: QueuedMessage = { body: '{}', groupId: 'g', deduplicationId: 'd', attributes: {} };

  /** TCP connections the process opens while `act` runs (each SDK attempt opens one to a server that never answers). */
  async function socketsOpenedDuring(act: () => Promise<unknown>): Promise<number> {
    let opened = 0;
    const count = () => { opened += 1; };
    diagnostics.subscribe('net.client.socket', count);
    try {
      await act();
    } finally {
      diagnostics.unsubscribe('net.client.socket', count);
    }
    return opened;
  }

  it('retries a request that gets no answer after half the deadline (at most 2 s)', { timeout: 20_000 }, async () => {
    const silent = await startSilentServer();
    try {
      const deadlineMs = 900;
      const client = createSqsClient(deadlineMs, silent.endpoint);
      const before = silent.connections;
      const started = performance.now();
      await assert.rejects(sendToQueue(client, `${silent.endpoint}/000000000000/q.fifo`, message, deadlineMs), { name: 'QueueUnavailableError' });
      const ms = performance.now() - started;
      assert.equal(silent.connections - before, 2, `deadline ${deadlineMs} ms`);
      assert.ok(ms < deadlineMs + 300, `gave up after ${Math.round(ms)} ms`);
      client.destroy();
    } finally {
      await silent.stop();
    }
  });

  it('retries a connect that does not complete after a third of the deadline (at most 1 s): 3 attempts in 2.1 s', { timeout: 20_000 }, async () => {
    const blackhole = await startBlackhole();
    try {
      const deadlineMs = 2100;
      const client = createSqsClient(deadlineMs, blackhole.endpoint);
      const opened = await socketsOpenedDuring(() => assert.rejects(sendToQueue(client, `${blackhole.endpoint}/000000000000/q.fifo`, message, deadlineMs), { name: 'QueueUnavailableError' }));
      assert.equal(opened, 3, `deadline ${deadlineMs} ms`);
      client.destroy();
    } finally {
      await blackhole.stop();
    }
  });

  it('ends a batch send that gets no answer at the deadline, as a QueueUnavailableError', { timeout: 20_000 }, async () => {
    const silent = await startSilentServer();
    try {
      const client = createSqsClient(900, silent.endpoint);
      const started = performance.now();
      await assert.rejects(sendBatchToQueue(client, `${silent.endpoint}/000000000000/q.fifo`, [message], 900), { name: 'QueueUnavailableError' });
      const ms = performance.now() - started;
      assert.ok(ms < 1200, `gave up after ${Math.round(ms)} ms`);
      client.destroy();
    } finally {
      await silent.stop();
    }
  });

  it('says which queue could not be reached and the error that said so', async () => {
    const client = createSqsClient(500, 'http://127.0.0.1:9');
    await assert.rejects(sendToQueue(client, 'http://127.0.0.1:9/000000000000/q.fifo', message, 500), {
      name: 'QueueUnavailableError',
      message: /^could not send to http:\/\/127\.0\.0\.1:9\/000000000000\/q\.fifo: \w+: \S/,
    });
    client.destroy();
  });
});
