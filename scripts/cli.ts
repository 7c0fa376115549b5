import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Prints what was wrong and the usage, and exits 2 (a usage error), never with a stack trace. */
export function usageError(message: string, usage: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

/**
 * The command line parsed strictly (an unknown option or a missing value is a usage error: parseArgs is strict
 * by default), `--help`/`-h` printing the usage and exiting 0. Every script's arguments go through here.
 */
export function parseCli<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error), usage);
  }
}
