/**
 * Where the handler types come from: scripts/derive-front-schema.ts (Front's OpenAPI → the trimmed
 * lib/front/resources.schema.json), scripts/generate-front-types.ts (that schema + lib/front/event-shapes.ts →
 * one JSON Schema → lib/generated/front-types.ts), and the samples every test uses, checked against that schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Ajv, { type ValidateFunction } from 'ajv';
import { EVENT_SHAPES } from '../lib/front/event-shapes.ts';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import { sampleEventBody } from '../lib/front/samples.ts';
import { deriveResourcesSchema, RESOURCES_SCHEMA_PATH } from '../scripts/derive-front-schema.ts';
import { frontEventsSchema } from '../scripts/generate-front-types.ts';

const resources = JSON.parse(readFileSync(RESOURCES_SCHEMA_PATH, 'utf8')) as { derivedFrom: Record<string, string>; definitions: Record<string, unknown> };
const FROM = { repository: 'https://github.com/frontapp/front-api-specs', path: 'core-api/core-api.json', commit: 'abc1234', command: 'npm run front-schema -- spec.json' };

/** A small OpenAPI document written for this test, with the constructs Front's spec uses. */
const openapi = {
  openapi: '3.0.0',
  components: {
    schemas: {
      EventResponse: {
        type: 'object',
        description: 'An event.',
        properties: {
          id: { type: 'string', example: 'evt_1' },
          target: { type: 'object', properties: { data: { oneOf: [{ $ref: '#/components/schemas/ThingResponse' }] } } },
        },
      },
      ThingResponse: {
        type: 'object',
        required: ['owner'],
        properties: {
          description: { type: 'string', nullable: true, description: 'A property named like a keyword.' },
          state: { type: 'string', nullable: true, enum: ['on', 'off'] },
          owner: { nullable: true, $ref: '#/components/schemas/OwnerResponse' },
          when: { type: 'string', format: 'date-time', pattern: '^\\d+$' },
        },
      },
      OwnerResponse: { type: 'object', properties: { id: { type: 'string' } } },
      Unrelated: { type: 'object', properties: { secret: { type: 'string' } } },
    },
  },
};

function walk(value: unknown, visit: (schema: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const item of value) walk(item, visit);
  else if (typeof value === 'object' && value !== null) {
    const schema = value as Record<string, unknown>;
    visit(schema);
    for (const [key, child] of Object.entries(schema)) {
      if (key === 'properties' && typeof child === 'object' && child !== null) for (const property of Object.values(child)) walk(property, visit);
      else walk(child, visit);
    }
  }
}

describe('derive-front-schema: Front OpenAPI → the trimmed resources schema', () => {
  it('keeps the schemas reachable from EventResponse and only their structure; nullable becomes null', () => {
    const { schema, dropped } = deriveResourcesSchema(openapi, FROM);
    const definitions = schema.definitions as Record<string, unknown>;
    assert.deepEqual(Object.keys(definitions), ['EventResponse', 'OwnerResponse', 'ThingResponse']);
    assert.deepEqual(definitions.ThingResponse, {
      type: 'object',
      required: ['owner'],
      properties: {
        description: { type: ['string', 'null'] },
        state: { type: ['string', 'null'], enum: ['on', 'off', null] },
        owner: { anyOf: [{ $ref: '#/definitions/OwnerResponse' }, { type: 'null' }] },
        when: { type: 'string' },
      },
    });
    assert.deepEqual(definitions.EventResponse, {
      type: 'object',
      properties: { id: { type: 'string' }, target: { type: 'object', properties: { data: { oneOf: [{ $ref: '#/definitions/ThingResponse' }] } } } },
    });
    assert.deepEqual(Object.fromEntries(dropped), { description: 2, example: 1, format: 1, pattern: 1 });
    assert.deepEqual(schema.derivedFrom, FROM);
  });

  it('refuses a document without component schemas, or with a reference it cannot follow', () => {
    assert.throws(() => deriveResourcesSchema({ openapi: '3.0.0' }, FROM), /no components\.schemas/);
    const dangling = { components: { schemas: { EventResponse: { properties: { x: { $ref: '#/components/schemas/Missing' } } } } } };
    assert.throws(() => deriveResourcesSchema(dangling, FROM), /Missing is referenced but not defined/);
  });

  it('the committed lib/front/resources.schema.json says where it comes from and holds structure only', () => {
    assert.equal(resources.derivedFrom.repository, 'https://github.com/frontapp/front-api-specs');
    assert.equal(resources.derivedFrom.commit, 'f8f5386f91ee6fd1c3a393a2a02641e217b08032');
    assert.match(resources.derivedFrom.command ?? '', /^npm run front-schema/);
    const structural = new Set(['type', 'properties', 'required', 'enum', 'items', 'oneOf', 'anyOf', 'allOf', 'additionalProperties', '$ref']);
    const keywords = new Set<string>();
    for (const definition of Object.values(resources.definitions)) walk(definition, (schema) => { for (const key of Object.keys(schema)) keywords.add(key); });
    assert.deepEqual([...keywords].filter((key) => !structural.has(key)), []);
    for (const name of ['EventResponse', 'MessageResponse', 'TeammateResponse', 'TagResponse', 'CommentResponse', 'InboxResponse', 'LinkResponse', 'RuleResponse', 'ConversationResponse']) {
      assert.ok(resources.definitions[name], `${name} is in the derived schema`);
    }
  });
});

describe('generate-front-types: one schema for the types and for the samples', () => {
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  ajv.addSchema(frontEventsSchema());
  const bodySchema = (type: string, preview: boolean): ValidateFunction => {
    const name = `${type.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}Event${preview ? 'Preview' : ''}`;
    const validate = ajv.getSchema(`https://front-webhooks-aws/schemas/front-events.json#/definitions/${name}`);
    if (!validate) throw new Error(`no schema for ${name}`);
    return validate;
  };

  it('every known event type\'s sample, full and preview, is what its generated type says', () => {
    // One object shaped like FrontEventBodies, validated by its root schema: one compilation for all 74 bodies.
    const samples = Object.fromEntries(FRONT_EVENT_TYPES.map((type) => [type, { full: sampleEventBody(type), preview: sampleEventBody(type, { preview: true }) }]));
    const validate = ajv.getSchema('https://front-webhooks-aws/schemas/front-events.json');
    assert.ok(validate);
    assert.equal(validate(samples), true, ajv.errorsText(validate.errors, { separator: '\n' }));
  });

  it('the schema tells a sample that drifted: a tag without a name, a preview with data, an undocumented field', () => {
    const tag = sampleEventBody('tag') as unknown as { target: { data: Record<string, unknown> } };
    delete tag.target.data.name;
    assert.equal(bodySchema('tag', false)(tag), false);
    const preview = sampleEventBody('tag', { preview: true }) as unknown as { target: Record<string, unknown> };
    preview.target.data = { id: 'tag_1' };
    assert.equal(bodySchema('tag', true)(preview), false);
    const message = sampleEventBody('inbound') as unknown as { target: { data: Record<string, unknown> } };
    message.target.data.mood = 'cheerful';
    assert.equal(bodySchema('inbound', false)(message), false);
  });

  it('types the source and target by the event-shapes table: inbox arrays, unknown data where Front gives no schema', () => {
    const definitions = frontEventsSchema().definitions as Record<string, { properties: Record<string, unknown>; required: string[] }>;
    assert.deepEqual(definitions.InboundEvent?.properties.source, { $ref: '#/definitions/InboxesRef' });
    assert.deepEqual(definitions.AssignEvent?.properties.source, { oneOf: [{ $ref: '#/definitions/TeammateRef' }, { $ref: '#/definitions/RuleRef' }] });
    assert.deepEqual(definitions.MoveEvent?.properties.target, { $ref: '#/definitions/InboxesRef' });
    assert.deepEqual(definitions.InboxesRef?.properties.data, { type: 'array', items: { $ref: '#/definitions/Inbox' } });
    assert.deepEqual(definitions.RecipientRef?.properties.data, {});
    assert.deepEqual(definitions.CallStartedEvent?.properties.target, { $ref: '#/definitions/UnspecifiedRef' });
    assert.ok(!definitions.CallStartedEvent?.required.includes('target'));
    assert.deepEqual(definitions.TagEventPreview?.properties.conversation, { $ref: '#/definitions/ConversationPreview' });
    assert.equal(Object.keys(EVENT_SHAPES).length, 37);
  });

  it('fails the build, saying what to update, when Front\'s schema and the project\'s event knowledge differ', () => {
    const withNewType = structuredClone(resources) as unknown as { definitions: { EventResponse: { properties: { type: { enum: string[] } } } } };
    withNewType.definitions.EventResponse.properties.type.enum.push('hologram_projected');
    assert.throws(() => frontEventsSchema(withNewType), /Front only: hologram_projected.*update FRONT_EVENT_TYPES and EVENT_SHAPES/);
    const withoutInboxes = structuredClone(resources) as { definitions: Record<string, unknown> };
    delete withoutInboxes.definitions.InboxResponse;
    assert.throws(() => frontEventsSchema(withoutInboxes), /RESOURCE_DATA\.inboxes: InboxResponse is not in lib\/front\/resources\.schema\.json/);
  });
});
