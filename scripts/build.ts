/**
 * `npm run build`: generates lib/generated/ (standalone validators, Front event types), bundles each function in
 * functions/ to dist/<function>/index.mjs (handler export `handler`) and zips it to dist/<function>.zip,
 * the artifact serverless.yml deploys. Zips are reproducible: fixed mtimes, sorted entries.
 */
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import yazl from 'yazl';
import { generateSources } from './generate.ts';

const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

// The AWS SDK's ESM build still calls require() for node built-ins; give the bundle one.
const BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * The esbuild options of a function bundle. The tests and benchmarks that build a variant of a function (a module
 * swapped through `plugins`) use these too, so the variant differs from dist/ only by what they swap.
 */
export function bundleOptions(entryPoint: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // Module-first picks the SDK's ESM build: about 25 % smaller than its CommonJS build.
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    banner: { js: BANNER },
    alias: {
      // Credentials from the environment only, as Lambda provides them, instead of the SDK's default chain (SSO, INI
      // files, credential process, web identity, login, metadata): never used on Lambda, ~100 KB of each bundle.
      // Why and what it means for other runtimes: lib/env-credentials.ts. (Resolved from the current directory, the
      // repository root, like every path here.)
      '@aws-sdk/credential-provider-node': './lib/env-credentials.ts',
    },
    logLevel: 'warning',
  };
}

export const FUNCTIONS = readdirSync('functions')
  .filter((file) => file.endsWith('.ts'))
  .map((file) => basename(file, '.ts'))
  .sort();

function zip(dir: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = new yazl.ZipFile();
    for (const file of readdirSync(dir).sort()) {
      archive.addFile(join(dir, file), file, { mtime: FIXED_MTIME, mode: 0o100644 });
    }
    archive.end();
    archive.outputStream.pipe(createWriteStream(out)).on('close', () => resolve()).on('error', reject);
  });
}

export async function buildAll(): Promise<Array<{ name: string; bundleBytes: number; zipBytes: number }>> {
  await generateSources();
  rmSync('dist', { recursive: true, force: true });
  const results = [];
  for (const name of FUNCTIONS) {
    const outdir = join('dist', name);
    mkdirSync(outdir, { recursive: true });
    await build(bundleOptions(join('functions', `${name}.ts`), join(outdir, 'index.mjs')));
    await zip(outdir, join('dist', `${name}.zip`));
    results.push({
      name,
      bundleBytes: statSync(join(outdir, 'index.mjs')).size,
      zipBytes: statSync(join('dist', `${name}.zip`)).size,
    });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const results = await buildAll();
  for (const r of results) console.log(`${r.name}: dist/${r.name}/index.mjs ${r.bundleBytes} B, dist/${r.name}.zip ${r.zipBytes} B`);
  console.log(`built in ${Math.round(performance.now() - started)} ms`);
}
