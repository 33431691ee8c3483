import { check } from './internal/validate.js';

/** How a {@link SeriesCap} bounds one metric. */
export interface SeriesCapOptions<TEntry> {
  /**
   * The most label sets the metric may hold, the overflow set included: at most
   * `maxSeries - 1` distinct label sets are admitted, then everything new shares one
   * overflow entry. At least 2.
   */
  readonly maxSeries: number;
  /** Builds the one entry that every label set past the cap shares. Called at most once. */
  readonly overflow: () => TEntry;
  /** Called for every lookup that lands on the overflow entry (for a counter of drops). */
  readonly onOverflow?: () => void;
}

/**
 * A hard bound on the label sets (series) of one metric.
 *
 * Keys are label values joined by the caller; each admitted key keeps the entry the caller
 * built for it (typically a pre-resolved prom-client child). Once `maxSeries - 1` keys are
 * held, every new key resolves to one shared overflow entry, so a scanner sending random
 * values cannot grow memory or the scrape without bound.
 *
 * The constructor throws `METRICS_INVALID_OPTIONS` for a `maxSeries` that is not an integer
 * >= 2 or an `overflow` that is not a function.
 *
 * @example
 * import { Histogram } from 'prom-client';
 * declare const route: string;
 * const histogram = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['route'] });
 * const cap = new SeriesCap({ maxSeries: 100, overflow: () => histogram.labels('_overflow') });
 * const child =
 *   cap.get(route) ?? (cap.full ? cap.overflow() : cap.add(route, histogram.labels(route)));
 */
export class SeriesCap<TEntry> {
  readonly maxSeries: number;
  readonly #entries = new Map<string, TEntry>();
  readonly #makeOverflow: () => TEntry;
  readonly #onOverflow: (() => void) | undefined;
  #overflow: TEntry | undefined;
  #overflowed = 0;

  constructor(options: SeriesCapOptions<TEntry>) {
    const given = check.object<SeriesCapOptions<TEntry>>('options', options);
    if (given.maxSeries === undefined) check.fail('maxSeries', 'an integer >= 2', undefined);
    this.maxSeries = check.integer('maxSeries', given.maxSeries, 2, { min: 2 });
    const overflow = check.fn<() => TEntry>('overflow', given.overflow);
    if (overflow === undefined) check.fail('overflow', 'a function', undefined);
    this.#makeOverflow = overflow as () => TEntry;
    this.#onOverflow = check.fn<() => void>('onOverflow', given.onOverflow);
  }

  /** The entry already admitted for `key`, or undefined (then call {@link SeriesCap.add}). */
  get(key: string): TEntry | undefined {
    return this.#entries.get(key);
  }

  /**
   * Admits `key` with `entry` if there is room and returns it; past the cap, returns the
   * overflow entry instead (and `entry` is dropped).
   */
  add(key: string, entry: TEntry): TEntry {
    const found = this.#entries.get(key);
    if (found !== undefined) return found;
    if (this.#entries.size < this.maxSeries - 1) {
      this.#entries.set(key, entry);
      return entry;
    }
    return this.overflow();
  }

  /** The shared overflow entry; counts one overflowed lookup. */
  overflow(): TEntry {
    this.#overflowed++;
    this.#onOverflow?.();
    this.#overflow ??= this.#makeOverflow();
    return this.#overflow;
  }

  /** Whether new keys now go to the overflow entry (check it before building an entry). */
  get full(): boolean {
    return this.#entries.size >= this.maxSeries - 1;
  }

  /** Label sets in use, the overflow set included once it exists. */
  get size(): number {
    return this.#entries.size + (this.#overflow === undefined ? 0 : 1);
  }

  /** How many lookups landed on the overflow entry since creation or the last reset. */
  get overflowed(): number {
    return this.#overflowed;
  }

  /** Forgets every admitted key (call it after resetting the metric itself). */
  reset(): void {
    this.#entries.clear();
    this.#overflow = undefined;
    this.#overflowed = 0;
  }
}
