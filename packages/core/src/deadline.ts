import { isThenable, type MaybePromise } from './maybe-promise.js';

/** How work run by {@link withDeadline} ended. */
export type DeadlineOutcome<TValue> =
  | { readonly status: 'settled'; readonly value: TValue; readonly durationMs: number }
  | { readonly status: 'threw'; readonly error: unknown; readonly durationMs: number }
  | { readonly status: 'timeout'; readonly durationMs: number };

/** Options of {@link withDeadline}. */
export interface DeadlineOptions {
  /** Milliseconds the work may take; `Infinity` for no deadline. */
  readonly timeoutMs: number;
  /** The reason `signal` aborts with at the deadline. Default a `TimeoutError` DOMException. */
  readonly reason?: () => unknown;
  /** Let the process exit while the deadline timer is pending. Default false. */
  readonly unref?: boolean;
}

/**
 * Runs `work` with an abort signal and a deadline, and says how it ended, without throwing:
 * its value, what it threw (synchronously or by rejecting), or that the deadline passed (the
 * signal is aborted then, and a later rejection is swallowed: nobody is listening by then).
 *
 * When to use: health checks, shutdown hooks, "wait at most N ms for this" in any package;
 * the one deadline race, so that each package does not write its own. For a policy with
 * retries and events use `timeout` from @prod/errors instead.
 *
 * @example
 * declare const pool: { query(sql: string, options: { signal: AbortSignal }): Promise<unknown> };
 * const outcome = await withDeadline((signal) => pool.query('SELECT 1', { signal }), { timeoutMs: 500 });
 * if (outcome.status === 'timeout') console.warn('database did not answer within 500 ms');
 */
export async function withDeadline<TValue>(
  work: (signal: AbortSignal) => MaybePromise<TValue>,
  options: DeadlineOptions,
): Promise<DeadlineOutcome<TValue>> {
  const { timeoutMs } = options;
  const controller = new AbortController();
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
  let attempt: PromiseLike<TValue>;
  try {
    const returned = work(controller.signal);
    if (!isThenable(returned)) return { status: 'settled', value: returned, durationMs: elapsed() };
    attempt = returned;
  } catch (error) {
    return { status: 'threw', error, durationMs: elapsed() };
  }
  const settled = Promise.resolve(attempt).then(
    (value): DeadlineOutcome<TValue> => ({ status: 'settled', value, durationMs: elapsed() }),
    (error: unknown): DeadlineOutcome<TValue> => ({
      status: 'threw',
      error,
      durationMs: elapsed(),
    }),
  );
  if (timeoutMs === Number.POSITIVE_INFINITY) return settled;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<DeadlineOutcome<TValue>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(options.reason?.() ?? timeoutReason(timeoutMs));
      resolve({ status: 'timeout', durationMs: elapsed() });
    }, timeoutMs);
    if (options.unref === true) timer.unref?.();
  });
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function timeoutReason(timeoutMs: number): DOMException {
  return new DOMException(`The deadline of ${timeoutMs} ms passed`, 'TimeoutError');
}
