/**
 * `npm run front-schema -- [openapi.json] [--commit <sha>]`: derives lib/front/resources.schema.json, the
 * project's trimmed copy of the resource schemas Front's events carry, from a Front OpenAPI document:
 * ../shared/front/event-schemas.json (the default) or core-api/core-api.json from frontapp/front-api-specs.
 *
 * Front's spec has no licence, so the project keeps only what typing needs: the component schemas reachable
 * from EventResponse, and in them only structure (property names, types, enums, required, nullability, $refs,
 * oneOf/anyOf/allOf, items, additionalProperties). Descriptions, examples, formats and the rest are dropped.
 * OpenAPI 3.0's `nullable` becomes JSON Schema's `null` type, so the result is a plain draft-07 schema
 * that both json-schema-to-typescript (types, at build) and ajv (checking samples, in tests) read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

export const RESOURCES_SCHEMA_PATH = 'lib/front/resources.schema.json';
export const DEFAULT_SOURCE = '../shared/front/event-schemas.json';
const FRONT_SPECS_REPOSITORY = 'https://github.com/frontapp/front-api-specs';
const ROOTS = ['EventResponse'];

type Schema = Record<string, unknown>;

/** Keywords kept as they are; `properties` and `nullable` are handled apart, everything else is dropped. */
const STRUCTURAL = new Set(['type', 'required', 'enum', 'items', 'oneOf', 'anyOf', 'allOf', 'additionalProperties', '$ref']);
const SUBSCHEMA_LISTS = new Set(['oneOf', 'anyOf', 'allOf']);

export interface DerivedFrom {
  repository: string;
  path: string;
  commit: string;
  command: string;
}

export interface DeriveResult {
  schema: Schema;
  /** How many times each dropped keyword occurred, to print what was left out. */
  dropped: Map<string, number>;
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refName(ref: string): string {
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
  if (!match?.[1]) throw new Error(`unsupported $ref "${ref}": only #/components/schemas/<name> references are followed`);
  return match[1];
}

function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.add(refName(child));
      else refsIn(child, found);
    }
  }
  return found;
}

/** The names of `roots` and of every component schema they reference, directly or not, sorted. */
export function reachableSchemas(components: Record<string, unknown>, roots: readonly string[] = ROOTS): string[] {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    const schema = components[name];
    if (!isObject(schema)) throw new Error(`components.schemas.${name} is referenced but not defined in the input`);
    seen.add(name);
    pending.push(...refsIn(schema, new Set()));
  }
  return [...seen].sort();
}

function trim(schema: unknown, dropped: Map<string, number>): unknown {
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      // Property names are data, not keywords: a property called `description` or `example` stays.
      out.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, trim(property, dropped)]));
    } else if (key === '$ref' && typeof value === 'string') {
      out.$ref = `#/definitions/${refName(value)}`;
    } else if (SUBSCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map((item) => trim(item, dropped));
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = typeof value === 'boolean' ? value : trim(value, dropped);
    } else if (STRUCTURAL.has(key)) {
      out[key] = value;
    } else if (key !== 'nullable') {
      dropped.set(key, (dropped.get(key) ?? 0) + 1);
    }
  }
  return schema.nullable === true ? nullable(out) : out;
}

/** OpenAPI 3.0 `nullable: true` as JSON Schema. Front also sets it beside `$ref`, where 3.0 ignores siblings; its intent is clear. */
function nullable(schema: Schema): Schema {
  if (typeof schema.type === 'string' && schema.$ref === undefined) {
    const withNull: Schema = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum)) withNull.enum = [...schema.enum, null];
    return withNull;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

/** Front's OpenAPI document (or the event extract of it) → the project's trimmed JSON Schema. */
export function deriveResourcesSchema(openapi: unknown, derivedFrom: DerivedFrom): DeriveResult {
  const components = isObject(openapi) && isObject(openapi.components) ? openapi.components.schemas : undefined;
  if (!isObject(components)) throw new Error('the input has no components.schemas: pass a Front OpenAPI document (core-api.json) or ../shared/front/event-schemas.json');
  const dropped = new Map<string, number>();
  const definitions = Object.fromEntries(reachableSchemas(components).map((name) => [name, trim(components[name], dropped)]));
  return {
    schema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $comment: `Derived from Front's OpenAPI spec by \`${derivedFrom.command}\` (scripts/derive-front-schema.ts): only the component schemas reachable from EventResponse, only their structure. Do not edit; derive again.`,
      derivedFrom,
      definitions,
    },
    dropped,
  };
}

/** Where the input came from: the extract in ../shared says so itself; a core-api.json needs --commit. */
function provenance(openapi: unknown, sourcePath: string, commit: string | undefined): DerivedFrom {
  const meta = isObject(openapi) && isObject(openapi._meta) ? openapi._meta : {};
  const recordedCommit = typeof meta.source_commit === 'string' ? meta.source_commit : undefined;
  const resolvedCommit = commit ?? recordedCommit;
  if (!resolvedCommit) {
    throw new Error(`${sourcePath} does not say which commit of ${FRONT_SPECS_REPOSITORY} it is: pass --commit <sha>`);
  }
  return {
    repository: typeof meta.source_repository === 'string' ? meta.source_repository : FRONT_SPECS_REPOSITORY,
    path: typeof meta.source_path === 'string' ? meta.source_path : 'core-api/core-api.json',
    commit: resolvedCommit,
    command: `npm run front-schema -- ${sourcePath}${commit ? ` --commit ${commit}` : ''}`,
  };
}

export function writeResourcesSchema(sourcePath: string, commit?: string, outPath = RESOURCES_SCHEMA_PATH): DeriveResult {
  if (!existsSync(sourcePath)) {
    throw new Error(`${sourcePath} does not exist: pass the path of ../shared/front/event-schemas.json or of front-api-specs' core-api/core-api.json`);
  }
  const openapi: unknown = JSON.parse(readFileSync(sourcePath, 'utf8'));
  const result = deriveResourcesSchema(openapi, provenance(openapi, sourcePath, commit));
  writeFileSync(outPath, `${JSON.stringify(result.schema, null, 2)}\n`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { commit: { type: 'string' } } });
  const source = positionals[0] ?? DEFAULT_SOURCE;
  try {
    const { schema, dropped } = writeResourcesSchema(source, values.commit);
    const names = Object.keys(schema.definitions as Schema);
    console.log(`${RESOURCES_SCHEMA_PATH}: ${names.length} schemas (${names.join(', ')})`);
    console.log(`dropped: ${[...dropped].map(([keyword, count]) => `${keyword} ×${count}`).join(', ') || 'nothing'}`);
  } catch (error) {
    console.error(`front-schema: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
