import type { ProdError } from '@prod/core';
import { PolicyErrors } from './errors.js';
import { abortError } from './internal/abort.js';
import { Emitter } from './internal/emitter.js';
import { check } from './internal/options.js';
import {
  type AbortListener,
  type AnyResult,
  type AnyWork,
  type Ctx,
  checkResult,
  next,
  type SignalSource,
  type Stage,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';
import type { Policy, Unsubscribe } from './types.js';

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Calls allowed to run at once, an integer >= 1. */
  readonly maxConcurrent: number;
  /**
   * Calls allowed to wait for a slot, an integer >= 0; more get `BULKHEAD_FULL`. Default 0
   * (no queue).
   */
  readonly maxQueue?: number;
}

/** Emitted for each call turned away. */
export interface BulkheadRejectedEvent {
  readonly active: number;
  readonly queued: number;
}

/** The events of a {@link Bulkhead}. */
export interface BulkheadEvents {
  rejected: BulkheadRejectedEvent;
}

/** A bulkhead: a {@link Policy} that caps concurrency, with a bounded queue. */
export interface Bulkhead extends Policy {
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /** Listens to `rejected`. */
  on<TName extends keyof BulkheadEvents>(
    name: TName,
    listener: (event: BulkheadEvents[TName]) => void,
  ): Unsubscribe;
}

/** A queued call; it is its own abort listener. */
class Waiter implements AbortListener {
  constructor(
    readonly owner: Limiter,
    readonly source: SignalSource | undefined,
    readonly resolve: (aborted: AnyResult | undefined) => void,
  ) {
    source?.subscribe(this);
  }

  handleEvent(): void {
    this.owner.cancel(this);
  }

  detach(): void {
    this.source?.unsubscribe(this);
  }
}

class Limiter extends StagedPolicy implements Bulkhead {
  private readonly events = new Emitter<BulkheadEvents>();
  private readonly waiters: Waiter[] = [];
  private running = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueue: number,
  ) {
    super();
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiters.length;
  }

  on<TName extends keyof BulkheadEvents>(
    name: TName,
    listener: (event: BulkheadEvents[TName]) => void,
  ): Unsubscribe {
    return this.events.on(name, listener);
  }

  async run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    if (this.running < this.maxConcurrent) {
      this.running += 1;
    } else if (this.waiters.length < this.maxQueue) {
      // The releasing call hands its slot over (running stays counted) or an abort answers.
      const aborted = await new Promise<AnyResult | undefined>((resolve) => {
        this.waiters.push(new Waiter(this, ctx.source, resolve));
      });
      if (aborted !== undefined) return aborted;
    } else {
      if (this.events.has('rejected')) {
        this.events.emit('rejected', { active: this.running, queued: this.waiters.length });
      }
      return { ok: false, error: this.full() };
    }
    try {
      return checkResult(await next(chain, index, work, ctx));
    } catch (thrown) {
      return thrownResult(thrown);
    } finally {
      this.release();
    }
  }

  cancel(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at === -1) return;
    this.waiters.splice(at, 1);
    waiter.detach();
    waiter.resolve({ ok: false, error: abortError(waiter.source?.reason) });
  }

  private full(): ProdError {
    return PolicyErrors.BULKHEAD_FULL({
      message: `Bulkhead full: ${this.running} running, ${this.waiters.length} queued`,
      details: { maxConcurrent: this.maxConcurrent, maxQueue: this.maxQueue },
      captureStack: false,
    });
  }

  private release(): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      this.running -= 1;
      return;
    }
    waiter.detach();
    waiter.resolve(undefined);
  }
}

/**
 * Caps how many calls run at once; up to `maxQueue` more wait in line (first in, first out),
 * and the rest get `BULKHEAD_FULL` (503, retryable) at once.
 *
 * When to use: to keep one slow dependency from taking every socket, connection or worker
 * of the process.
 *
 * Details: a queued call whose caller aborts leaves the queue at once with `ABORTED`.
 *
 * @returns a {@link Bulkhead}. Throws `ERRORS_INVALID_OPTIONS` for a bad option.
 *
 * @example
 * declare function renderPdf(doc: string): Promise<Result<Uint8Array, ProdError>>;
 * const pool = bulkhead({ maxConcurrent: 10, maxQueue: 100 });
 * const r = await pool.execute(() => renderPdf('invoice-42'));
 */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  if (options === undefined) check.fail('options', 'an object with maxConcurrent', options);
  const given = check.object<BulkheadOptions>('options', options);
  if (given.maxConcurrent === undefined) {
    check.fail('maxConcurrent', 'an integer >= 1', given.maxConcurrent);
  }
  const max = check.integer('maxConcurrent', given.maxConcurrent, 1, { min: 1 });
  const queue = check.integer('maxQueue', given.maxQueue, 0);
  return new Limiter(max, queue);
}
