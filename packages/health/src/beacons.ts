/**
 * A hold on shutdown: while any beacon is active, the drain waits (up to its deadline).
 * Release it when the work ends; `using` releases it at the end of a block.
 *
 * @example
 * declare const health: Health;
 * declare function exportEverything(options: { signal: AbortSignal }): Promise<void>;
 * async function nightlyExport(): Promise<void> {
 *   using _hold = health.beacon('nightly-export');
 *   await exportEverything({ signal: health.signal });
 * }
 */
export interface Beacon {
  readonly name: string;
  /** True once released. */
  readonly released: boolean;
  /** Ends the hold. Safe to call more than once. */
  release(): void;
  [Symbol.dispose](): void;
}

/**
 * The set of active beacons (long jobs, streams and in-flight HTTP requests) that a
 * graceful shutdown waits for.
 */
export class Beacons {
  private readonly active = new Set<Beacon>();
  private waiters: Array<() => void> = [];

  /** How many holds are active. */
  get size(): number {
    return this.active.size;
  }

  /** The names of the active holds (one entry per hold). */
  names(): string[] {
    return [...this.active].map((beacon) => beacon.name);
  }

  /** Takes a hold named `name`. */
  create(name: string): Beacon {
    const active = this.active;
    const beacon: Beacon = {
      name: String(name).slice(0, 128),
      released: false,
      release: () => {
        if (!active.delete(beacon)) return;
        (beacon as { released: boolean }).released = true;
        if (active.size === 0) this.wake();
      },
      [Symbol.dispose]: () => beacon.release(),
    };
    active.add(beacon);
    return beacon;
  }

  /** Resolves once no hold is active (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
