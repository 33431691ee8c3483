import { createHash } from 'node:crypto';
import { isProdError, ProdError } from '@prod/core';

/** Options of {@link fingerprint}. */
export interface FingerprintOptions {
  /** How many top stack frames identify the error. Default 3. */
  readonly frames?: number;
}

const MAX_STACK_CHARS = 16_384;
const MAX_CAUSE_DEPTH = 5;
const FRAME = /^\s*at\s+(?:(.*?)\s+\()?(.*?)\)?\s*$/;

/**
 * A stable id for "the same error": its code plus its normalized top stack frames, hashed
 * to 16 hex characters.
 *
 * Details: frames keep the function name and the file, without line and column (so an edit
 * elsewhere in the file does not split a group), without the working directory, `file://`,
 * query strings and everything before the last `node_modules/`; `node:` internals are
 * skipped. An `INTERNAL` ProdError (what `ProdError.from` makes of an unknown throw) and an
 * error without frames use the stack of their cause. With no frames at all, the message
 * stands in, with numbers, hex ids and UUIDs masked.
 *
 * @example
 * fingerprint(new Error('boom')) === fingerprint(new Error('boom')) // true when thrown at the same place
 */
export function fingerprint(error: unknown, options: FingerprintOptions = {}): string {
  const count = Math.max(1, Math.min(50, Math.floor(options.frames ?? 3)));
  let code: string;
  let frames: string[];
  let message: string;
  try {
    const normalized = ProdError.from(error);
    code = isProdError(error)
      ? error.code
      : `${normalized.code}:${readString(error, 'name') ?? typeof error}`;
    frames = framesOf(error, count);
    message = frames.length === 0 ? maskMessage(normalized.message) : '';
  } catch {
    // A hostile value (throwing getters, revoked proxy) still gets a group of its own.
    code = 'UNREADABLE';
    frames = [];
    message = '';
  }
  const text = [code, ...frames, message].join('\n');
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

function framesOf(error: unknown, count: number): string[] {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current !== undefined; depth++) {
    const frames = isProdError(current) && current.code === 'INTERNAL' ? [] : parse(current, count);
    if (frames.length > 0) return frames;
    current = readCause(current);
  }
  return parse(error, count);
}

function parse(error: unknown, count: number): string[] {
  const stack = readString(error, 'stack');
  if (stack === undefined) return [];
  const out: string[] = [];
  const cwd = safeCwd();
  for (const line of stack.slice(0, MAX_STACK_CHARS).split('\n')) {
    if (out.length >= count) break;
    const match = FRAME.exec(line);
    if (match === null || !/^\s*at\s/.test(line)) continue;
    const location = normalizeLocation(match[2] ?? '', cwd);
    if (location === undefined) continue;
    const fn = (match[1] ?? '').replace(/\s*\[as [^\]]+\]/, '').replace(/^async /, '');
    out.push(`${fn}@${location}`);
  }
  return out;
}

function normalizeLocation(raw: string, cwd: string | undefined): string | undefined {
  let location = raw.trim();
  if (location.startsWith('node:') || location === 'native' || location === '<anonymous>') {
    return undefined;
  }
  location = location.replace(/^file:\/\//, '');
  location = location.replace(/:\d+(?::\d+)?$/, '');
  location = location.replace(/[?#].*$/, '');
  location = location.replace(/^index \d+$/, 'index N');
  const modules = location.lastIndexOf('node_modules/');
  if (modules !== -1) return location.slice(modules);
  if (cwd !== undefined && location.startsWith(cwd)) return location.slice(cwd.length + 1);
  return location;
}

function maskMessage(message: string): string {
  return message
    .slice(0, 500)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b(?:0x)?[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, '<n>');
}

function readString(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[key];
  return typeof found === 'string' ? found : undefined;
}

function readCause(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as { cause?: unknown }).cause;
}

function safeCwd(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}
