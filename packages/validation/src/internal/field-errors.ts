import type { FieldError } from '@prod/core';
import type * as z from 'zod';
import { escapePointer } from './sanitize-walk.js';

/** How much of a failure reaches a client. */
export interface ErrorCaps {
  /** Most field errors listed. */
  readonly maxErrors: number;
  /** Longest message, in characters. */
  readonly maxMessageLength: number;
}

export const DEFAULT_CAPS: ErrorCaps = Object.freeze({ maxErrors: 50, maxMessageLength: 200 });

function capped(message: string, max: number): string {
  // Messages are the schema's (and may quote input through a custom error): bounded, one line.
  const line = message.replace(/[\r\n\u2028\u2029]+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function pointer(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const segment of path) {
    out += `/${escapePointer(typeof segment === 'symbol' ? segment.toString() : String(segment))}`;
  }
  return out;
}

/**
 * Appends the field errors of zod `issues` to `out` (at most `caps.maxErrors` in `out`), each
 * `{ path, code, message }` with `path` a JSON Pointer under `prefix`. An `unrecognized_keys`
 * issue becomes one error per key. Returns how many errors there were in all, listed or not.
 */
export function appendFieldErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: string,
  out: FieldError[],
  caps: ErrorCaps,
): number {
  let total = 0;
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        total += 1;
        if (out.length < caps.maxErrors) {
          out.push({
            path: pointer(prefix, [...issue.path, key]),
            code: 'unrecognized_key',
            message: 'is not a known field',
          });
        }
      }
      continue;
    }
    total += 1;
    if (out.length < caps.maxErrors) {
      out.push({
        path: pointer(prefix, issue.path),
        code: issue.code,
        message: capped(issue.message, caps.maxMessageLength),
      });
    }
  }
  return total;
}
