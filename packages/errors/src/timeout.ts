import { CoreErrors, MAX_TIMER_MS, type ProdError } from '@prod/core';
import { abortError } from './internal/abort.js';
import { Emitter } from './internal/emitter.js';
import { check } from './internal/options.js';
import {
  type AbortListener,
  type AnyResult,
  type AnyWork,
  Ctx,
  checkResult,
  next,
  type SignalSource,
  type Stage,
  thrownResult,
} from './internal/stage.js';
import { StagedPolicy } from './internal/staged-policy.js';
import type { Policy, Unsubscribe } from './types.js';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** Time allowed for the work: 0 to 2 147 483 647 ms (what a timer can wait). */
  readonly ms: number;
}

/** Emitted when the time is up. */
export interface TimeoutEvent {
  readonly timeoutMs: number;
  readonly attempt: number;
}

/** The events of a {@link TimeoutPolicy}. */
export interface TimeoutEvents {
  timeout: TimeoutEvent;
}

/** A timeout policy: a {@link Policy} with a `timeout` event. */
export interface TimeoutPolicy extends Policy {
  readonly ms: number;
  /** Listens to `timeout`, emitted each time the work runs out of time. */
  on<TName extends keyof TimeoutEvents>(
    name: TName,
    listener: (event: TimeoutEvents[TName]) => void,
  ): Unsubscribe;
}

/**
 * One timed run. It is the signal source of the work below it: the AbortController exists
 * only if the work reads `ctx.signal`, and it doubles as listener and timer argument, so a
 * call costs no closure.
 */
class TimedRun implements SignalSource, AbortListener {
  aborted = false;
  reason: unknown = undefined;
  readonly promise: Promise<AnyResult>;
  private resolve!: (result: AnyResult) => void;
  private settled = false;
  private controller: AbortController | undefined = undefined;
  private listeners: AbortListener[] | undefined = undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly owner: Timeout,
    private readonly parent: SignalSource | undefined,
    private readonly attempt: number,
  ) {
    this.promise = new Promise<AnyResult>((resolve) => {
      this.resolve = resolve;
    });
    this.timer = setTimeout(onTimer, owner.ms, this);
    parent?.subscribe(this);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  subscribe(listener: AbortListener): void {
    this.listeners ??= [];
    this.listeners.push(listener);
  }

  unsubscribe(listener: AbortListener): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at !== -1) this.listeners?.splice(at, 1);
  }

  /** The source above aborted. */
  handleEvent(): void {
    const reason = (this.parent as SignalSource).reason;
    this.abort(reason);
    this.finish({ ok: false, error: abortError(reason) });
  }

  expire(): void {
    if (this.settled) return;
    const error: ProdError = CoreErrors.TIMEOUT({
      message: `Timed out after ${this.owner.ms} ms`,
      details: { timeoutMs: this.owner.ms },
      captureStack: false,
    });
    this.abort(error);
    this.owner.emitTimeout(this.attempt);
    this.finish({ ok: false, error });
  }

  finish(result: AnyResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.parent?.unsubscribe(this);
    this.resolve(result);
  }

  private abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener.handleEvent();
  }
}

function onTimer(run: TimedRun): void {
  run.expire();
}

async function settleInto(
  run: TimedRun,
  chain: readonly Stage[],
  index: number,
  work: AnyWork,
  ctx: Ctx,
): Promise<void> {
  let result: AnyResult;
  try {
    result = checkResult(await next(chain, index, work, ctx));
  } catch (thrown) {
    result = thrownResult(thrown);
  }
  run.finish(result);
}

class Timeout extends StagedPolicy implements TimeoutPolicy {
  private readonly events = new Emitter<TimeoutEvents>();

  constructor(readonly ms: number) {
    super();
  }

  on<TName extends keyof TimeoutEvents>(
    name: TName,
    listener: (event: TimeoutEvents[TName]) => void,
  ): Unsubscribe {
    return this.events.on(name, listener);
  }

  emitTimeout(attempt: number): void {
    if (this.events.has('timeout')) this.events.emit('timeout', { timeoutMs: this.ms, attempt });
  }

  run(chain: readonly Stage[], index: number, work: AnyWork, ctx: Ctx): Promise<AnyResult> {
    if (ctx.source?.aborted) {
      return Promise.resolve({ ok: false, error: abortError(ctx.source.reason) });
    }
    const run = new TimedRun(this, ctx.source, ctx.attempt);
    void settleInto(run, chain, index, work, new Ctx(ctx.attempt, run));
    return run.promise;
  }
}

/**
 * Bounds the time work may take: at the deadline, the work's signal aborts and `execute`
 * resolves to `Err(TIMEOUT)` at once, without waiting for the work to notice.
 *
 * Details: the error is `CoreErrors.TIMEOUT` (504, retryable) with `details.timeoutMs`, and is
 * also the abort reason the work's signal carries. When the caller's signal aborts first,
 * the result is `ABORTED`. A timer exists only while work is running.
 *
 * Gotchas: work that ignores its signal keeps running in the background; its late result is
 * dropped.
 *
 * @returns a {@link TimeoutPolicy}. Throws `ERRORS_INVALID_OPTIONS` unless `ms` is 0 to
 *   2 147 483 647 (no `Infinity`: leave the timeout out instead).
 *
 * @example
 * const url = 'https://api.example.com/prices';
 * const r = await timeout(500).execute(({ signal }) => fromPromise(fetch(url, { signal })));
 */
export function timeout(ms: number | TimeoutOptions): TimeoutPolicy {
  const value = typeof ms === 'object' && ms !== null ? ms.ms : ms;
  // setTimeout silently turns anything above 2^31-1 ms into 1 ms: the check bounds it.
  if (value === undefined) check.fail('ms', `a number >= 0 and <= ${MAX_TIMER_MS}`, value);
  return new Timeout(check.duration('ms', value, 0));
}
