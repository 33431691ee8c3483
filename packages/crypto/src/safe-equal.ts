import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { toBytes } from './internal/bytes.js';

// A per-process key: both sides are MACed before the comparison, so what is compared always
// has the same length and says nothing about where the inputs differ.
const COMPARE_KEY = randomBytes(32);

/**
 * Compares two secrets (tokens, signatures, hashes) in constant time, whatever their lengths:
 * unlike `crypto.timingSafeEqual`, different lengths give `false`, never a throw, and the time
 * taken does not depend on where the inputs differ or how long they are (beyond hashing them).
 * Anything that is not a string or bytes is never equal.
 *
 * @example
 * declare const presented: string;
 * declare const expected: string;
 * if (!safeEqual(presented, expected)) throw new Error('bad token');
 */
export function safeEqual(a: unknown, b: unknown): boolean {
  const left = toBytes(a);
  const right = toBytes(b);
  if (left === undefined || right === undefined) return false;
  const macA = createHmac('sha256', COMPARE_KEY).update(left).digest();
  const macB = createHmac('sha256', COMPARE_KEY).update(right).digest();
  // The MACs are equal only if the inputs are (short of a SHA-256 collision); the length check
  // is on values the comparison already covers, so it adds no timing signal.
  return timingSafeEqual(macA, macB) && left.length === right.length;
}
