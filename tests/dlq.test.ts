import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { readDeadLetters, redrive, redriveAll, release, select } from '../lib/dlq.ts';
import { sampleEvent } from '../lib/front/samples.ts';
import { ATTR, eventAttributes, failureAttributes, toAttributes } from '../lib/queue.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

const run = promisify(execFile);

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('dlq'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

/** What SQS's redrive leaves in the DLQ: the main-queue message as it was, in its conversation's group, without failure attributes. */
async function moveToDlqLikeSqs(event: ReturnType<typeof sampleEvent>) {
  await sqs.client.send(new SendMessageCommand({
    QueueUrl: sqs.dlqUrl,
    MessageBody: JSON.stringify(event),
    MessageGroupId: event.conversation?.id ?? event.id,
    MessageDeduplicationId: event.id,
    MessageAttributes: {
      [ATTR.eventId]: { DataType: 'String', StringValue: event.id },
      [ATTR.eventType]: { DataType: 'String', StringValue: event.type },
      [ATTR.scheme]: { DataType: 'String', StringValue: 'rule' },
      [ATTR.bodyEncoding]: { DataType: 'String', StringValue: 'utf8' },
    },
  }));
}

/** Fills the DLQ the ways production does: ingest keeps unusable bodies, SQS moves events that failed too often. */
async function fillDeadLetters() {
  const ingest = ingestUnderTest(sqs);
  // Unique bodies: FIFO deduplication outlives fauxqs's reset() between tests.
  const nonce = randomUUID();
  assert.equal((await ingest.send(signed('rule', `{"id": "evt_1", "nonce": "${nonce}", truncated`))).status, 202);
  const wrongShape = { type: 'inbound', nonce };
  assert.equal((await ingest.send(signed('rule', wrongShape))).status, 202);
  const failedEvent = sampleEvent({ type: 'tag' });
  await moveToDlqLikeSqs(failedEvent);
  return { failedEvent };
}

describe('dead-letter queue tooling', () => {
  it('lists every dead letter with its reason and leaves them all in the queue', async () => {
    // Prepare
    const { failedEvent } = await fillDeadLetters();
    // Act
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    await release(sqs.client, sqs.dlqUrl, letters);
    // Assess
    assert.deepEqual(letters.map((l) => l.reason).sort(), ['invalid_json', 'invalid_shape', 'max_receives_exceeded']);
    const failed = letters.find((l) => l.reason === 'max_receives_exceeded');
    assert.equal(failed?.eventId, failedEvent.id);
    assert.equal(failed?.conversationId, failedEvent.conversation?.id);
    assert.match(letters.find((l) => l.reason === 'invalid_shape')?.detail ?? '', /must have required property 'id'/);
    const again = await readDeadLetters(sqs.client, sqs.dlqUrl);
    assert.equal(again.length, 3, 'listing must not remove or hide messages');
  });

  it('redrives the chosen event to the main queue without its failure attributes, and only it', async () => {
    // Prepare
    const { failedEvent } = await fillDeadLetters();
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, select(letters, [failedEvent.id]));
    await release(sqs.client, sqs.dlqUrl, letters.filter((l) => !result.redriven.includes(l)));
    // Assess
    assert.equal(result.redriven.length, 1);
    const queued = await sqs.receiveAll(sqs.queueUrl);
    assert.equal(queued.length, 1);
    assert.equal(queued[0]?.Body, JSON.stringify(failedEvent));
    assert.equal(queued[0]?.Attributes?.MessageGroupId, failedEvent.conversation?.id);
    assert.equal(queued[0]?.MessageAttributes?.[ATTR.eventId]?.StringValue, failedEvent.id);
    assert.equal(queued[0]?.MessageAttributes?.[ATTR.failureReason], undefined);
    const left = await readDeadLetters(sqs.client, sqs.dlqUrl);
    assert.deepEqual(left.map((l) => l.reason).sort(), ['invalid_json', 'invalid_shape']);
  });

  it('redrives the summary of an event too large for SQS, as the first version kept it, as a reference the process function fetches from Front', async () => {
    // Prepare: the first version of ingest answered 413 to a 2 MB event and kept only a summary (event id, size,
    // SHA-256) in the DLQ; such letters outlive an upgrade by up to 14 days. (Ingest now queues a reference itself.)
    const huge = sampleEvent({ type: 'inbound', messageBytes: 1_200_000 });
    const sha256 = createHash('sha256').update(JSON.stringify(huge)).digest('hex');
    await sqs.client.send(new SendMessageCommand({
      QueueUrl: sqs.dlqUrl,
      MessageBody: JSON.stringify({ reason: 'payload_too_large', bytes: 2_400_000, sha256, eventId: huge.id, eventType: 'inbound' }),
      MessageGroupId: `payload_too_large-${sha256}`,
      MessageDeduplicationId: `payload_too_large-${sha256}`,
      MessageAttributes: toAttributes({
        ...eventAttributes({ eventId: huge.id, eventType: 'inbound', scheme: 'rule', receivedAt: new Date().toISOString(), encoding: 'utf8' }),
        ...failureAttributes('payload_too_large', 'the body (2400000 bytes) is too large for the queue'),
      }),
    }));
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), [huge.id]);
    const [queued, ...rest] = await sqs.receiveAll(sqs.queueUrl);
    assert.equal(rest.length, 0);
    assert.equal(queued?.MessageAttributes?.[ATTR.bodyKind]?.StringValue, 'reference');
    assert.equal(queued?.MessageAttributes?.[ATTR.arrival]?.StringValue, 'redriven');
    assert.deepEqual(Object.keys(JSON.parse(queued?.Body ?? '{}')).sort(), ['bytes', 'eventId', 'eventType', 'sha256']);
    assert.equal(JSON.parse(queued?.Body ?? '{}').eventId, huge.id);
  });

  it('refuses to redrive the summary of an oversize body that named no event: there is nothing to replay', async () => {
    // Prepare: 1.1 MB of signed bytes that are not JSON.
    const ingest = ingestUnderTest(sqs);
    assert.equal((await ingest.send(signed('rule', Buffer.alloc(1_100_000, 'x')))).status, 413);
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    // Act
    const result = await redrive(sqs.client, sqs.dlqUrl, sqs.queueUrl, letters);
    // Assess
    assert.equal(result.redriven.length, 0);
    assert.match(result.skipped[0]?.why ?? '', /nothing to replay/);
    assert.equal((await sqs.receiveAll(sqs.queueUrl)).length, 0);
  });

  it('lists every dead letter ingest kept, even several of one reason', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    for (let i = 0; i < 3; i++) assert.equal((await ingest.send(signed('rule', `not json ${randomUUID()}`))).status, 202);
    // Act
    const letters = await readDeadLetters(sqs.client, sqs.dlqUrl);
    await release(sqs.client, sqs.dlqUrl, letters);
    // Assess
    assert.deepEqual(letters.map((l) => l.reason), ['invalid_json', 'invalid_json', 'invalid_json']);
  });

  it('redrives all the dead letters of one conversation, in order, though the queue shows one at a time', async () => {
    // Prepare: three events of one conversation, moved to the DLQ together (one failed, two were held back behind it)
    const conversationId = `cnv_${randomUUID().slice(0, 8)}`;
    const events = [1, 2, 3].map(() => sampleEvent({ type: 'assign', conversationId }));
    for (const event of events) await moveToDlqLikeSqs(event);
    // Act
    const result = await redriveAll(sqs.client, sqs.dlqUrl, sqs.queueUrl, (letters) => select(letters, []));
    // Assess
    assert.deepEqual(result.redriven.map((l) => l.eventId), events.map((e) => e.id));
    const queued = await sqs.drain(sqs.queueUrl);
    assert.deepEqual(queued.map((m) => m.MessageAttributes?.[ATTR.eventId]?.StringValue), events.map((e) => e.id));
    assert.equal((await readDeadLetters(sqs.client, sqs.dlqUrl)).length, 0);
  });

  it('works from the command line: list, then redrive by event id', async () => {
    // Prepare
    const { failedEvent } = await fillDeadLetters();
    const target = ['--endpoint', sqs.endpoint, '--queue-url', sqs.queueUrl, '--dlq-url', sqs.dlqUrl];
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    // Act
    const listed = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list', ...target], { env });
    const redriven = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'redrive', failedEvent.id, ...target], { env });
    // Assess
    assert.match(listed.stdout, /3 of 3 dead-lettered message\(s\) shown, of about 3/);
    assert.match(listed.stdout, new RegExp(`${failedEvent.id}\\ttag\\t.*max_receives_exceeded`));
    assert.match(redriven.stdout, /1 redriven to .*, 0 skipped, 0 not found/);
    assert.equal((await sqs.receiveAll(sqs.queueUrl)).length, 1);
  });
});
