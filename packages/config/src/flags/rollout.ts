import { murmur3 } from '../internal/murmur3.js';

/** Buckets per 100 %: rollouts go in steps of 0.01 %. */
export const ROLLOUT_BUCKETS = 10_000;

/**
 * The rollout bucket of `key` (a user id, a tenant) for a flag's `seed`: an integer in
 * `[0, 10000)`, from MurmurHash3 of `"<seed>:<key>"`. A key is in a rollout of `p` percent
 * when its bucket is below `p * 100`, so raising `p` only ever adds keys, and every process
 * (any instance, any restart, any language with MurmurHash3) puts a key in the same bucket.
 *
 * @example
 * const inAt10 = rolloutBucket('notes.search', 'user-42') < 10 * 100;
 */
export function rolloutBucket(seed: string, key: string): number {
  return murmur3(`${seed}:${key}`) % ROLLOUT_BUCKETS;
}

/** The bucket used to pick a variant of a split (a separate hash, so it does not follow the rollout). */
export function splitBucket(seed: string, key: string): number {
  return murmur3(`${seed}:split:${key}`) % ROLLOUT_BUCKETS;
}

/** Whether `key` is in a rollout of `percentage` (0-100) for `seed`. */
export function inRollout(seed: string, key: string, percentage: number): boolean {
  return rolloutBucket(seed, key) < Math.round(percentage * 100);
}
