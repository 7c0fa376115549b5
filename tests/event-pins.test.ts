/**
 * What a handler receives for each shape of Front event (lib/front/event.ts): full or preview, with or without a
 * conversation, resources holding one id or several, rule or app delivery. Hydration relies on `preview`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventOf, isPreview, normalizeEvent, summarizeResource, type FrontEventBody } from '../lib/front/event.ts';
import { appEnvelope, syncEnvelope } from '../lib/front/samples.ts';

const links = { self: 'https://acme.api.frontapp.com/events/evt_1' };

describe('preview or full event', () => {
  it('reads an event with a conversation as full only when the conversation has its status', () => {
    assert.equal(isPreview({ id: 'evt_1', type: 'tag', conversation: { id: 'cnv_1', status: 'assigned' } }), false);
    assert.equal(isPreview({ id: 'evt_1', type: 'tag', conversation: { id: 'cnv_1' } }), true);
    // The conversation decides, whatever the resources hold.
    assert.equal(isPreview({ id: 'evt_1', type: 'tag', conversation: { id: 'cnv_1' }, target: { _meta: { type: 'tag' }, data: { id: 'tag_1' } } }), true);
  });

  it('reads an event without a conversation as full when its source or its target carries data, else as a preview', () => {
    const full = { _meta: { type: 'teammate' }, data: { id: 'tea_1' } };
    const ref = { _meta: { type: 'teammate' }, id: 'tea_1', _links: links };
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated', source: full }), false);
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated', target: full }), false);
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated', source: ref, target: full }), false);
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated', source: full, target: ref }), false);
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated', source: ref, target: ref }), true);
    assert.equal(isPreview({ id: 'evt_1', type: 'teammate_updated' }), true);
  });
});

describe('resource summaries', () => {
  it('lists the ids of the data, one or several, skipping entries without a string id', () => {
    assert.deepEqual(summarizeResource({ _meta: { type: 'tag' }, data: { id: 'tag_1' } }), { kind: 'tag', ids: ['tag_1'] });
    assert.deepEqual(summarizeResource({ _meta: { type: 'inboxes' }, data: [{ id: 'inb_1' }, { id: 7 }, null, 'inb_x', { name: 'no id' }, { id: 'inb_2' }] }), { kind: 'inboxes', ids: ['inb_1', 'inb_2'] });
    assert.deepEqual(summarizeResource({ _meta: { type: 'inboxes' }, data: [] }), { kind: 'inboxes', ids: [] });
  });

  it('falls back to the reference\'s own id (a preview) only when the data names none', () => {
    assert.deepEqual(summarizeResource({ _meta: { type: 'teammate' }, id: 'tea_1', _links: links }), { kind: 'teammate', ids: ['tea_1'] });
    assert.deepEqual(summarizeResource({ _meta: { type: 'teammate' }, id: 'tea_ref', data: { id: 'tea_data' } }), { kind: 'teammate', ids: ['tea_data'] });
    assert.deepEqual(summarizeResource({ _meta: { type: 'teammate' }, id: '', data: null }), { kind: 'teammate', ids: [] });
    assert.equal(summarizeResource(undefined), undefined);
  });
});

describe('the event a handler receives', () => {
  const body: FrontEventBody = {
    id: 'evt_1', type: 'tag', emitted_at: 1700000000.5, _links: links,
    conversation: { id: 'cnv_1', status: 'assigned' },
    source: { _meta: { type: 'teammate' }, data: { id: 'tea_1' } },
    target: { _meta: { type: 'tag' }, data: { id: 'tag_1' } },
  };

  it('from a rule webhook: the body itself, with its ids, time, conversation and resources', () => {
    assert.deepEqual(normalizeEvent('rule', body), {
      id: 'evt_1', type: 'tag', scheme: 'rule', emittedAt: 1700000000.5, conversationId: 'cnv_1', preview: false,
      source: { kind: 'teammate', ids: ['tea_1'] }, target: { kind: 'tag', ids: ['tag_1'] }, body,
    });
  });

  it('from an app webhook: the payload, with the envelope\'s event name and company', () => {
    const event = normalizeEvent('app', appEnvelope(body, 'cmp_42'));
    assert.equal(event.body, body);
    assert.deepEqual({ ...event, body: undefined }, {
      id: 'evt_1', type: 'tag', scheme: 'app', appEventType: 'tag_added', companyId: 'cmp_42', emittedAt: 1700000000.5, conversationId: 'cnv_1',
      preview: false, source: { kind: 'teammate', ids: ['tea_1'] }, target: { kind: 'tag', ids: ['tag_1'] }, body: undefined,
    });
  });

  it('leaves out what the event does not carry: no time, conversation or resources', () => {
    const bare = { id: 'evt_2', type: 'teammate_updated' };
    const event = normalizeEvent('rule', bare);
    assert.deepEqual(event, { id: 'evt_2', type: 'teammate_updated', scheme: 'rule', preview: true, body: bare });
    assert.deepEqual(Object.keys(event).sort(), ['body', 'id', 'preview', 'scheme', 'type']);
    // An emitted_at of 0 is a time, not an absence.
    assert.equal(normalizeEvent('rule', { ...bare, emitted_at: 0 }).emittedAt, 0);
  });

  it('is never made of a sync: it carries no event, whatever else it holds', () => {
    const sync = { ...syncEnvelope(), payload: body };
    assert.equal(eventOf('app', sync), undefined);
    assert.equal(eventOf('app', appEnvelope(body)), body);
    assert.equal(eventOf('rule', body), body);
    assert.throws(() => normalizeEvent('app', sync), { message: 'the app envelope carries no payload (a sync request is not an event)' });
  });
});
