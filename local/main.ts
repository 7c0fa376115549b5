/**
 * `npm start` (after the build): the local stack (local/stack.ts), printing one readable line per request and per
 * event outcome, or with `--json` the functions' exact JSON lines on stdout (everything else on stderr), so
 * `npm start --silent -- --json | jq` works. Keeps .local/state.json across restarts. Ctrl-C finishes what is in
 * flight, saves, and exits; a second Ctrl-C exits at once.
 */
import { pathToFileURL } from 'node:url';
import { parseCli } from '../scripts/cli.ts';
import { describeLine, paint, wantsColor } from './output.ts';
import { startLocalStack, type LocalStack } from './stack.ts';

const USAGE = `Usage: npm start [-- --json] [-- --fresh]

  --json    print the functions' JSON log lines exactly as Lambda writes them (stdout), e.g.
            npm start --silent -- --json | jq 'select(.message == "front event processed")'
  --fresh   start with empty queues, state table and Front events (ignore .local/state.json)

Ports: PORT (3000, webhooks and the inspector page), SQS_PORT (9324), DYNAMODB_PORT (8000), FAKE_FRONT_PORT (3030).
Colours are off when NO_COLOR is set or the output is not a terminal.`;

/** Where the local state is kept (LOCAL_STATE_FILE moves it, e.g. for the tests). */
export const STATE_FILE = process.env.LOCAL_STATE_FILE || '.local/state.json';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseCli({ options: { json: { type: 'boolean', default: false }, fresh: { type: 'boolean', default: false } } }, USAGE);
  const color = wantsColor(process.stdout, process.env);
  const stderr = (line: string) => process.stderr.write(`${line}\n`);
  let stack: LocalStack;
  try {
    if (values.fresh) {
      const { rmSync } = await import('node:fs');
      rmSync(STATE_FILE, { force: true });
    }
    stack = await startLocalStack({
      inspector: true,
      stateFile: STATE_FILE,
      print: stderr,
      onLine: (_fn, line) => {
        if (values.json) {
          // What is not a JSON line (a handler's plain console.log) goes to stderr: shown, and jq still reads stdout.
          if (line.startsWith('{')) process.stdout.write(`${line}\n`);
          else process.stderr.write(`${line}\n`);
          return;
        }
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          process.stdout.write(`${line}\n`);
          return;
        }
        const printed = describeLine(parsed);
        if (printed) process.stdout.write(`${paint(printed, color)}\n`);
      },
    });
  } catch (error) {
    stderr(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  stderr(values.json ? 'Function log lines follow on stdout. Ctrl-C stops.' : 'Requests and events follow (time, outcome, type, event, conversation, …). `-- --json` prints the raw lines. Ctrl-C stops.');
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    stderr(`${signal}: finishing what is in flight and saving the local state (Ctrl-C again to quit at once)…`);
    stack.stop().then(() => {
      stderr(`stopped; kept ${STATE_FILE}`);
      process.exit(0);
    }, (error: unknown) => {
      stderr(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
