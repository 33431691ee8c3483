import type { Now } from './clock.js';

/**
 * Two counters over a sliding time window, kept in a ring of buckets: O(1) per event,
 * no timers, fixed memory.
 */
export class SlidingWindow {
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  private readonly bucketMs: number;
  private bucket = Number.NEGATIVE_INFINITY;
  sumA = 0;
  sumB = 0;

  constructor(
    private readonly buckets: number,
    windowMs: number,
    private readonly now: Now,
  ) {
    this.a = new Float64Array(buckets);
    this.b = new Float64Array(buckets);
    this.bucketMs = windowMs / buckets;
  }

  add(a: number, b: number): void {
    const slot = this.rotate();
    if (a !== 0) {
      this.a[slot] = (this.a[slot] ?? 0) + a;
      this.sumA += a;
    }
    if (b !== 0) {
      this.b[slot] = (this.b[slot] ?? 0) + b;
      this.sumB += b;
    }
  }

  clear(): void {
    this.a.fill(0);
    this.b.fill(0);
    this.sumA = 0;
    this.sumB = 0;
  }

  /** Moves the window to now, dropping the buckets that fell out of it. @returns the current slot. */
  rotate(): number {
    const bucket = Math.floor(this.now() / this.bucketMs);
    if (bucket !== this.bucket) {
      const moved = bucket - this.bucket;
      if (moved >= this.buckets || moved < 0) {
        // The whole window is stale (or an injected clock went backwards): start afresh.
        this.clear();
      } else {
        for (let i = 1; i <= moved; i++) {
          const slot = this.slotOf(this.bucket + i);
          this.sumA -= this.a[slot] ?? 0;
          this.sumB -= this.b[slot] ?? 0;
          this.a[slot] = 0;
          this.b[slot] = 0;
        }
      }
      this.bucket = bucket;
    }
    return this.slotOf(bucket);
  }

  private slotOf(bucket: number): number {
    return ((bucket % this.buckets) + this.buckets) % this.buckets;
  }
}
