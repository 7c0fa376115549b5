/**
 * The local build plugin (serverless/build-plugin.cjs): `sls package` (and so `sls deploy`) builds the
 * functions from the tree before the artifacts are used, replaces a stale or missing dist/, and stops when
 * the build fails. Each case runs the real CLI (osls) on a private copy of the service, offline, without
 * AWS credentials.
 */
import assert from 'node:assert/strict';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import yazl from 'yazl';
import { codeSha256, readJson, removeServiceCopies, ROOT, serviceCopy, sls, unzipEntry } from './helpers/service.ts';

interface Template { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }

after(removeServiceCopies);

/** CodeSha256 of each function's version resource, by function (IngestLambdaVersion… -> ingest). */
function deployedHashes(dir: string): Map<string, string> {
  const template = readJson<Template>(join(dir, '.serverless', 'cloudformation-template-update-stack.json'));
  const hashes = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const m = /^(\w+)LambdaVersion/.exec(id);
    if (r.Type === 'AWS::Lambda::Version' && m) hashes.set(m[1]!.toLowerCase(), String(r.Properties.CodeSha256));
  }
  return hashes;
}

/** Appends an export only this copy's source has, so its presence in a bundle proves which tree it came from. */
function markSource(dir: string, fn: string): string {
  const marker = `tree-marker-${fn}-${process.pid}-${Date.now()}`;
  appendFileSync(join(dir, 'functions', `${fn}.ts`), `\nexport const treeMarker = '${marker}';\n`);
  return marker;
}

/** A dist/<fn>.zip as an older build would have left it: an index.mjs that is not the tree's code. */
async function writeStaleArtifact(dir: string, fn: string): Promise<Buffer> {
  mkdirSync(join(dir, 'dist', fn), { recursive: true });
  const code = `export const handler = async () => 'STALE BUILD';\n`;
  writeFileSync(join(dir, 'dist', fn, 'index.mjs'), code);
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(code), 'index.mjs', { mtime: new Date('2020-01-01T00:00:00Z') });
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(join(dir, 'dist', `${fn}.zip`))).on('close', resolve).on('error', reject);
  });
  return readFileSync(join(dir, 'dist', `${fn}.zip`));
}

/** Every function the project deploys: one per functions/*.ts. */
const FUNCTIONS = readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort();

describe('sls package builds first', () => {
  /** Packages a copy whose functions carry markers, after `prepare` has set up its dist/; checks what is deployed. */
  async function packageMarkedCopy(prepare: (dir: string) => Promise<void>): Promise<{ dir: string; output: string }> {
    const markers = new Map<string, string>();
    const dir = serviceCopy((d) => {
      for (const fn of FUNCTIONS) markers.set(fn, markSource(d, fn));
    });
    await prepare(dir);

    const { stdout, stderr } = await sls(dir, ['package']);

    const hashes = deployedHashes(dir);
    assert.deepEqual([...hashes.keys()].sort(), [...markers.keys()].sort());
    for (const [fn, marker] of markers) {
      const zip = readFileSync(join(dir, 'dist', `${fn}.zip`));
      assert.equal(hashes.get(fn), codeSha256(zip), `${fn}: the template deploys the zip the build just wrote`);
      const code = unzipEntry(zip, 'index.mjs').toString('utf8');
      assert.ok(code.includes(marker), `${fn}: the deployed bundle is built from this tree`);
      assert.ok(!code.includes('STALE BUILD'), `${fn}: nothing of the stale build is deployed`);
    }
    return { dir, output: `${stdout}${stderr}` };
  }

  it('replaces a stale dist/ with the tree\'s code', async () => {
    const stale = new Map<string, string>();
    const { dir, output } = await packageMarkedCopy(async (d) => {
      for (const fn of FUNCTIONS) stale.set(fn, codeSha256(await writeStaleArtifact(d, fn)));
    });
    for (const [fn, hash] of deployedHashes(dir)) assert.notEqual(hash, stale.get(fn), `${fn}: not the stale zip`);
    // One line says it built, with each artifact's size.
    const built = output.split('\n').filter((l) => l.startsWith('Built from the tree'));
    assert.equal(built.length, 1, `one build line in:\n${output}`);
    assert.match(built[0]!, new RegExp(`: ${FUNCTIONS.map((fn) => `dist/${fn}\\.zip \\d+\\.\\d KiB`).join(', ')}$`));
  });

  it('builds a dist/ that does not exist', async () => {
    const { dir } = await packageMarkedCopy(async (d) => assert.ok(!existsSync(join(d, 'dist'))));
    assert.ok(existsSync(join(dir, 'dist', 'ingest.zip')));
  });

  it('stops with the build\'s error when the build fails, and packages nothing', async () => {
    const dir = serviceCopy((d) => appendFileSync(join(d, 'functions', 'process.ts'), '\nexport const broken = ;\n'));
    await writeStaleArtifact(dir, 'ingest');
    await writeStaleArtifact(dir, 'process');

    const failure = await sls(dir, ['package']).then(
      () => assert.fail('sls package succeeded although the build failed'),
      (error: Error & { code?: number; stdout: string; stderr: string }) => error,
    );
    assert.notEqual(failure.code, 0);
    const output = `${failure.stdout}${failure.stderr}`;
    assert.match(output, /The build failed \(npm run --silent build: exit code \d+\), so nothing was packaged or deployed/);
    assert.match(output, /functions\/process\.ts/, 'the build\'s own error, naming the file');
    assert.ok(!existsSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json')), 'no template');
  });

  it('refuses an artifact in serverless.yml that the build did not write: missing, or older than the build', async () => {
    const pointIngestAt = (artifact: string) => (d: string) => {
      const file = join(d, 'serverless.yml');
      const yml = readFileSync(file, 'utf8');
      assert.ok(yml.includes('artifact: dist/ingest.zip'));
      writeFileSync(file, yml.replace('artifact: dist/ingest.zip', `artifact: ${artifact}`));
    };
    const missing = serviceCopy(pointIngestAt('dist/not-built.zip'));
    const stale = serviceCopy(pointIngestAt('prebuilt/ingest.zip'));
    mkdirSync(join(stale, 'prebuilt'));
    writeFileSync(join(stale, 'prebuilt', 'ingest.zip'), 'left over');
    utimesSync(join(stale, 'prebuilt', 'ingest.zip'), new Date('2020-01-01'), new Date('2020-01-01'));

    const outputs = await Promise.all([missing, stale].map((dir) => sls(dir, ['package']).then(
      () => assert.fail('sls package succeeded'),
      (error: Error & { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    )));
    assert.match(outputs[0]!, /The build \(npm run --silent build\) did not write dist\/not-built\.zip, which serverless\.yml deploys/);
    assert.match(outputs[1]!, /prebuilt\/ingest\.zip predates this build \(npm run --silent build did not write it\): it would deploy stale code/);
  });

  it('refuses a stage name too long for IAM\'s role names before building, saying how long it may be', async () => {
    const dir = serviceCopy();
    const stage = 'a'.repeat(30);
    const output = await sls(dir, ['package', '--stage', stage, '--region', 'ap-southeast-2']).then(
      () => assert.fail('sls package succeeded'),
      (error: Error & { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    // front-webhooks-<stage>-ap-southeast-2-reconcile: 40 characters and the stage; IAM allows 64.
    assert.match(output, new RegExp(`The stage name "${stage}" is too long for ap-southeast-2: the IAM role \\w+ would be named "front-webhooks-${stage}-ap-southeast-2-reconcile" \\(70 characters; IAM allows 64\\)\\. Use a stage name of at most 24 characters\\.`));
    assert.ok(!existsSync(join(dir, 'dist')), 'nothing built');
    assert.ok(!existsSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json')), 'no template');
  });

  it('is the only build: `npm run package` is `sls package`', () => {
    const { scripts } = readJson<{ scripts: Record<string, string> }>(join(ROOT, 'package.json'));
    assert.equal(scripts.package, 'sls package');
  });
});
