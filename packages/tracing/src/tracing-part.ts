import {
  type Attributes,
  context,
  diag,
  isSpanContextValid,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  currentContext,
  type HttpRequest,
  isProdError,
  KNOWN_HTTP_METHODS,
  type Part,
  RequestSlot,
  type ResponseInfo,
} from '@prod/core';
import { check, tracerOption } from './internal/options.js';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  clip,
  ERROR_TYPE_OTHER,
} from './internal/semconv.js';
import {
  bindServerEntry,
  defaultTracer,
  propagatorRegistered,
  type SpanEntry,
  tracerProviderRegistered,
} from './internal/span-registry.js';
import { extractContext } from './propagation.js';

/** Options of {@link tracingPart}. */
export interface TracingPartOptions {
  /** The tracer to start server spans with. Default: `@prod/tracing` from the global provider. */
  readonly tracer?: Tracer;
  /** Requests to leave untraced, such as health probes. Default: none. */
  readonly ignore?: (request: HttpRequest) => boolean;
  /** Extra attributes for the server span, known when the request arrives (samplers see them). */
  readonly attributes?: (request: HttpRequest) => Attributes;
  /**
   * Debug lines: once, at the first request seen at debug level, `tracing: first request` (whether a tracer
   * provider and a propagator are registered: without them spans are no-ops); then, per
   * request, `tracing: server span started` (traceId, spanId, whether the caller's trace was
   * joined and whether the span is sampled). A pino logger or `createLogger()` of
   * @prod/logger; with `isLevelEnabled`, a disabled line costs one level check. Default none.
   */
  readonly logger?: TracingDebugLogger;
}

/** What the `logger` option of {@link tracingPart} needs (pino fits). */
export interface TracingDebugLogger {
  debug(obj: unknown, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

function debugEnabled(logger: TracingDebugLogger | undefined): logger is TracingDebugLogger {
  return (
    logger !== undefined &&
    (typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled('debug'))
  );
}

const MAX_PATH = 2048;
const MAX_USER_AGENT = 1024;
const HOST = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9.-]{1,253}))(?::(\d{1,5}))?$/;

/**
 * A @prod/core part that traces every request with an OpenTelemetry SERVER span.
 *
 * **Details**
 * - The parent comes from the incoming `traceparent` / `tracestate` headers (through the
 *   registered propagator), so the service joins its caller's trace.
 * - The span is named `METHOD /route` from the route template (`GET /notes/:id`), or the
 *   method alone before routing has happened; never from the raw path, which would make
 *   names unbounded. A route known only at the response renames the span then.
 * - Attributes follow the stable HTTP server conventions: `http.request.method` (`_OTHER`
 *   for unknown methods, with `http.request.method_original`), `url.path`, `url.scheme`,
 *   `http.route`, `http.response.status_code`, `server.address` / `server.port` from the
 *   `Host` header, `client.address`, `user_agent.original`.
 * - The status is ERROR only for 5xx responses, with `error.type` set to the status code and
 *   the error that produced the response, if any, as an exception event; a 4xx is the
 *   client's failure, not the server's, and leaves the status UNSET.
 * - The request context gets the span's `traceId` / `spanId` (so logs carry them) and the
 *   span itself, which `withSpan`, `currentSpan` and `injectTraceHeaders` use as the parent
 *   even though adapters run the request only in the @prod/core context.
 *
 * **Gotchas**: never answers early and never throws: a failure to trace is reported through
 * the OpenTelemetry `diag` logger and the request goes on. Bad options throw
 * `TRACING_INVALID_OPTIONS` here, at construction.
 *
 * @example
 * import express from 'express';
 * import { mountExpress } from '@prod/express';
 * declare const notesPart: Part;
 * const app = express();
 * mountExpress(app, { parts: [tracingPart({ ignore: (req) => req.path === '/healthz' }), notesPart] });
 */
export function tracingPart(options: TracingPartOptions = {}): Part {
  const given = check.object<TracingPartOptions>('options', options);
  const custom = tracerOption<Tracer>(given.tracer);
  const ignore = check.fn<(request: HttpRequest) => boolean>('ignore', given.ignore);
  const extra = check.fn<(request: HttpRequest) => Attributes>('attributes', given.attributes);
  const logger = given.logger;
  if (
    logger !== undefined &&
    typeof (logger as Partial<TracingDebugLogger>)?.debug !== 'function'
  ) {
    check.fail('logger', 'a logger with debug() (pino fits)', logger);
  }
  let first = true;
  const spans = new RequestSlot<SpanEntry>('@prod/tracing server span');
  return {
    name: 'tracing',
    onRequest(request) {
      try {
        if (ignore?.(request) === true) return undefined;
        const active = context.active();
        // No propagator: nothing to extract, and the headers need not be read.
        const parent = propagatorRegistered() ? extractContext(request.headers, active) : active;
        // Without an SDK the span only carries the caller's ids: skip building attributes.
        const spanOptions: SpanOptions = { kind: SpanKind.SERVER };
        if (custom !== undefined || tracerProviderRegistered()) {
          const attributes = requestAttributes(request);
          if (extra !== undefined) Object.assign(attributes, extra(request));
          spanOptions.attributes = attributes;
        }
        const span = (custom ?? defaultTracer()).startSpan(
          spanName(request.method, request.route),
          spanOptions,
          parent,
        );
        const entry: SpanEntry = { span, outer: trace.getSpan(active) };
        spans.set(request, entry);
        if (debugEnabled(logger)) {
          if (first) {
            first = false;
            logger.debug(
              {
                tracerProvider: custom !== undefined || tracerProviderRegistered(),
                propagator: propagatorRegistered(),
              },
              'tracing: first request',
            );
          }
          const ids = span.spanContext();
          logger.debug(
            {
              traceId: ids.traceId,
              spanId: ids.spanId,
              joinedCallerTrace: trace.getSpanContext(parent)?.isRemote === true,
              sampled: span.isRecording(),
            },
            'tracing: server span started',
          );
        }
        const ctx = currentContext();
        if (ctx !== undefined) {
          const ids = span.spanContext();
          if (isSpanContextValid(ids)) {
            ctx.traceId = ids.traceId;
            ctx.spanId = ids.spanId;
          }
          bindServerEntry(ctx, entry);
        }
      } catch (error) {
        diag.error('@prod/tracing: could not start the server span', error);
      }
      return undefined;
    },
    onResponse(request, info) {
      const entry = spans.take(request);
      if (entry === undefined) return;
      try {
        finishServerSpan(entry, request, info);
      } catch (error) {
        diag.error('@prod/tracing: could not end the server span', error);
      }
    },
  };
}

function finishServerSpan({ span }: SpanEntry, request: HttpRequest, info: ResponseInfo): void {
  // A span that records nothing (no SDK, sampled out) would drop the name and attributes.
  if (!span.isRecording()) {
    span.end();
    return;
  }
  const route = request.route;
  if (typeof route === 'string' && route !== '') {
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(spanName(request.method, route));
  }
  const status = info.status;
  const valid = Number.isInteger(status) && status >= 100 && status <= 599;
  if (valid) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (!valid || status >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, valid ? String(status) : ERROR_TYPE_OTHER);
    if (info.error !== undefined) {
      span.recordException(
        isProdError(info.error) || info.error instanceof Error ? info.error : String(info.error),
      );
    }
    // No description: the status code says it (HTTP semantic conventions).
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function spanName(method: string, route: string | undefined): string {
  const known = KNOWN_HTTP_METHODS.has(method) ? method : 'HTTP';
  return typeof route === 'string' && route !== '' ? `${known} ${route}` : known;
}

function requestAttributes(request: HttpRequest): Attributes {
  const method = request.method;
  const attributes: Attributes = {
    [ATTR_URL_PATH]: clip(request.path, MAX_PATH),
    [ATTR_URL_SCHEME]: schemeOf(request.headers['x-forwarded-proto']),
  };
  if (KNOWN_HTTP_METHODS.has(method)) attributes[ATTR_HTTP_REQUEST_METHOD] = method;
  else {
    attributes[ATTR_HTTP_REQUEST_METHOD] = '_OTHER';
    attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = clip(String(method), 64);
  }
  if (typeof request.route === 'string' && request.route !== '') {
    attributes[ATTR_HTTP_ROUTE] = request.route;
  }
  const host = HOST.exec(request.headers.host ?? '');
  if (host !== null) {
    attributes[ATTR_SERVER_ADDRESS] = host[1] ?? host[2] ?? '';
    const port = host[3] === undefined ? undefined : Number(host[3]);
    if (port !== undefined && port >= 1 && port <= 65535) attributes[ATTR_SERVER_PORT] = port;
  }
  if (typeof request.ip === 'string' && request.ip !== '') {
    attributes[ATTR_CLIENT_ADDRESS] = clip(request.ip, 64);
  }
  const userAgent = request.headers['user-agent'];
  if (typeof userAgent === 'string' && userAgent !== '') {
    attributes[ATTR_USER_AGENT_ORIGINAL] = clip(userAgent, MAX_USER_AGENT);
  }
  return attributes;
}

function schemeOf(forwardedProto: string | undefined): string {
  // The first hop is the client's; a proxy chain appends its own.
  const first = forwardedProto?.split(',', 1)[0]?.trim().toLowerCase();
  return first === 'https' ? 'https' : 'http';
}
