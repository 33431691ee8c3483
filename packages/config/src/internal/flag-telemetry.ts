import type {
  FlagEvaluationCounter,
  FlagReason,
  FlagUsageStore,
  StaleFlag,
} from '../flags/types.js';

/** Evaluations of one (flag, variant, reason), counted until the next flush. */
export interface Cell {
  count: number;
  readonly labels: { readonly flag: string; readonly variant: string; readonly reason: string };
}

/** Label of flags that are neither declared nor defined: keys from callers must not mint series. */
export const UNKNOWN_FLAG = '__unknown__';
const MAX_CELLS = 10_000;

/** An in-process {@link FlagUsageStore}: reads are remembered while the process lives. */
export function memoryUsageStore(now: () => number): FlagUsageStore {
  const since = now();
  const reads = new Map<string, number>();
  return {
    async recordReads(keys, at) {
      for (const key of keys) reads.set(key, Math.max(reads.get(key) ?? 0, at));
    },
    async lastReads(keys) {
      const out = new Map<string, number>();
      for (const key of keys) {
        const at = reads.get(key);
        if (at !== undefined) out.set(key, at);
      }
      return out;
    },
    async trackingSince() {
      return since;
    },
  };
}

/**
 * Counting and read tracking for flag evaluations, cheap on the hot path: an evaluation adds
 * one to a cell and marks its flag read; a timer (or `flush()`) hands the counts to the
 * counter and the read times to the usage store.
 */
export class FlagTelemetry {
  readonly #cells = new Map<string, Cell>();
  readonly #read = new Set<string>();
  readonly #counter: FlagEvaluationCounter | undefined;
  readonly #usage: FlagUsageStore;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #collectReads: (() => string[]) | undefined;

  constructor(options: {
    readonly counter: FlagEvaluationCounter | undefined;
    readonly usage: FlagUsageStore;
    readonly now: () => number;
    readonly flushIntervalMs: number;
    readonly onError: (error: unknown) => void;
    /** Keys read since the last call (the engine keeps a bit per flag). */
    readonly collectReads?: () => string[];
  }) {
    this.#collectReads = options.collectReads;
    this.#counter = options.counter;
    this.#usage = options.usage;
    this.#now = options.now;
    this.#onError = options.onError;
    if (options.flushIntervalMs > 0) {
      this.#timer = setInterval(() => {
        this.flush().catch(this.#onError);
      }, options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  get usage(): FlagUsageStore {
    return this.#usage;
  }

  /** The cell of (flag, variant, reason); beyond 10 000 cells, one overflow cell per flag. */
  cell(flag: string, variant: string | undefined, reason: FlagReason): Cell {
    const key = `${flag}\u0000${variant ?? ''}\u0000${reason}`;
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      const labels =
        this.#cells.size < MAX_CELLS
          ? { flag, variant: variant ?? '', reason }
          : { flag: UNKNOWN_FLAG, variant: '', reason };
      cell = { count: 0, labels };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  markRead(flag: string): void {
    this.#read.add(flag);
  }

  /** Hands counts to the counter (synchronously) and read times to the usage store. */
  async flush(): Promise<void> {
    if (this.#counter !== undefined) {
      for (const cell of this.#cells.values()) {
        if (cell.count === 0) continue;
        const count = cell.count;
        cell.count = 0;
        try {
          this.#counter.inc(cell.labels, count);
        } catch (error) {
          this.#onError(error);
        }
      }
    } else {
      for (const cell of this.#cells.values()) cell.count = 0;
    }
    const keys = [...this.#read, ...(this.#collectReads?.() ?? [])];
    this.#read.clear();
    if (keys.length === 0) return;
    await this.#usage.recordReads(keys, this.#now());
  }

  async stale(
    keys: readonly string[],
    days: number,
    declared: ReadonlySet<string>,
    defined: ReadonlySet<string>,
  ): Promise<StaleFlag[]> {
    await this.flush();
    const now = this.#now();
    const limit = now - days * 86_400_000;
    const [reads, since] = await Promise.all([
      this.#usage.lastReads(keys),
      this.#usage.trackingSince(),
    ]);
    const out: StaleFlag[] = [];
    for (const key of keys) {
      const at = reads.get(key);
      const stale = at === undefined ? since <= limit : at <= limit;
      if (stale) {
        out.push({
          key,
          lastReadAt: at === undefined ? undefined : new Date(at),
          declared: declared.has(key),
          defined: defined.has(key),
        });
      }
    }
    return out;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
