/**
 * How to test a handler of your own (copy this file): runHandler builds the event Front would send for a type,
 * normalized as the process function normalizes it, runs the handler with a recording logger, and returns
 * the event, the lines logged and what the handler threw. No queue, no AWS. The README shows the first test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inbound } from '../lib/handlers/inbound.ts';
import { runHandler } from '../lib/testing.ts';

describe('inbound handler (lib/handlers/inbound.ts)', () => {
  it('logs the id of the message received and the inboxes it came to', async () => {
    const { event, logs, error } = await runHandler(inbound, { type: 'inbound' });

    assert.equal(error, undefined); // acknowledged: nothing thrown
    assert.deepEqual(logs, [{
      level: 'debug',
      message: 'inbound message',
      eventId: event.id,
      eventType: 'inbound',
      conversationId: event.conversationId,
      frontMessageId: event.body.target.data.id,
      inboxIds: event.body.source.data.map((inbox) => inbox.id),
      preview: false,
    }]);
  });

  it('takes an event preview, which carries only ids and links', async () => {
    const { event, logs, error } = await runHandler(inbound, { type: 'inbound', preview: true });

    assert.equal(error, undefined);
    assert.equal(logs[0]?.frontMessageId, event.body.target.id);
    assert.equal(logs[0]?.preview, true);
  });

  it('takes the same event from an application webhook', async () => {
    const { event, logs } = await runHandler(inbound, { type: 'inbound', scheme: 'app' });

    assert.equal(event.scheme, 'app');
    assert.equal(event.appEventType, 'inbound_received');
    assert.equal(logs[0]?.frontMessageId, event.body.target.data.id);
  });

  it('sees the fields you set: here, a message that came to two inboxes', async () => {
    const inboxes = [
      { _links: { self: 'https://acme.api.frontapp.com/inboxes/inb_sales' }, id: 'inb_sales', name: 'Sales' },
      { _links: { self: 'https://acme.api.frontapp.com/inboxes/inb_vip' }, id: 'inb_vip', name: 'VIP' },
    ];
    const { logs } = await runHandler(inbound, { type: 'inbound', overrides: { source: { data: inboxes } } });

    assert.deepEqual(logs[0]?.inboxIds, ['inb_sales', 'inb_vip']);
  });
});
