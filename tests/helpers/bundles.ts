import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { build, type Plugin } from 'esbuild';
import { bundleOptions } from '../../scripts/build.ts';

export type IngestHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
export type ProcessBundleHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let loads = 0;

/**
 * Imports a built bundle (dist/<name>/index.mjs) as a Lambda cold start does: its configuration is read from the
 * environment at import, so `env` is set for the import (and left set: the bundle's SDK clients read their
 * endpoint when first used). Each call is a fresh module instance.
 */
export async function loadBundle<T>(name: 'ingest' | 'process' | 'reconcile', env: Record<string, string>): Promise<T> {
  const file = resolve('dist', name, 'index.mjs');
  assert.ok(existsSync(file), `${file} is missing: run \`npm run build\` first (\`npm test\` does)`);
  return loadBundleFile<T>(file, env);
}

/** loadBundle for a bundle built elsewhere (buildProcessVariant). */
export async function loadBundleFile<T>(file: string, env: Record<string, string>): Promise<T> {
  Object.assign(process.env, env);
  return (await import(`${pathToFileURL(resolve(file)).href}?load=${++loads}`)) as T;
}

/** The module every function imports its handlers from; the one module a test variant swaps. */
const REGISTRY = resolve('lib/handlers/index.ts');

/**
 * Builds functions/process.ts as scripts/build.ts does (same esbuild options) into `outfile`, with only the handler
 * registry (lib/handlers/index.ts) replaced by `registry`: decoding, the state table through the AWS SDK, the queue
 * calls, Powertools Logger and Metrics are the shipped code.
 */
export async function buildProcessVariant(registry: string, outfile: string): Promise<void> {
  let swapped = 0;
  const swap: Plugin = {
    name: 'swap-handler-registry',
    setup(b) {
      b.onResolve({ filter: /handlers\/index\.ts$/ }, (args) => {
        if (resolve(args.resolveDir, args.path) !== REGISTRY) return undefined;
        swapped += 1;
        return { path: resolve(registry) };
      });
    },
  };
  await build({ ...bundleOptions('functions/process.ts', outfile), plugins: [swap] });
  assert.ok(swapped > 0, 'functions/process.ts no longer imports lib/handlers/index.ts: update buildProcessVariant');
}

/** A Lambda context with `remainingMs` left, as the process function's deadline reads it. */
export function lambdaContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true, functionName: 'test', functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test', memoryLimitInMB: '256',
    awsRequestId: `req-${++loads}`, logGroupName: '/aws/lambda/test', logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {}, fail: () => {}, succeed: () => {},
  };
}

/** Runs `act` with stdout and stderr captured, and returns the JSON log lines written meanwhile. */
export async function captureLogLines<T>(act: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>>; raw: string }> {
  const written: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => { written.push(Buffer.from(chunk).toString('utf8')); return true; }) as typeof stream.write;
  }
  try {
    const result = await act();
    const raw = written.join('');
    const lines = (raw.match(/\{"level":.*\}/g) ?? []).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines, raw };
  } finally {
    streams.forEach((stream, i) => { stream.write = writes[i]!; });
  }
}
