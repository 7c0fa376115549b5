/**
 * Handlers that use typed payloads compile, and wrong reads do not: tests/types/*.ts and the README's handler
 * example go through the project's TypeScript (compiler API, the project's tsconfig). Every
 * `@ts-expect-error TS<code>` in a fixture must be needed: with the directives removed, exactly those lines
 * fail, with those codes. So the test fails if the types degrade to `any` (nothing fails) or to `unknown`
 * (the positive reads fail).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'tests', 'types');
const README_EXAMPLE = join(ROOT, 'lib', 'handlers', 'readme-example.ts');
const DIRECTIVE = /^\s*\/\/ @ts-expect-error (TS\d+) /;

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')); },
  });
  if (!parsed) throw new Error('tsconfig.json could not be read');
  return parsed.options;
}

// Files read from disk are parsed once for both compilations.
const parsedFromDisk = new Map<string, ts.SourceFile | undefined>();

/** Type-checks `files` (path → text) as part of the project; files not given are read from disk. */
function typeCheck(files: Map<string, string>, options: ts.CompilerOptions): ts.Diagnostic[] {
  const host = ts.createCompilerHost(options);
  const readFromDisk = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const text = files.get(resolve(name));
    if (text !== undefined) return ts.createSourceFile(name, text, language);
    if (!parsedFromDisk.has(name)) parsedFromDisk.set(name, readFromDisk(name, language, ...rest));
    return parsedFromDisk.get(name);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  return [...ts.getPreEmitDiagnostics(ts.createProgram([...files.keys()], options, host))];
}

function describeDiagnostic(diagnostic: ts.Diagnostic): string {
  const where = diagnostic.file && diagnostic.start !== undefined
    ? `${diagnostic.file.fileName.slice(ROOT.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}`
    : '(no file)';
  return `${where} TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
}

/** The first ```ts block of a README section. */
function readmeBlock(readme: string, heading: string): string {
  const section = readme.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  const block = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README.md has no \`\`\`ts block under "## ${heading}"`);
  return block;
}

describe('typed handler payloads, compiled', () => {
  const options = compilerOptions();
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const fixtures = new Map(readdirSync(FIXTURES).filter((file) => file.endsWith('.ts')).map((file) => [join(FIXTURES, file), readFileSync(join(FIXTURES, file), 'utf8')]));
  let asWritten: ts.Diagnostic[] = [];
  let withoutDirectives: ts.Diagnostic[] = [];

  before(() => {
    asWritten = typeCheck(new Map([...fixtures, [README_EXAMPLE, readmeBlock(readme, 'Handle an event type')]]), options);
    const stripped = new Map([...fixtures].map(([path, text]) => [path, text.replace(/\/\/ @ts-expect-error (TS\d+) /g, '// expected $1: ')]));
    withoutDirectives = typeCheck(stripped, options);
  });

  it('the fixtures compile, and every @ts-expect-error in them is needed', () => {
    assert.ok(fixtures.size > 0, 'tests/types holds fixtures');
    assert.deepEqual(asWritten.filter((d) => d.file?.fileName !== README_EXAMPLE).map(describeDiagnostic), []);
  });

  it('each wrong read fails with the expected error, on its own line, and nothing else fails', () => {
    const expected: string[] = [];
    for (const [path, text] of fixtures) {
      text.split('\n').forEach((line, index) => {
        const code = DIRECTIVE.exec(line)?.[1];
        // The directive applies to the next line.
        if (code) expected.push(`${path.slice(ROOT.length + 1)}:${index + 2} ${code}`);
      });
    }
    assert.ok(expected.length >= 10, `the fixtures hold negative cases (${expected.length})`);
    const actual = withoutDirectives.map((d) => describeDiagnostic(d).split(' ').slice(0, 2).join(' '));
    assert.deepEqual(actual.sort(), expected.sort(), withoutDirectives.map(describeDiagnostic).join('\n'));
  });

  it('the README\'s handler example compiles as written, in lib/handlers/', () => {
    const example = readmeBlock(readme, 'Handle an event type');
    assert.match(example, /FrontEventHandler<'tag'>/);
    assert.match(example, /event\.body\.target\.data/, 'the example reads the typed target');
    assert.deepEqual(asWritten.filter((d) => d.file?.fileName === README_EXAMPLE).map(describeDiagnostic), []);
  });

  it('the README\'s "Test your handler" example is the first test of tests/inbound-handler.test.ts, which runs', () => {
    const example = readmeBlock(readme, 'Test your handler');
    const testFile = readFileSync(join(ROOT, 'tests', 'inbound-handler.test.ts'), 'utf8');
    const firstTest = /^ {2}it\([\s\S]*?^ {2}\}\);\n/m.exec(testFile)?.[0].replace(/^ {2}/gm, '');
    assert.ok(firstTest, 'tests/inbound-handler.test.ts has a first test');
    assert.ok(example.includes(firstTest), `README's example holds:\n${firstTest}`);
  });
});
