/**
 * An abort signal made only when someone asks for it: creating an AbortController costs more
 * than a no-op job (about a fifth of the queue's own work per job, and garbage), and most
 * handlers that finish quickly never read their signal.
 */
export class LazySignal {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** How a call raced against its deadline ended. */
export type Settled<TValue = unknown> =
  | { readonly status: 'settled'; readonly value: TValue }
  | { readonly status: 'threw'; readonly error: unknown }
  | { readonly status: 'timeout'; readonly pending: PromiseLike<TValue> };

/**
 * Runs `work` with a deadline: the same race as `withDeadline` of @prod/core, with the signal
 * made lazily and no timer at all for work that answers synchronously. At the deadline,
 * `onTimeout` runs (the runner aborts the handler's signal there) and the race ends with
 * `timeout`. The BullMQ driver bounds its Redis calls with it too, with nothing to abort (a
 * call past its deadline only goes unawaited).
 */
export function raceDeadline<TValue>(
  work: () => TValue | PromiseLike<TValue>,
  timeoutMs: number,
  onTimeout?: () => void,
): Settled<TValue> | Promise<Settled<TValue>> {
  let returned: TValue | PromiseLike<TValue>;
  try {
    returned = work();
  } catch (error) {
    return { status: 'threw', error };
  }
  const thenable = returned as PromiseLike<TValue> | null | undefined;
  if (typeof thenable?.then !== 'function') return { status: 'settled', value: returned as TValue };
  const pending = thenable as PromiseLike<TValue>;
  return new Promise<Settled<TValue>>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      resolve({ status: 'timeout', pending });
    }, timeoutMs);
    timer.unref?.();
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve({ status: 'settled', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ status: 'threw', error });
      },
    );
  });
}
