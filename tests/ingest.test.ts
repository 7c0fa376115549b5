import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sampleEvent } from '../lib/front/samples.ts';
import { ATTR } from '../lib/queue.ts';
import { ingestUnderTest, signed } from './helpers/ingest.ts';
import { startTestSqs, type TestSqs } from './helpers/sqs.ts';

let sqs: TestSqs;
before(async () => { sqs = await startTestSqs('ingest'); });
after(async () => { await sqs.stop(); });
beforeEach(() => sqs.reset());

describe('rule webhooks', () => {
  it('queues a signed full event and answers 202 naming it', async () => {
    // Prepare
    const ingest = ingestUnderTest(sqs);
    const event = sampleEvent({ type: 'inbound' });
    // Act
    const response = await ingest.send(signed('rule', event));
    // Assess
    assert.equal(response.status, 202);
    assert.deepEqual(response.json, { status: 'queued', eventId: event.id });
    const messages = await sqs.receiveAll(sqs.queueUrl);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.Body, JSON.stringify(event));
    assert.equal(messages[0]?.MessageAttributes?.[ATTR.eventId]?.StringValue, event.id);
    assert.equal(messages[0]?.Attributes?.MessageGroupId, event.conversation?.id);
  });
});
