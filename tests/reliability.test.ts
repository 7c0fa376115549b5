/**
 * Once acknowledged, every authentic event reaches its handler; nothing blocks, crashes or re-runs (issue 7).
 * Each describe is one way the first release lost or re-ran events; docs/reliability.md lists them with what an
 * operator sees. Through the built ingest bundle, the local stack (fauxqs handing out FIFO batches as SQS does to
 * Lambda, dynalite) and the real process logic.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DeleteMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { toHttpApiEvent } from '../lib/apigw.ts';
import { readDeadLetters, redriveAll, release, select } from '../lib/dlq.ts';
import { appEnvelope, randomId, sampleEvent, signedHeaders, syncEnvelope } from '../lib/front/samples.ts';
import type { FrontEventBody } from '../lib/front/event.ts';
import { handlers } from '../lib/handlers/index.ts';
import { defineHandlers, type FrontEventHandler } from '../lib/handlers/types.ts';
import { createProcessHandler } from '../lib/process/handler.ts';
import { DEFAULT_SETTINGS } from '../lib/process/settings.ts';
import { toSqsRecord } from '../lib/process/sqs-event.ts';
import { ATTR, decodeBody, MAX_MESSAGE_BYTES } from '../lib/queue.ts';
import { MAX_INVOKE_PAYLOAD_BYTES, startLocalStack, type SqsBatchHandler } from '../local/stack.ts';
import { captureLogLines, lambdaContext, loadBundle, type IngestHandler } from './helpers/bundles.ts';
import { APP_SECRET, ingestUnderTest, RULE_SECRET } from './helpers/ingest.ts';
import { metricsOf, recordingLogger, startTestStack, waitFor, type LogRecord, type TestStack } from './helpers/local.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';
import { startTestStore, type TestStore } from './helpers/store.ts';

/** What each handler of the stack saw, by event id: the events exactly as the handlers received them. */
const seen = new Map<string, FrontEventBody[]>();
const record: FrontEventHandler = (event) => { seen.set(event.id, [...(seen.get(event.id) ?? []), event.body]); };

/** A signed rule webhook exactly as Front would send these bytes. */
function signedRule(body: Buffer): { headers: Record<string, string>; body: Buffer } {
  return { headers: signedHeaders('rule', RULE_SECRET, body), body };
}

/** What Lambda does with a batch response: delete every record not reported as failed. */
async function acknowledge(sqs: TestSqs, records: readonly SQSRecord[], response: SQSBatchResponse): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const r of records) if (!failed.has(r.messageId)) await sqs.client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl, ReceiptHandle: r.receiptHandle }));
}

async function post(t: TestStack, request: { headers: Record<string, string>; body: Buffer }): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(t.stack.url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('1. an authentic event is processed whatever characters it holds', () => {
  let t: TestStack;
  before(async () => { t = await startTestStack({ registry: defineHandlers({ default: record }) }); });
  after(async () => { await t.stop(); });

  it('queues and processes events holding U+FFFE, U+FFFF or a byte that is not UTF-8, losslessly', async () => {
    // Prepare: JSON allows U+FFFE and U+FFFF in strings; SQS refuses them. A stray 0xFF byte is not UTF-8 at all.
    const nonCharacters = sampleEvent({ type: 'inbound' });
    (nonCharacters.conversation as Record<string, unknown>).subject = 'Order \uFFFE 42 \uFFFF done \uE000 private';
    const stray = sampleEvent({ type: 'tag' });
    const strayBody = Buffer.from(JSON.stringify(stray).replace('"Damaged order"', '"Damaged XX order"'));
    const at = strayBody.indexOf('XX');
    strayBody[at] = 0xff;
    strayBody[at + 1] = 0xc3;
    // Act
    const first = await post(t, signedRule(Buffer.from(JSON.stringify(nonCharacters))));
    const second = await post(t, signedRule(strayBody));
    await t.waitProcessed([nonCharacters.id, stray.id]);
    // Assess
    assert.deepEqual([first.status, first.json.status, second.status, second.json.status], [202, 'queued', 202, 'queued']);
    assert.equal(seen.get(nonCharacters.id)?.[0]?.conversation?.subject, 'Order \uFFFE 42 \uFFFF done \uE000 private');
    assert.equal(seen.get(stray.id)?.[0]?.conversation?.subject, 'Damaged \uFFFD\uFFFD order', 'decoded as ingest parsed it');
  });

  it('keeps such an event at its own size: one of about 800 KB is queued, not refused as too large', async () => {
    // Prepare: base64 would make this 1.07 MB, over SQS's 1 MiB.
    const event = sampleEvent({ type: 'inbound', messageBytes: 420_000 });
    (event.conversation as Record<string, unknown>).subject = 'big \uFFFF';
    const body = Buffer.from(JSON.stringify(event));
    assert.ok(body.length > 780_000 && body.length < MAX_MESSAGE_BYTES - 10_000 && Math.ceil(body.length / 3) * 4 > MAX_MESSAGE_BYTES, `${body.length} bytes`);
    // Act
    const response = await post(t, signedRule(body));
    await t.waitProcessed([event.id]);
    // Assess
    assert.equal(response.status, 202);
    assert.equal(seen.get(event.id)?.length, 1);
  });
});

describe('2. no input produces a 5xx or an exception', () => {
  let t: TestStack;
  before(async () => { t = await startTestStack({ registry: defineHandlers({ default: record }) }); });
  after(async () => { await t.stop(); });

  const signedApp = (body: unknown, headers: Record<string, string> = {}) => {
    const raw = Buffer.from(JSON.stringify(body));
    return { headers: { ...signedHeaders('app', APP_SECRET, raw), ...headers }, body: raw };
  };

  it('answers a sync carrying a payload as a sync: never a 500, never an event queued', async () => {
    // Prepare: every shape of payload a sync could carry.
    const payloads: unknown[] = [sampleEvent(), 42, null, 'text', { id: 7 }, [], { type: 'inbound' }];
    const before = t.stack.stats.records;
    // Act
    const answers = [];
    for (const payload of payloads) {
      answers.push(await post(t, signedApp({ ...syncEnvelope(), payload })));
      answers.push(await post(t, signedApp({ ...syncEnvelope(), payload }, { 'x-front-challenge': 'chl_1' })));
    }
    // Assess
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200, JSON.stringify(answer));
      assert.deepEqual(answer.json, i % 2 ? { challenge: 'chl_1' } : { status: 'ignored', message: 'A "sync" request carries no event; nothing was queued.' });
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.stack.stats.records, before, 'nothing reached the process function');
  });

  it('maps event and conversation ids SQS refuses to valid FIFO ids, deterministically, and processes the event', async () => {
    // Prepare: SQS allows only printable ASCII in MessageGroupId/MessageDeduplicationId (the local SQS refuses
    // the rest as SQS does, which would be a 503 and a lost rule webhook).
    const event = sampleEvent({ type: 'assign', id: 'evt_ünïcödé 1', conversationId: 'cnv with space/ü' });
    const twin = sampleEvent({ type: 'tag', conversationId: 'cnv with space/ü' });
    // Act
    const first = await post(t, signedRule(Buffer.from(JSON.stringify(event))));
    const second = await post(t, signedRule(Buffer.from(JSON.stringify(twin))));
    await t.waitProcessed([event.id, twin.id]);
    // Assess
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const lines = t.processed().filter((l) => l.eventId === event.id || l.eventId === twin.id);
    assert.deepEqual(lines.map((l) => l.conversationId), ['cnv with space/ü', 'cnv with space/ü'], 'one conversation, in order');
  });

  it('keeps an authentic body in the DLQ, acknowledged, when something unexpected breaks after verification', async () => {
    // Prepare: a clock that fails once, after the signature is checked (a rule webhook's first use of it).
    const sqs = await startTestSqs('guard');
    try {
      let calls = 0;
      const ingest = ingestUnderTest(sqs, { now: () => { calls += 1; if (calls === 1) throw new TypeError('clock broke'); return Date.now(); } });
      const raw = Buffer.from(JSON.stringify(sampleEvent({ type: 'tag' })));
      // Act
      const response = await ingest.send(signedRule(raw));
      // Assess
      assert.equal(response.status, 202);
      assert.equal(response.json.status, 'dead_lettered');
      assert.equal(response.json.reason, 'internal_error');
      const [letter, ...rest] = await sqs.drain(sqs.dlqUrl);
      assert.equal(rest.length, 0);
      assert.ok(decodeBody(letter?.Body ?? '', letter?.MessageAttributes?.[ATTR.bodyEncoding]?.StringValue).equals(raw), 'byte for byte');
      assert.match(letter?.MessageAttributes?.[ATTR.failureDetail]?.StringValue ?? '', /unexpected error .*TypeError/);
      assert.deepEqual(ingest.logs.map((l) => [l.outcome, l.status, l.reason]), [['dead_lettered', 202, 'internal_error']]);
      // Unauthenticated, the same breakage is only a refusal, and nothing is stored.
      calls = 0;
      const forged = await ingest.send({ headers: { 'x-front-signature': 'AAAA' }, body: raw });
      assert.equal(forged.status, 401);
      assert.equal((await sqs.drain(sqs.dlqUrl)).length + (await sqs.drain(sqs.queueUrl)).length, 0);
    } finally {
      await sqs.stop();
    }
  });

  it('answers something that is not an API Gateway event with a 400 from the bundle, never a throw', async () => {
    // Prepare
    const sqs = await startTestSqs('shape');
    try {
      const { handler } = await loadBundle<{ handler: IngestHandler }>('ingest', {
        QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        FRONT_RULE_SECRET: RULE_SECRET, FRONT_APP_SECRET: APP_SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT',
      });
      // Act
      const answers = await Promise.all([{}, { body: 'x' }, { requestContext: {} }, null].map((event) => handler(event as never)));
      // Assess
      for (const answer of answers) assert.equal(answer.statusCode, 400);
    } finally {
      await sqs.stop();
    }
  });
});

describe('3. values the schema accepts never poison processing', () => {
  it('refuses an emitted_at no date can hold, keeping the event in the DLQ instead of failing it forever', async () => {
    // Prepare
    const sqs = await startTestSqs('bounds');
    try {
      const ingest = ingestUnderTest(sqs);
      const event = { ...sampleEvent({ type: 'tag' }), emitted_at: 1e300 };
      // Act
      const response = await ingest.send(signedRule(Buffer.from(JSON.stringify(event))));
      // Assess
      assert.equal(response.status, 202);
      assert.equal(response.json.status, 'dead_lettered');
      assert.equal(response.json.reason, 'invalid_shape');
      assert.equal((await sqs.drain(sqs.queueUrl)).length, 0);
    } finally {
      await sqs.stop();
    }
  });

  it('never fails or re-runs a record whose handler succeeded because writing its log line or metrics failed', async () => {
    // Prepare: a logger and metrics that throw after the handler succeeded.
    const sqs = await startTestSqs('logfail');
    const state = await startTestStore('logfail');
    try {
      const event = sampleEvent({ type: 'tag' });
      await ingestUnderTest(sqs).send(signedRule(Buffer.from(JSON.stringify(event))));
      const records = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:q.fifo', 'us-east-1'));
      let runs = 0;
      const lines: LogRecord[] = [];
      const logger = recordingLogger(lines);
      // The full line throws while it is built (as an Invalid Date did); the minimal fallback line does not.
      const breaking = { ...logger, info: (message: string, ...fields: Array<Record<string, unknown>>) => {
        if (fields.some((f) => 'emittedAt' in f)) throw new RangeError('Invalid Date');
        logger.info(message, ...fields);
      } };
      const handler = createProcessHandler({
        registry: defineHandlers({ default: () => { runs += 1; } }), sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl,
        store: state.store, logger: breaking,
      });
      // Act
      const response = await handler({ Records: records });
      // Assess
      assert.deepEqual(response, { batchItemFailures: [] });
      assert.equal(runs, 1);
      assert.ok((await state.store.get(event.id))?.processedAt);
      assert.ok(lines.some((l) => l.message === 'front event processed' && l.eventId === event.id), 'a minimal processed line still says it');
      assert.ok(lines.some((l) => l.message === 'front event logging failed'));
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });
});

describe('4. one failing event dead-letters only itself, and order survives', () => {
  it('the local SQS hands a FIFO batch to the function as Lambda does: several messages of one conversation', async () => {
    // Prepare: a process function that records each batch, and the poller paused until all events are queued.
    const batches: string[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const stack = await startLocalStack({
      port: 0, sqsPort: 0, dynamoPort: 0, pollers: 1, secrets: { rule: RULE_SECRET },
      processHandler: (): SqsBatchHandler => async (event) => {
        await gate;
        batches.push(event.Records.map((r) => r.attributes.MessageGroupId ?? ''));
        return { batchItemFailures: [] };
      },
    });
    try {
      const conversation = randomId('cnv');
      for (let i = 0; i < 6; i++) {
        const body = Buffer.from(JSON.stringify(sampleEvent({ type: 'tag', conversationId: conversation })));
        assert.equal((await fetch(stack.url, { method: 'POST', headers: signedHeaders('rule', RULE_SECRET, body), body })).status, 202);
      }
      // Act
      release();
      await waitFor('six records', () => batches.flat().length >= 6);
      // Assess: at least one batch held more than one message of the conversation.
      assert.ok(batches.some((b) => b.length > 1), JSON.stringify(batches));
    } finally {
      await stack.stop();
    }
  });

  it('dead-letters only the event whose own handler kept failing; the nine held back behind it are processed, in order', async () => {
    // Prepare: ten events of one conversation arrive together (one batch); the first one's handler always fails.
    let poison = '';
    const t = await startTestStack({
      pollers: 1,
      registry: defineHandlers({ default: (event) => { if (event.id === poison) throw new Error('CRM refused'); record(event, undefined as never); } }),
    });
    try {
      const conversation = randomId('cnv');
      const events = Array.from({ length: 10 }, () => sampleEvent({ type: 'tag', conversationId: conversation }));
      poison = events[0]!.id;
      // Act
      for (const event of events) assert.equal((await t.post(event)).status, 202);
      await t.waitProcessed(events.slice(1).map((e) => e.id));
      // Assess
      assert.deepEqual(t.processed().filter((l) => l.conversationId === conversation).map((l) => l.eventId), events.slice(1).map((e) => e.id));
      const letters = await readDeadLetters(t.sqs, t.stack.dlqUrl);
      assert.deepEqual(letters.map((l) => [l.eventId, l.reason, l.attempts]), [[poison, 'handler_failed', DEFAULT_SETTINGS.maxHandlerAttempts]]);
      assert.deepEqual(t.metrics.deadLetters, ['handler_failed']);
      const failed = t.logs.filter((l) => l.message === 'front event failed');
      assert.deepEqual(failed.map((l) => l.eventId), Array(DEFAULT_SETTINGS.maxHandlerAttempts).fill(poison), 'no held-back event counted as failing');
    } finally {
      await t.stop();
    }
  });
});

describe('5. a handler that hangs re-runs nothing else', () => {
  it('fails the hung record before Lambda\'s timeout and acknowledges the other conversations, whose handlers ran once', async () => {
    // Prepare: three conversations in one batch; one handler never settles. Lambda has 5 s left, handlers 1 s.
    const sqs = await startTestSqs('hang');
    const state = await startTestStore('hang');
    try {
      const ingest = ingestUnderTest(sqs);
      const [hung, ...fine] = Array.from({ length: 3 }, () => sampleEvent({ type: 'tag' }));
      for (const event of [hung!, ...fine]) await ingest.send(signedRule(Buffer.from(JSON.stringify(event))));
      const runs = new Map<string, number>();
      const lines: LogRecord[] = [];
      const handler = createProcessHandler({
        registry: defineHandlers({ default: (event) => {
          runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
          return event.id === hung!.id ? new Promise<void>(() => {}) : undefined;
        } }),
        sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger(lines),
        settings: { ...DEFAULT_SETTINGS, handlerTimeoutMs: 1000, retryDelaysSeconds: [0] },
      });
      const records = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn', 'us-east-1'));
      const byEvent = (id: string) => records.find((r) => JSON.parse(r.body).id === id)?.messageId;
      // Act
      const started = Date.now();
      const response = await handler({ Records: records }, lambdaContext(5000));
      const tookMs = Date.now() - started;
      await acknowledge(sqs, records, response);
      // The hung one comes back (its retry is due at once); the others were acknowledged and never come back.
      const again = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn', 'us-east-1'));
      // Assess
      assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: byEvent(hung!.id) }]);
      assert.ok(tookMs < 3000, `answered in ${tookMs} ms, well before Lambda's timeout`);
      assert.deepEqual(again.map((r) => JSON.parse(r.body).id), [hung!.id]);
      for (const event of fine) assert.equal(runs.get(event.id), 1);
      const failed = lines.find((l) => l.message === 'front event failed');
      assert.match(String(failed?.reason), /HandlerTimeoutError: the handler did not finish within 1000 ms/);
      assert.equal(failed?.attempt, 1);
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });

  it('defers, without counting an attempt, the records the batch deadline cuts or reaches before they start', async () => {
    // Prepare: one conversation of four events taking 600 ms each; Lambda has 3.5 s left, so the batch deadline
    // (2 s margin) falls 1.5 s in: two finish, the third is cut after 0.3 s (not its fault), the fourth never starts.
    const sqs = await startTestSqs('deadline');
    const state = await startTestStore('deadline');
    try {
      const conversation = randomId('cnv');
      const events = Array.from({ length: 4 }, () => sampleEvent({ type: 'tag', conversationId: conversation }));
      const ingest = ingestUnderTest(sqs);
      for (const event of events) await ingest.send(signedRule(Buffer.from(JSON.stringify(event))));
      const ran: string[] = [];
      const lines: LogRecord[] = [];
      const handler = createProcessHandler({
        registry: defineHandlers({ default: async (event) => { ran.push(event.id); await new Promise((r) => setTimeout(r, 600)); } }),
        sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger(lines),
      });
      const records = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn', 'us-east-1'));
      // Act
      const response = await handler({ Records: records }, lambdaContext(3500));
      await acknowledge(sqs, records, response);
      // Assess
      assert.deepEqual(ran, events.slice(0, 3).map((e) => e.id));
      assert.equal(response.batchItemFailures.length, 2);
      for (const event of events.slice(2)) assert.equal(await state.store.get(event.id), undefined, 'no attempt counted');
      assert.deepEqual(lines.filter((l) => l.message !== 'front event processed').map((l) => [l.message, l.eventId, l.reason]), [['front event deferred', events[2]!.id, 'out_of_time']]);
      const back = await sqs.receiveAll(sqs.queueUrl);
      assert.deepEqual(back.map((m) => JSON.parse(m.Body ?? '{}').id), events.slice(2).map((e) => e.id), 'due again at once, in order');
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });
});

describe('6. redrive is safe', () => {
  it('does not ping-pong: a letter dead-lettered again during the same redrive is not sent a second time', async () => {
    // Prepare: a letter the process function dead-letters at once (not a Front event), and a good one behind it.
    const sqs = await startTestSqs('pingpong');
    const state = await startTestStore('pingpong');
    try {
      const bad = JSON.stringify({ hello: randomUUID() });
      const good = sampleEvent({ type: 'tag' });
      for (const [i, body] of [bad, JSON.stringify(good)].entries()) {
        const attributes = { [ATTR.scheme]: 'rule', ...(i === 0 ? { [ATTR.failureReason]: 'invalid_shape' } : { [ATTR.eventId]: good.id, [ATTR.failureReason]: 'handler_failed' }) };
        await sqs.client.send(new SendMessageCommand({
          QueueUrl: sqs.dlqUrl, MessageBody: body, MessageGroupId: `g${i}-${randomUUID()}`, MessageDeduplicationId: randomUUID(),
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        }));
      }
      const processed: string[] = [];
      const process = createProcessHandler({
        registry: defineHandlers({ default: (event) => { processed.push(event.id); } }), sqs: sqs.client, queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger([]),
      });
      // Between rounds, the process function runs on what the redrive sent (as it would, deployed, within seconds).
      const runProcess = async () => {
        const records = (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn', 'us-east-1'));
        if (records.length > 0) await process({ Records: records });
      };
      // Act
      const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []), { onRound: runProcess });
      // Assess
      assert.deepEqual(result.redriven.map((l) => l.eventId ?? l.reason), ['invalid_shape', good.id]);
      assert.equal(result.skipped.length, 1);
      assert.match(result.skipped[0]!.why, /came back to the DLQ during this redrive/);
      assert.deepEqual(processed, [good.id]);
      const left = await readDeadLetters(sqs.client, sqs.dlqUrl);
      await release(sqs.client, sqs.dlqUrl, left);
      assert.deepEqual(left.map((l) => [l.body, l.reason]), [[bad, 'invalid_shape']], 'kept, once');
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });

  it('sends a conversation\'s letters back in the order its events had, and marks them redriven', async () => {
    // Prepare: three events of one conversation dead-lettered by the function, found in the DLQ out of order.
    const sqs = await startTestSqs('order');
    try {
      const conversation = randomId('cnv');
      const events = Array.from({ length: 3 }, () => sampleEvent({ type: 'tag', conversationId: conversation }));
      for (const [sequence, event] of [[3, events[2]!], [1, events[0]!], [2, events[1]!]] as const) {
        await sqs.client.send(new SendMessageCommand({
          QueueUrl: sqs.dlqUrl, MessageBody: JSON.stringify(event), MessageGroupId: `handler_failed-${randomUUID()}`, MessageDeduplicationId: randomUUID(),
          MessageAttributes: Object.fromEntries(Object.entries({
            [ATTR.eventId]: event.id, [ATTR.scheme]: 'rule', [ATTR.failureReason]: 'handler_failed', [ATTR.attempts]: '5',
            [ATTR.sequence]: `1000000000000000000${sequence}`,
          }).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        }));
      }
      // Act
      await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []));
      // Assess
      const queued = await sqs.drain(sqs.queueUrl);
      assert.deepEqual(queued.map((m) => JSON.parse(m.Body ?? '').id), events.map((e) => e.id));
      for (const m of queued) {
        assert.equal(m.MessageAttributes?.[ATTR.arrival]?.StringValue, 'redriven');
        assert.equal(m.Attributes?.MessageGroupId, conversation);
        for (const gone of [ATTR.failureReason, ATTR.attempts, ATTR.sequence]) assert.equal(m.MessageAttributes?.[gone], undefined);
      }
    } finally {
      await sqs.stop();
    }
  });
});

describe('7. no content in logs or DLQ attributes', () => {
  it('names the kind of error and its position, never a byte of the body', async () => {
    // Prepare: bodies whose content is a marker, sent straight to the queue.
    const sqs = await startTestSqs('content');
    const state = await startTestStore('content');
    try {
      const marker = `SECRET${randomUUID().replaceAll('-', '')}`;
      for (const body of [marker, `{"id": ${marker}}`, `["${marker}"`, JSON.stringify({ id: 'evt_1', type: marker })]) {
        await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body, MessageGroupId: randomId('g'), MessageDeduplicationId: randomUUID() }));
      }
      const lines: LogRecord[] = [];
      const handler = createProcessHandler({
        registry: handlers, sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, store: state.store, logger: recordingLogger(lines),
      });
      // Act
      await handler({ Records: (await sqs.receiveAll(sqs.queueUrl)).map((m) => toSqsRecord(m, 'arn', 'us-east-1')) });
      // Assess
      assert.equal(lines.length, 4);
      assert.ok(!JSON.stringify(lines).includes(marker), JSON.stringify(lines));
      const letters = await sqs.drain(sqs.dlqUrl);
      assert.equal(letters.length, 4);
      for (const letter of letters) assert.ok(!JSON.stringify(letter.MessageAttributes).includes(marker), JSON.stringify(letter.MessageAttributes));
    } finally {
      await sqs.stop();
      await state.stop();
    }
  });
});

describe('8. the challenge handshake drops nothing', () => {
  it('queues a signed rule event that carries an x-front-challenge header, and an app event likewise', async () => {
    // Prepare
    const sqs = await startTestSqs('challenge');
    try {
      const { handler } = await loadBundle<{ handler: IngestHandler }>('ingest', {
        QUEUE_URL: sqs.queueUrl, DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        FRONT_RULE_SECRET: RULE_SECRET, FRONT_APP_SECRET: APP_SECRET, POWERTOOLS_LOG_LEVEL: 'SILENT',
      });
      const rule = sampleEvent({ type: 'tag' });
      const app = sampleEvent({ type: 'inbound' });
      const ruleBody = Buffer.from(JSON.stringify(rule));
      const appBody = Buffer.from(JSON.stringify(appEnvelope(app)));
      // Act
      const answers = [
        await handler(toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: { ...signedHeaders('rule', RULE_SECRET, ruleBody), 'x-front-challenge': 'chl_x' }, body: ruleBody })),
        await handler(toHttpApiEvent({ method: 'POST', path: '/webhooks/front', headers: { ...signedHeaders('app', APP_SECRET, appBody), 'x-front-challenge': 'chl_y' }, body: appBody })),
      ];
      // Assess
      assert.deepEqual(answers.map((a) => [a.statusCode, JSON.parse(a.body ?? '{}')]), [
        [202, { status: 'queued', eventId: rule.id }],
        [202, { status: 'queued', eventId: app.id }],
      ]);
      assert.deepEqual((await sqs.drain(sqs.queueUrl)).map((m) => JSON.parse(m.Body ?? '{}').id ?? JSON.parse(m.Body ?? '{}').payload?.id).sort(), [rule.id, app.id].sort());
    } finally {
      await sqs.stop();
    }
  });
});

describe('9. the local stack refuses what AWS refuses', () => {
  let t: TestStack;
  before(async () => { t = await startTestStack(); });
  after(async () => { await t.stop(); });

  it('answers 413 for a request over Lambda\'s 6,291,456-byte invoke payload, without running ingest', async () => {
    // Prepare: 6.3 MB of JSON, signed: under API Gateway's 10 MB body limit, over Lambda's.
    const body = Buffer.from(JSON.stringify({ ...sampleEvent({ type: 'inbound' }), padding: 'x'.repeat(6_300_000) }));
    // Act
    const response = await post(t, signedRule(body));
    // Assess
    assert.equal(response.status, 413);
    assert.equal(response.json.message, 'Request Entity Too Large');
    assert.match(String(response.json.detail), new RegExp(`${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke limit`));
  });

  it('lets a body just under the limit reach ingest, which queues a reference to it and answers 202', async () => {
    // Prepare: 5.5 MB: reaches ingest, too large for SQS; Front's API has the event.
    const event = { ...sampleEvent({ type: 'inbound' }), padding: 'x'.repeat(5_500_000) };
    t.stack.front.record(event);
    // Act
    const response = await post(t, signedRule(Buffer.from(JSON.stringify(event))));
    await t.waitProcessed([event.id], 30_000);
    // Assess
    assert.deepEqual([response.status, response.json.status, response.json.reference], [202, 'queued', true]);
    assert.equal(t.processed().find((l) => l.eventId === event.id)?.hydrated, true, 'fetched from Front\'s API when processed');
  });
});
