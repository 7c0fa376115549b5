/**
 * `npm run bench` (= `npm run build && node --import tsx bench/run.ts [name…]`): runs the benchmark modules below in
 * order, prints each one's section, and writes them into docs/benchmarks.md with the machine and the command.
 * Each module exports `run(): Promise<string>` returning its Markdown section. With names, only those run; the
 * other sections of docs/benchmarks.md are kept as they are.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** The benchmark modules, in the order they run. Add a module here: `[name, () => import('./file.ts')]`. */
const MODULES: Array<[string, () => Promise<{ run(): Promise<string> }>]> = [
  ['ingest', () => import('./ingest.ts')],
  ['process', () => import('./process.ts')],
  ['state-table', async () => ({ run: (await import('./process.ts')).runStateTable })],
  ['throughput', async () => ({ run: (await import('./process.ts')).runThroughput })],
  ['e2e', () => import('./e2e.ts')],
];

const DOC = 'docs/benchmarks.md';

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return String(cpus().length);
  }
}

function machine(): string {
  const load = loadavg().map((l) => l.toFixed(2)).join(', ');
  return `${nproc()} CPUs (\`nproc\`), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}; load average at start ${load}`;
}

/** Replaces the section between `<!-- bench:name -->` and `<!-- /bench:name -->`, or appends it. */
function upsert(doc: string, name: string, body: string): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return doc.slice(0, from) + block + doc.slice(to + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

const HEADER = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (bench/run.ts); each section records the machine it ran on and when.',
  'Figures from a shared 2-core machine are noisy: compare rows of one run, not runs.',
].join('\n');

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !MODULES.some(([n]) => n === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; known: ${MODULES.map(([n]) => n).join(', ')}`);
  process.exit(2);
}
let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `${HEADER}\n`;
for (const [name, load] of MODULES) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const about = `Machine: ${machine()}. Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\`.`;
  const started = performance.now();
  const section = await (await load()).run();
  console.log(`${section}\n(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  const [title = '', ...rest] = section.trim().split('\n');
  doc = upsert(doc, name, [title, '', about, ...rest].join('\n'));
}
writeFileSync(DOC, doc);
console.log(`Wrote ${DOC}`);
