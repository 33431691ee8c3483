let cached = 0;

function forget(): void {
  cached = 0;
}

/**
 * `Date.now()`, read at most once a millisecond while the cache is busy: a hit compares
 * freshness against it instead of reading the clock (about 50 ns here, more than the rest of
 * a hit). A timer forgets the value after 1 ms, as lru-cache's `ttlResolution` does; within
 * one long synchronous stretch the value can be older, by at most that stretch.
 */
export function coarseNow(): number {
  if (cached === 0) {
    cached = Date.now();
    setTimeout(forget, 1).unref();
  }
  return cached;
}
