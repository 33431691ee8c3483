import { isThenable, type MaybePromise, optionChecks } from '@prod/core';
import { ConfigErrors } from '../errors.js';
import type { RuntimeSource } from '../types.js';

/** Options of {@link pollingSource}. */
export interface PollingSourceOptions {
  /** How often to call the function. Default 30 000 ms. */
  readonly intervalMs?: number;
  /** Label of its values. Default `'poll'`. */
  readonly name?: string;
}

const check = optionChecks(ConfigErrors.CONFIG_INVALID_OPTIONS);

/**
 * A runtime source that calls `fetch` now and then every `intervalMs` (a remote config
 * service, a database row, a secrets manager). What it returns is validated and applied; a
 * throw or rejection is reported and the configuration kept. A call still running when the
 * next is due is not doubled.
 *
 * @example
 * declare const config: { watch(source: ReturnType<typeof pollingSource>): Promise<unknown> };
 * await config.watch(pollingSource(async () => ({ log: { level: 'debug' } }), { intervalMs: 10_000 }));
 */
export function pollingSource(
  fetch: () => MaybePromise<unknown>,
  options: PollingSourceOptions = {},
): RuntimeSource {
  if (typeof fetch !== 'function') check.fail('fetch', 'a function', fetch);
  const intervalMs = check.duration('intervalMs', options.intervalMs, 30_000, { min: 1 });
  const name = check.string('name', options.name, 'poll', { nonEmpty: true });
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;
  return {
    name,
    async start(sink) {
      stopped = false;
      const first = fetch();
      sink.update(isThenable(first) ? await first : first);
      timer = setInterval(() => {
        if (running || stopped) return;
        running = true;
        Promise.resolve()
          .then(fetch)
          .then(
            (values) => {
              if (!stopped) sink.update(values);
            },
            (error: unknown) => sink.fail(error),
          )
          .finally(() => {
            running = false;
          });
      }, intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
