import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** What makes a process "under pressure" (any one of them), sampled every `interval`. */
export interface PressureOptions {
  /** p99 event-loop delay over the last interval, in ms, above which the process is under pressure. */
  readonly maxEventLoopDelay?: number;
  /** Heap used / heap limit (0-1) above which the process is under pressure. */
  readonly maxHeapUsedRatio?: number;
  /** Your own signal (a queue depth, a downstream's health): true means under pressure. */
  readonly signal?: () => boolean;
  /** The share of every limit left while under pressure (0-1). Default 0.5. */
  readonly reduceTo?: number;
  /** How often the signals are read, in ms. Default 1000. */
  readonly interval?: number;
}

/** Samples the signals on an unref'd timer; `active` is what the last sample said. */
export class PressureMonitor {
  active = false;
  readonly reduceTo: number;
  readonly #options: PressureOptions;
  readonly #interval: number;
  #timer: NodeJS.Timeout | undefined;
  #histogram: IntervalHistogram | undefined;
  readonly #onChange: (active: boolean) => void;

  constructor(
    options: PressureOptions,
    reduceTo: number,
    interval: number,
    onChange: (active: boolean) => void,
  ) {
    this.#options = options;
    this.reduceTo = reduceTo;
    this.#interval = interval;
    this.#onChange = onChange;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    if (this.#options.maxEventLoopDelay !== undefined) {
      this.#histogram = monitorEventLoopDelay({ resolution: 10 });
      this.#histogram.enable();
    }
    this.#timer = setInterval(() => this.sample(), this.#interval);
    this.#timer.unref();
  }

  /** Reads the signals now (also called by the timer). */
  sample(): boolean {
    const { maxEventLoopDelay, maxHeapUsedRatio, signal } = this.#options;
    let active = false;
    if (maxEventLoopDelay !== undefined && this.#histogram !== undefined) {
      const p99 = this.#histogram.percentile(99) / 1e6;
      this.#histogram.reset();
      if (p99 > maxEventLoopDelay) active = true;
    }
    if (!active && maxHeapUsedRatio !== undefined) {
      const used = process.memoryUsage().heapUsed / getHeapStatistics().heap_size_limit;
      if (used > maxHeapUsedRatio) active = true;
    }
    if (!active && signal !== undefined) {
      try {
        active = signal() === true;
      } catch {
        // A throwing signal says nothing: the other signals decide.
      }
    }
    if (active !== this.active) {
      this.active = active;
      this.#onChange(active);
    }
    return active;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    this.#histogram = undefined;
  }
}
