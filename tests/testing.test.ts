/**
 * lib/testing.ts, the helper for testing one's own handler: the events it builds are what the process function
 * would hand the handler, and runHandler reports what the handler did.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeEvent } from '../lib/front/event.ts';
import { validateBody } from '../lib/front/validate.ts';
import type { FrontEventHandler } from '../lib/handlers/types.ts';
import { runHandler, sampleFrontEvent } from '../lib/testing.ts';

describe('sampleFrontEvent', () => {
  it('is the normalized event of a realistic body, as the process function builds it', () => {
    const event = sampleFrontEvent('tag');
    const validated = validateBody('rule', JSON.parse(JSON.stringify(event.body)));
    assert.ok(validated.ok);
    assert.deepEqual(event, normalizeEvent('rule', validated.body));
    assert.equal(event.preview, false);
    assert.deepEqual(event.target, { kind: 'tag', ids: [event.body.target.data.id] });
    assert.equal(event.conversationId, event.body.conversation.id);
  });

  it('builds previews and application-webhook deliveries', () => {
    const preview = sampleFrontEvent('assign', { preview: true });
    assert.equal(preview.preview, true);
    assert.deepEqual(Object.keys(preview.body.target).sort(), ['_links', '_meta', 'id']);
    const app = sampleFrontEvent('tag', { scheme: 'app' });
    assert.equal(app.scheme, 'app');
    assert.equal(app.appEventType, 'tag_added');
    assert.equal(app.companyId, 'cmp_acme');
  });

  it('merges overrides at any depth and keeps the rest of the sample', () => {
    const event = sampleFrontEvent('tag', { overrides: { id: 'evt_fixed', target: { data: { name: 'vip' } }, conversation: { tags: [] } } });
    assert.equal(event.id, 'evt_fixed');
    assert.equal(event.body.target.data.name, 'vip');
    assert.equal(event.body.target.data.highlight, 'red');
    assert.equal(event.body.conversation.subject, 'Damaged order');
  });

  it('refuses overrides that make an event the process function would dead-letter, or turn a full event into a preview', () => {
    assert.throws(() => sampleFrontEvent('tag', { overrides: { id: '' } }), /not one the process function accepts.*\/id must NOT have fewer than 1 characters/);
    // A preview's conversation gains a status: normalization would read it as a full event.
    const fullLooking = { conversation: { status: 'assigned' } } as unknown as { conversation: { id: string } };
    assert.throws(() => sampleFrontEvent('tag', { preview: true, overrides: fullLooking }), /made the sample tag event a full event/);
  });
});

describe('runHandler', () => {
  it('returns the event the handler saw and its lines, with the keys the process function attaches', async () => {
    let seen: unknown;
    const handler: FrontEventHandler<'assign'> = (event, { logger }) => {
      seen = event;
      if (!event.preview) logger.info('assigned', { email: event.body.target.data.email });
    };
    const { event, logs, error } = await runHandler(handler, { type: 'assign' });
    assert.equal(seen, event);
    assert.equal(error, undefined);
    assert.deepEqual(logs, [{ level: 'info', message: 'assigned', eventId: event.id, eventType: 'assign', conversationId: event.conversationId, email: 'leela@acme.example' }]);
  });

  it('reports what the handler threw, after the lines it logged', async () => {
    const failure = new Error('CRM unavailable');
    const { logs, error } = await runHandler(async (_event, { logger }) => {
      logger.warn('calling the CRM');
      throw failure;
    }, { type: 'comment' });
    assert.equal(error, failure);
    assert.deepEqual(logs.map((line) => line.message), ['calling the CRM']);
  });

  it('gives a first delivery\'s context unless told otherwise', async () => {
    const contexts: Array<{ messageId: string; receiveCount: number }> = [];
    const handler: FrontEventHandler = (_event, { messageId, receiveCount }) => { contexts.push({ messageId, receiveCount }); };
    const first = await runHandler(handler, { type: 'inbound' });
    await runHandler(handler, { type: 'inbound', context: { receiveCount: 5, messageId: 'm-5' } });
    assert.deepEqual(contexts, [{ messageId: `test-message-${first.event.id}`, receiveCount: 1 }, { messageId: 'm-5', receiveCount: 5 }]);
  });
});
