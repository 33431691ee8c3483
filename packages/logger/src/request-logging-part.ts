import {
  currentContext,
  definePart,
  type HttpRequest,
  type Part,
  type RequestContext,
  RequestSlot,
  type ResponseInfo,
} from '@prod/core';
import type { Logger } from './create-logger.js';
import { SKIP_DEDUPE } from './dedupe.js';
import { check } from './internal/options.js';
import { isLogLevel, type LogLevel } from './levels.js';
import { createRedactor } from './redact.js';

/** How {@link requestLoggingPart} logs. Only `logger` is required. */
export interface RequestLoggingOptions {
  /** The service logger (from `createLogger`). */
  readonly logger: Logger;
  /**
   * The module of the request lines, so `LOG_LEVEL=info,http=warn` quiets them.
   * Default `'http'`.
   */
  readonly module?: string;
  /**
   * Request headers to copy onto the line (lower-case names), e.g. `['user-agent']`.
   * Secret-looking names (`authorization`, `cookie`, ...) are never copied. Default none.
   */
  readonly headers?: readonly string[];
  /** Requests to leave out (health checks). Default: none left out. */
  readonly ignore?: (request: HttpRequest) => boolean;
  /** The level of a line. Default: `error` for 5xx, `warn` for 4xx, else `info`. */
  readonly level?: (status: number, error: unknown) => LogLevel;
  /** The message of every line. Default `'request completed'`. */
  readonly message?: string;
  /** Set `ctx.logger` to `logger` on request when the context has none. Default true. */
  readonly contextLogger?: boolean;
}

const MAX_PATH = 256;

function defaultLevel(status: number): LogLevel {
  if (status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}

function logStart(
  http: Logger,
  request: HttpRequest,
  ignore: ((request: HttpRequest) => boolean) | undefined,
): void {
  try {
    if (ignore?.(request) === true) return;
    const line: Record<string, unknown> = { method: request.method };
    if (request.route !== undefined) line.route = request.route;
    else line.path = String(request.path).slice(0, MAX_PATH);
    http.debug(line, 'request started');
  } catch {
    // A broken ignore callback must not fail the request: onResponse will say so (or not).
  }
}

/**
 * A part that writes one line per request: `method`, `route` (the template; the `path` too
 * when no route matched), `status`, `durationMs`, `requestId`, `traceId` (and `err` when a 5xx
 * came from an error). Headers are left out unless listed in `headers`, and then never a
 * secret-looking one: the Authorization header is never logged.
 *
 * At debug level (`LOG_LEVEL=info,http=debug`, or `debug`) it also writes `request started`
 * (method, route or path) when a request arrives; at any other level that costs one level
 * check.
 *
 * Throws `LOGGER_INVALID_OPTIONS` for a bad option (a `logger` that is not from
 * `createLogger`, a `headers` entry that is not a string, ...).
 *
 * On request it also sets `ctx.logger` to the service logger so any code can log through the
 * context; no child logger is created per request. Request lines are never folded by the
 * repeated-line suppression.
 *
 * @example
 * import express from 'express';
 * import { mountExpress } from '@prod/express';
 * const app = express();
 * const logger = createLogger({ name: 'notes' });
 * mountExpress(app, { parts: [requestLoggingPart({ logger, ignore: (r) => r.path === '/healthz' })] });
 */
export function requestLoggingPart(options: RequestLoggingOptions): Part {
  if (options === undefined) check.fail('options', 'an object with logger', options);
  const given = check.object<RequestLoggingOptions>('options', options);
  const logger = given.logger;
  if (typeof (logger as Partial<Logger> | undefined)?.module !== 'function') {
    check.fail('logger', 'a logger from createLogger()', logger);
  }
  const ignore = check.fn<(request: HttpRequest) => boolean>('ignore', given.ignore);
  const level =
    check.fn<(status: number, error: unknown) => LogLevel>('level', given.level) ?? defaultLevel;
  const message = check.string('message', given.message, 'request completed');
  const setContextLogger = check.boolean('contextLogger', given.contextLogger, true);
  const listed: unknown = given.headers ?? [];
  if (!Array.isArray(listed)) check.fail('headers', 'an array of header names', listed);
  const redactor = createRedactor();
  const headers = (listed as unknown[])
    .map((name, at) => {
      if (typeof name !== 'string') check.fail(`headers[${at}]`, 'a header name', name);
      return (name as string).toLowerCase();
    })
    .filter((name) => !redactor.isSecretKey(name));
  const http = logger.module(check.string('module', given.module, 'http', { nonEmpty: true }));
  (http as unknown as { [SKIP_DEDUPE]: true })[SKIP_DEDUPE] = true;
  // Adapters may call onResponse outside the request's async context (a socket event):
  // remember the context on the request object.
  const contexts = new RequestSlot<RequestContext>('@prod/logger request context');

  return definePart({
    name: 'request-logging',
    onRequest(request) {
      const context = currentContext();
      if (context !== undefined) {
        contexts.set(request, context);
        if (setContextLogger && context.logger === undefined) context.logger = logger;
      }
      // pino's own level check: a disabled debug line builds nothing.
      if (http.isLevelEnabled('debug')) logStart(http, request, ignore);
      return undefined;
    },
    onResponse(request: HttpRequest, info: ResponseInfo) {
      try {
        if (ignore?.(request) === true) return;
        const line: Record<string, unknown> = {
          method: request.method,
          route: request.route,
          status: info.status,
          durationMs: Math.round(info.durationMs * 1000) / 1000,
        };
        // Inside the context the logger adds the ids itself; outside, add the remembered ones.
        if (currentContext() === undefined) {
          const context = contexts.get(request);
          if (context !== undefined) {
            line.requestId = context.requestId;
            line.traceId = context.traceId;
          }
        }
        if (request.route === undefined) line.path = String(request.path).slice(0, MAX_PATH);
        if (headers.length > 0) {
          const picked: Record<string, string> = {};
          for (const name of headers) {
            const value = request.headers[name];
            if (value !== undefined) picked[name] = value;
          }
          line.headers = picked;
        }
        if (info.error !== undefined && info.status >= 500) line.err = info.error;
        const chosen = level(info.status, info.error);
        http[isLogLevel(chosen) && chosen !== 'silent' ? chosen : 'info'](line, message);
      } catch {
        // onResponse must not throw: a broken ignore/level callback costs one line, not the process.
      }
    },
  });
}
