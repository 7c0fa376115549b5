/**
 * A private copy of the service for running the real CLI (osls, as `sls`) on it: the tree's files without
 * node_modules (linked), dist/, .serverless/ or generated code, so each copy builds its own dist/ and writes
 * its own .serverless/, and tests can change files or run in parallel without touching the worktree.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const SLS = join(ROOT, 'node_modules', '.bin', 'sls');

/** Not copied: installed, built or written by a run (each copy makes its own). */
const SKIPPED = new Set(['.git', 'node_modules', 'dist', '.serverless', '.local', join('lib', 'generated')]);

const copies: string[] = [];

/** A fresh copy of the service; `edit` may change its files before the CLI runs. */
export function serviceCopy(edit?: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'front-webhooks-service-'));
  copies.push(dir);
  cpSync(ROOT, dir, { recursive: true, filter: (source) => !SKIPPED.has(relative(ROOT, source)) });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  edit?.(dir);
  return dir;
}

export function removeServiceCopies(): void {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The environment of this process without any AWS_* variable (no credentials, profile or region), plus `extra`. */
export function envWithoutAws(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

export interface CliRun {
  stdout: string;
  stderr: string;
}

/** Runs `sls <args>` in `dir`; rejects (with stdout and stderr on the error) when it exits non-zero. */
export async function sls(dir: string, args: string[], env: NodeJS.ProcessEnv = envWithoutAws()): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    execFile(SLS, args, { cwd: dir, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/** SHA-256 in base64: the form of a Lambda version's CodeSha256 and of GetFunction's CodeSha256. */
export function codeSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** One file of a zip archive (stored or deflated), found through the central directory. */
export function unzipEntry(zip: Buffer, name: string): Buffer {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip archive');
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const local = zip.readUInt32LE(at + 42);
      const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(data, data + size);
      return method === 0 ? raw : inflateRawSync(raw);
    }
    at = next;
  }
  throw new Error(`${name} is not in the archive`);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
