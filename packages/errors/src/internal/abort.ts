import { CoreErrors, isProdError, ProdError } from '@prod/core';
import type { AbortListener, SignalSource } from './stage.js';

/** The error a policy returns when the call is aborted: the reason as a ProdError, else ABORTED. */
export function abortError(reason: unknown): ProdError {
  if (isProdError(reason)) return reason;
  const name = (reason as { name?: unknown } | null | undefined)?.name;
  if (name === 'TimeoutError') return ProdError.from(reason);
  return CoreErrors.ABORTED({
    message: 'Aborted by the caller',
    cause: reason,
    captureStack: false,
  });
}

class Sleeper implements AbortListener {
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly source: SignalSource,
    private readonly resolve: (aborted: boolean) => void,
  ) {}

  handleEvent(): void {
    clearTimeout(this.timer);
    this.source.unsubscribe(this);
    this.resolve(true);
  }

  wake(): void {
    this.source.unsubscribe(this);
    this.resolve(false);
  }
}

function wake(sleeper: Sleeper): void {
  sleeper.wake();
}

/**
 * Waits `ms`, or less when `source` aborts first.
 *
 * @returns true when the source aborted the wait.
 */
export function sleep(ms: number, source: SignalSource | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (source === undefined) {
      setTimeout(resolve, ms, false);
      return;
    }
    if (source.aborted) {
      resolve(true);
      return;
    }
    const sleeper = new Sleeper(source, resolve);
    source.subscribe(sleeper);
    sleeper.timer = setTimeout(wake, ms, sleeper);
  });
}
