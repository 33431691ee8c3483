import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/** Job names: what an engine queue name and a metric label can hold. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A job's public id: `<job name>/<engine id>` (job names hold no `/`). */
export function publicId(name: string, engineId: string): string {
  return `${name}/${engineId}`;
}

/** The job name and engine id of a public id, or undefined when it is not one. */
export function parseId(
  id: unknown,
): { readonly name: string; readonly engineId: string } | undefined {
  if (typeof id !== 'string' || id.length > 512) return undefined;
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return undefined;
  const name = id.slice(0, slash);
  if (!JOB_NAME.test(name)) return undefined;
  return { name, engineId: id.slice(slash + 1) };
}

/**
 * The engine id of an idempotent job: a hash of the job name and the key, so any key (any
 * length, any characters) maps to an id the engine accepts, the same on every instance.
 */
export function idempotentId(name: string, key: string): string {
  return `i-${createHash('sha256').update(name).update('\u0000').update(key).digest('base64url').slice(0, 32)}`;
}

/** `host:pid`, recorded with each attempt. */
export const WORKER_ID = `${hostname()}:${process.pid}`;
