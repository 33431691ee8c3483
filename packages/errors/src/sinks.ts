import { type ContextLogger, err, ok, ProdError, type Result } from '@prod/core';
import { PolicyErrors } from './errors.js';
import { check } from './internal/options.js';
import { timeout } from './timeout.js';

/** One sampled occurrence of an error group. */
export interface ErrorSample {
  /** When it happened (ISO 8601). */
  readonly at: string;
  readonly requestId?: string;
  readonly route?: string;
  readonly traceId?: string;
}

/** The count of one group in one time window. */
export interface WindowCount {
  /** Window start (ISO 8601). */
  readonly start: string;
  readonly count: number;
}

/** What a sink receives about one error group. */
export interface ErrorReport {
  readonly fingerprint: string;
  readonly code: string;
  readonly status: number;
  readonly name: string;
  /** The message of the first occurrence (internal: sinks are not clients). */
  readonly message: string;
  /** Occurrences since this sink last received this group. */
  readonly count: number;
  /** Occurrences since the group was first seen. */
  readonly total: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Counts per aggregation window, oldest first (the most recent windows only). */
  readonly windows: readonly WindowCount[];
  /** A few sampled contexts (request id, route, trace id). */
  readonly samples: readonly ErrorSample[];
  /** The stack of the first occurrence, truncated. */
  readonly stack?: string;
}

/** What a sink's `send` may answer: nothing or `Ok` for delivered; an `Err` or a throw for failed. */
export type SinkOutcome = void | Result<void, ProdError>;

/** Where an {@link ErrorAggregator} delivers its reports. */
export interface ErrorSink {
  /** Short name, used in `onSinkError`. */
  readonly name: string;
  /**
   * Delivers a batch of reports. Aborting `signal` means the aggregator gave up waiting.
   * An `Err` result, a throw or a rejection marks the batch as not delivered: its
   * occurrences are reported again at the next flush.
   */
  send(reports: readonly ErrorReport[], signal: AbortSignal): SinkOutcome | Promise<SinkOutcome>;
}

const LEVELS: readonly ('warn' | 'error')[] = ['warn', 'error'];

/** Options of {@link logSink}. */
export interface LogSinkOptions {
  /** A pino-like logger (or `currentContext().logger`). Default: JSON lines on stderr. */
  readonly logger?: Pick<ContextLogger, 'warn' | 'error'>;
  /** Level of the log line. Default `'error'`. */
  readonly level?: 'warn' | 'error';
}

const stderrLogger: Pick<ContextLogger, 'warn' | 'error'> = {
  warn: (obj, msg) => writeLine('warn', obj, msg),
  error: (obj, msg) => writeLine('error', obj, msg),
};

function writeLine(level: string, obj: unknown, msg: string | undefined): void {
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), msg, ...(obj as object) })}\n`);
}

/**
 * A sink that writes one log line per error group.
 *
 * @example
 * import { pino } from 'pino';
 * new ErrorAggregator({ sinks: [logSink({ logger: pino() })] });
 */
export function logSink(options: LogSinkOptions = {}): ErrorSink {
  const given = check.object<LogSinkOptions>('options', options);
  const level = check.oneOf('level', given.level, LEVELS, 'error');
  const logger = given.logger ?? stderrLogger;
  if (typeof (logger as Partial<typeof logger> | null)?.[level] !== 'function') {
    check.fail('logger', `a logger with ${level}() (pino fits)`, logger);
  }
  return {
    name: 'log',
    send(reports) {
      for (const report of reports) {
        logger[level](
          { errorGroup: report },
          `${report.code} x${report.count} (${report.total} total): ${report.message}`,
        );
      }
    },
  };
}

/** Options of {@link webhookSink}. */
export interface WebhookSinkOptions {
  /** Where reports are POSTed as `{ "reports": [...] }` JSON. */
  readonly url: string | URL;
  /** Time allowed for one delivery, 0 to 2 147 483 647 ms. Default 5 000 ms. */
  readonly timeoutMs?: number;
  /** Extra request headers (an authorization token, for example). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sink name. Default `'webhook'`. */
  readonly name?: string;
}

/**
 * A sink that POSTs each batch as JSON with the global `fetch`, bounded by a timeout.
 *
 * @returns an {@link ErrorSink} whose delivery fails with `SINK_FAILED` (non-2xx answer,
 *   unreachable host) or `TIMEOUT`. Throws `ERRORS_INVALID_OPTIONS` for a `url` that is not
 *   an http(s) URL and for other bad options.
 *
 * @example
 * const token = process.env.ERRORS_WEBHOOK_TOKEN ?? '';
 * webhookSink({ url: 'https://hooks.example.com/errors', headers: { authorization: `Bearer ${token}` } });
 */
export function webhookSink(options: WebhookSinkOptions): ErrorSink {
  if (options === undefined) check.fail('options', 'an object with url', options);
  const given = check.object<WebhookSinkOptions>('options', options);
  const url = httpUrl(given.url);
  const limit = timeout(check.duration('timeoutMs', given.timeoutMs, 5_000));
  const extra = check.object<Record<string, unknown>>('headers', given.headers);
  for (const [header, value] of Object.entries(extra)) {
    if (typeof value !== 'string') check.fail(`headers.${header}`, 'a string', value);
  }
  const headers = { ...(extra as Record<string, string>), 'content-type': 'application/json' };
  const name = check.string('name', given.name, 'webhook', { nonEmpty: true });
  return {
    name,
    async send(reports, signal) {
      const body = JSON.stringify({ reports });
      const result = await limit.execute(
        async ({ signal: attemptSignal }): Promise<Result<void, ProdError>> => {
          let response: Response;
          try {
            response = await fetch(url, { method: 'POST', headers, body, signal: attemptSignal });
          } catch (cause) {
            if (attemptSignal.aborted) return err(ProdError.from(attemptSignal.reason));
            return err(PolicyErrors.SINK_FAILED({ message: 'Webhook unreachable', cause }));
          }
          // Free the socket: the answer's body is of no use.
          await response.body?.cancel().catch(() => undefined);
          if (response.ok) return ok();
          return err(
            PolicyErrors.SINK_FAILED({
              message: `Webhook answered ${response.status}`,
              details: { status: response.status },
            }),
          );
        },
        { signal },
      );
      return result.ok ? ok() : err(ProdError.from(result.error));
    },
  };
}

function httpUrl(value: unknown): URL {
  const expected = 'an http: or https: URL';
  if (typeof value !== 'string' && !(value instanceof URL)) check.fail('url', expected, value);
  let url: URL;
  try {
    url = new URL(value as string | URL);
  } catch {
    return check.fail('url', expected, value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') check.fail('url', expected, value);
  return url;
}

/**
 * A sink that hands each batch to a function (push to a queue, a test, a custom service).
 *
 * @example
 * declare const queue: { add(name: string, data: unknown): Promise<unknown> };
 * callbackSink(async (reports) => {
 *   await queue.add('error-reports', reports);
 * });
 */
export function callbackSink(
  callback: (reports: readonly ErrorReport[]) => void | Promise<void>,
  name = 'callback',
): ErrorSink {
  if (typeof callback !== 'function') check.fail('callback', 'a function', callback);
  return {
    name: check.string('name', name, 'callback', { nonEmpty: true }),
    async send(reports) {
      await callback(reports);
    },
  };
}
