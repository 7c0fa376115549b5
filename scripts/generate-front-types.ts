/**
 * Generates lib/generated/front-types.ts: one body type per Front event type, full and preview, built from
 * Front's resource schemas (lib/front/resources.schema.json, derived by `npm run front-schema`) and the
 * project's table of which source and target each event type carries (lib/front/event-shapes.ts).
 *
 * The composed JSON Schema (frontEventsSchema) is the single statement of what the types mean: json-schema-to-
 * typescript turns it into TypeScript here, and the tests validate every sample event against it with ajv.
 * Type-only output: nothing generated here reaches a Lambda bundle.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import ts from 'typescript';
import { EVENT_SHAPES, RESOURCE_DATA } from '../lib/front/event-shapes.ts';
import { FRONT_EVENT_TYPES } from '../lib/front/event-types.ts';
import { RESOURCES_SCHEMA_PATH } from './derive-front-schema.ts';

export const FRONT_TYPES_PATH = 'lib/generated/front-types.ts';

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Front's schema names read as the domain's: TagResponse → Tag, ConversationResponse → Conversation. */
function typeName(frontName: string): string {
  return frontName.replace(/Response$/, '');
}

function pascal(snake: string): string {
  return snake.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const literal = (value: string): Schema => ({ type: 'string', enum: [value] });
const selfLink: Schema = { type: 'object', required: ['self'], properties: { self: { type: 'string' } } };

/**
 * Front's schemas as the types read them:
 * - an object that lists its properties is closed: reading a field Front does not document is a compile error
 *   (JSON Schema's default would add `[k: string]: unknown` to every type and hide typos);
 * - an object that lists none (custom fields, headers) is a free-form record;
 * - a name listed as required but never declared (TeammateResponse's license_type) becomes an optional
 *   `unknown`: Front says it is there, not what it is, and requiring it would make samples invent a value.
 */
function forTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forTypes);
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(/[^/]+$/, typeName);
    else if (key === 'properties' && isObject(value)) out.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, forTypes(property)]));
    else out[key] = forTypes(value);
  }
  const isObjectType = out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object')) || isObject(out.properties);
  if (isObjectType && out.additionalProperties === undefined) out.additionalProperties = !isObject(out.properties);
  if (Array.isArray(out.required) && isObject(out.properties)) {
    const properties = out.properties;
    const undeclared = out.required.filter((name): name is string => typeof name === 'string' && !(name in properties));
    for (const name of undeclared) properties[name] = {};
    out.required = out.required.filter((name) => !undeclared.includes(name as string));
  }
  return out;
}

function enumAt(schema: unknown, path: readonly string[]): string[] {
  let node = schema;
  for (const step of path) node = isObject(node) ? node[step] : undefined;
  if (!isObject(node) || !Array.isArray(node.enum)) throw new Error(`${RESOURCES_SCHEMA_PATH}: no enum at EventResponse.${path.join('.')}; derive it again`);
  return node.enum.filter((value): value is string => typeof value === 'string');
}

/** Fails the build when the project's event knowledge and Front's schema disagree, with what to update. */
function checkAgainstFront(eventResponse: unknown, definitions: Schema): { sourceKinds: string[]; targetKinds: string[] } {
  const frontTypes = enumAt(eventResponse, ['properties', 'type']);
  const missing = frontTypes.filter((type) => !(FRONT_EVENT_TYPES as readonly string[]).includes(type));
  const extra = FRONT_EVENT_TYPES.filter((type) => !frontTypes.includes(type));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`lib/front/event-types.ts and Front's EventResponse.type differ (${[...missing.map((t) => `Front only: ${t}`), ...extra.map((t) => `project only: ${t}`)].join(', ')}): update FRONT_EVENT_TYPES and EVENT_SHAPES`);
  }
  const sourceKinds = enumAt(eventResponse, ['properties', 'source', 'properties', '_meta', 'properties', 'type']);
  const targetKinds = enumAt(eventResponse, ['properties', 'target', 'properties', '_meta', 'properties', 'type']);
  for (const [type, shape] of Object.entries(EVENT_SHAPES)) {
    const sources = shape.source === 'unspecified' ? [] : shape.source;
    const targets = shape.target === 'none' || shape.target === 'unspecified' ? [] : [shape.target];
    for (const [kinds, known, side] of [[sources, sourceKinds, 'source'], [targets, targetKinds, 'target']] as const) {
      for (const kind of kinds) {
        if (!known.includes(kind)) throw new Error(`EVENT_SHAPES.${type}.${side}: "${kind}" is not one of Front's ${side} _meta.type values (${known.join(', ')})`);
      }
    }
  }
  for (const kind of new Set([...sourceKinds, ...targetKinds])) {
    const data = RESOURCE_DATA[kind];
    if (data === undefined) throw new Error(`RESOURCE_DATA has no entry for Front's _meta.type "${kind}" (a schema name, or null for unknown data)`);
    if (data && !isObject(definitions[data.schema])) throw new Error(`RESOURCE_DATA.${kind}: ${data.schema} is not in ${RESOURCES_SCHEMA_PATH}`);
  }
  return { sourceKinds, targetKinds };
}

/** `{_meta:{type:K}, data}` in a full event and `{_meta:{type:K}, _links, id}` in a preview, for each kind. */
function resourceRefs(kinds: Iterable<string>): Schema {
  const definitions: Schema = {};
  for (const kind of kinds) {
    const data = RESOURCE_DATA[kind];
    const meta = { type: 'object', required: ['type'], properties: { type: literal(kind) }, additionalProperties: false };
    definitions[`${pascal(kind)}Ref`] = data
      ? {
          description: `A resource of kind \`${kind}\` in a full event.`,
          type: 'object',
          required: ['_meta', 'data'],
          properties: { _meta: meta, data: data.array ? { type: 'array', items: ref(typeName(data.schema)) } : ref(typeName(data.schema)) },
          additionalProperties: false,
        }
      : {
          description: `A resource of kind \`${kind}\` in a full event. Front's spec gives no schema for its data.`,
          type: 'object',
          required: ['_meta'],
          properties: { _meta: meta, data: {} },
          additionalProperties: false,
        };
    definitions[`${pascal(kind)}RefPreview`] = {
      description: `A resource of kind \`${kind}\` in an event preview: an id and a link, no data. Fetch \`_links.self\` for the resource.`,
      type: 'object',
      required: ['_meta', '_links', 'id'],
      properties: { _meta: meta, _links: { ...selfLink, additionalProperties: false }, id: { type: 'string' } },
      additionalProperties: false,
    };
  }
  definitions.UnspecifiedRef = {
    description: 'A source or target whose kind Front does not document for this event type: branch on `_meta.type`; its data is unknown.',
    type: 'object',
    required: ['_meta'],
    properties: {
      _meta: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, additionalProperties: false },
      data: {},
      id: { type: 'string' },
      _links: { type: 'object', properties: { self: { type: 'string' } }, additionalProperties: false },
    },
    additionalProperties: false,
  };
  definitions.ConversationPreview = {
    description: 'The conversation in an event preview: its id and links. Fetch `_links.self` for the conversation.',
    type: 'object',
    required: ['_links', 'id'],
    properties: {
      _links: {
        type: 'object',
        required: ['self'],
        properties: { self: { type: 'string' }, related: { type: 'object', additionalProperties: { type: 'string' } } },
        additionalProperties: false,
      },
      id: { type: 'string' },
    },
    additionalProperties: false,
  };
  return definitions;
}

function side(kinds: readonly string[], preview: boolean): Schema {
  const refs = kinds.map((kind) => ref(`${pascal(kind)}Ref${preview ? 'Preview' : ''}`));
  return refs.length === 1 ? (refs[0] as Schema) : { oneOf: refs };
}

function eventBody(type: string, preview: boolean): Schema {
  const shape = EVENT_SHAPES[type as keyof typeof EVENT_SHAPES];
  const required = ['_links', 'id', 'type', 'emitted_at', 'conversation'];
  const properties: Schema = {
    _links: { ...selfLink, additionalProperties: false },
    id: { type: 'string' },
    type: literal(type),
    emitted_at: { type: 'number' },
  };
  if (shape.source === 'unspecified') properties.source = ref('UnspecifiedRef');
  else {
    properties.source = side(shape.source, preview);
    required.push('source');
  }
  if (shape.target === 'none' || shape.target === 'unspecified') properties.target = ref('UnspecifiedRef');
  else {
    properties.target = side([shape.target], preview);
    required.push('target');
  }
  properties.conversation = preview ? ref('ConversationPreview') : ref('Conversation');
  const sources = shape.source === 'unspecified' ? 'no source' : `source ${shape.source.join(' or ')}`;
  const target = shape.target === 'none' ? 'no target' : shape.target === 'unspecified' ? 'no target kind' : `target ${shape.target}`;
  return {
    description: preview
      ? `An event preview of type \`${type}\`: source, target and conversation hold only \`_meta\`, \`_links\` and \`id\`; fetch \`_links.self\` for the full event.`
      : `A full event of type \`${type}\`. Front documents ${sources}, ${target}.`,
    type: 'object',
    required,
    properties,
    additionalProperties: false,
  };
}

/**
 * The JSON Schema every generated type comes from: Front's resources (renamed, prepared for typing), a
 * reference type per `_meta.type`, a full and a preview body per event type, and FrontEventBodies, the map
 * from event type to both bodies. `$id` lets ajv resolve its definitions in tests.
 */
export function frontEventsSchema(resources: unknown = JSON.parse(readFileSync(RESOURCES_SCHEMA_PATH, 'utf8'))): Schema {
  const frontDefinitions = isObject(resources) && isObject(resources.definitions) ? resources.definitions : undefined;
  if (!frontDefinitions) throw new Error(`${RESOURCES_SCHEMA_PATH} has no definitions: run npm run front-schema`);
  const { sourceKinds, targetKinds } = checkAgainstFront(frontDefinitions.EventResponse, frontDefinitions);
  const definitions: Schema = {};
  for (const [name, schema] of Object.entries(frontDefinitions)) {
    // EventResponse types every event alike; the per-type bodies below replace it.
    if (name !== 'EventResponse') definitions[typeName(name)] = forTypes(schema);
  }
  Object.assign(definitions, resourceRefs(new Set([...sourceKinds, ...targetKinds])));
  const bodies: Schema = {};
  for (const type of FRONT_EVENT_TYPES) {
    definitions[`${pascal(type)}Event`] = eventBody(type, false);
    definitions[`${pascal(type)}EventPreview`] = eventBody(type, true);
    bodies[type] = {
      type: 'object',
      required: ['full', 'preview'],
      properties: { full: ref(`${pascal(type)}Event`), preview: ref(`${pascal(type)}EventPreview`) },
      additionalProperties: false,
    };
  }
  return {
    $id: 'https://front-webhooks-aws/schemas/front-events.json',
    title: 'FrontEventBodies',
    description: 'Every known event type\'s body as Front sends it: `full` with "Send Full Event Data" on (and for application webhooks), `preview` with it off.',
    type: 'object',
    required: [...FRONT_EVENT_TYPES],
    properties: bodies,
    additionalProperties: false,
    definitions,
  };
}

const BANNER = `/* Generated by scripts/generate-front-types.ts from lib/front/resources.schema.json (derived from Front's
 * OpenAPI spec, see its derivedFrom) and lib/front/event-shapes.ts. Do not edit: npm run build regenerates it. */`;

/** Drops json-schema-to-typescript's "referenced by … via the definition …" note from every doc comment: noise in a hover. */
function withoutProvenanceNotes(source: string): string {
  return source
    .replace(/^ \* This interface was referenced by .*\n \* via the `definition` ".*"\.\n/gm, '')
    .replace(/^ \* \n \*\//gm, ' */')
    .replace(/^\/\*\*\n \*\/\n/gm, '');
}

/**
 * json-schema-to-typescript declares interfaces; they become type aliases here, because TypeScript lets an
 * object type alias, not an interface, stand where an index signature is expected: so a typed event is still
 * a FrontEvent (whose body is `{[field: string]: unknown}`) and fits any function that takes one. The
 * printer also indents the output, which prettier would otherwise do.
 */
function interfacesToTypeAliases(source: string): string {
  const file = ts.createSourceFile(FRONT_TYPES_PATH, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const toAlias: ts.TransformerFactory<ts.SourceFile> = (context) => (root) => ts.visitEachChild(root, (node) => {
    if (!ts.isInterfaceDeclaration(node) || node.heritageClauses) return node;
    const alias = ts.factory.createTypeAliasDeclaration(node.modifiers, node.name, node.typeParameters, ts.factory.createTypeLiteralNode(node.members));
    // Keeps the interface's position, so the printer keeps its doc comment.
    return ts.setTextRange(alias, node);
  }, context);
  const [transformed] = ts.transform(file, [toAlias]).transformed;
  return ts.createPrinter({ newLine: ts.NewLineKind.LineFeed }).printFile(transformed ?? file);
}

export async function generateFrontTypes(path = FRONT_TYPES_PATH): Promise<void> {
  const types = await compile(frontEventsSchema() as JSONSchema, 'FrontEventBodies', {
    bannerComment: BANNER,
    additionalProperties: false,
    unreachableDefinitions: true,
    // Nobody edits this file, and skipping prettier's pass keeps `npm install` (prepare) fast.
    format: false,
    // Resolve only inside the schema: nothing is fetched or read from disk.
    $refOptions: { resolve: { external: false } },
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, interfacesToTypeAliases(withoutProvenanceNotes(types)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await generateFrontTypes();
  console.log(`${FRONT_TYPES_PATH} written`);
}
