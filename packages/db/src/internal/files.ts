import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ProdError } from '@prod/core';
import { DbErrors } from '../errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const UNWRITABLE = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EEXIST',
  'ENOENT',
  'EISDIR',
  'ENAMETOOLONG',
  'ELOOP',
]);

/** A file-system error while writing a backup, as the typed error naming the path. */
export function writeError(path: string, error: unknown): ProdError {
  const code = (error as NodeJS.ErrnoException | null)?.code ?? '';
  const reason = error instanceof Error ? error.message : String(error);
  if (FULL.has(code)) {
    return DbErrors.DB_BACKUP_TARGET_FULL({
      message: `backup target ${path} is full: ${reason}`,
      details: { path, reason: code },
      cause: error,
    });
  }
  if (UNWRITABLE.has(code)) {
    return DbErrors.DB_BACKUP_TARGET_UNWRITABLE({
      message: `backup target ${path} is not writable: ${reason}`,
      details: { path, reason: code },
      cause: error,
    });
  }
  return DbErrors.DB_BACKUP_FAILED({
    message: `cannot write the backup at ${path}: ${reason}`,
    details: { path, reason: code || reason },
    cause: error,
  });
}

/** Classifies what a PostgreSQL tool printed on stderr when it failed to write its output. */
export function toolWriteProblem(stderr: string): 'full' | 'unwritable' | undefined {
  if (/No space left on device|Disk quota exceeded|File too large/i.test(stderr)) return 'full';
  if (
    /Permission denied|Read-only file system|Not a directory|could not open output file|could not create directory/i.test(
      stderr,
    )
  )
    return 'unwritable';
  return undefined;
}

/** SHA-256 (hex) and size of a file, streamed. */
export function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        hash.update(chunk);
        size += chunk.length;
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }));
  });
}

/** Every file under `dir`, as paths relative to it with `/` separators, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Whether `path` exists and is a directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** What a child process did. */
export interface ToolRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the tool could not be started at all (ENOENT: not installed). */
  readonly spawnError?: NodeJS.ErrnoException;
}

const MAX_OUTPUT = 64 * 1024;

/** Runs a PostgreSQL client tool, capturing (bounded) output. */
export function runTool(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ToolRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: null, signal: null, stdout, stderr, spawnError: error }),
    );
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * A libpq connection string without its password (which goes to PGPASSWORD instead, so it
 * never shows in the process list), and the environment to run a tool with.
 */
export function connectionFor(url: string): {
  url: string;
  env: NodeJS.ProcessEnv;
  database: string;
} {
  const env: NodeJS.ProcessEnv = { ...process.env };
  let database = 'postgres';
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      env.PGPASSWORD = decodeURIComponent(parsed.password);
      parsed.password = '';
    }
    database =
      decodeURIComponent(parsed.pathname.replace(/^\//, '')) ||
      decodeURIComponent(parsed.username) ||
      'postgres';
    return { url: parsed.toString(), env, database };
  } catch {
    // A key=value connection string: passed as it is.
    const name = /(?:^|\s)dbname=(\S+)/.exec(url)?.[1];
    return { url, env, database: name ?? database };
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir loops forever on some virtual file
 * systems (a path under /proc), this fails with the first level's error instead.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (await isDirectory(dir)) return;
      throw Object.assign(new Error(`${dir} exists and is not a directory`), { code: 'ENOTDIR' });
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await ensureDir(parent);
    await mkdir(dir);
  }
}
