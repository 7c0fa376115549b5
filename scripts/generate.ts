/**
 * `npm run generate`: the generated sources under lib/generated/, without bundling: the standalone validators
 * and the Front event types. Run by `npm install` (prepare), so an editor sees the types before any build,
 * and by `npm run build`.
 */
import { pathToFileURL } from 'node:url';
import { FRONT_TYPES_PATH, generateFrontTypes } from './generate-front-types.ts';
import { generateValidators, VALIDATORS_PATH } from './generate-validators.ts';

export async function generateSources(): Promise<string[]> {
  generateValidators();
  await generateFrontTypes();
  return [VALIDATORS_PATH, FRONT_TYPES_PATH];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const written = await generateSources();
  console.log(`${written.join(', ')} generated in ${Math.round(performance.now() - started)} ms`);
}
