import {
  type Context,
  context,
  propagation,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { currentOtelContext } from './current-span.js';

/**
 * Headers to read trace context from: a plain object with lower-case names (Node's
 * `IncomingHttpHeaders`, the @prod/core `HttpRequest.headers`) or a fetch `Headers`.
 */
export type IncomingHeaders =
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | Headers;

/** Headers to write trace context into: a plain object or a fetch `Headers`. */
export type OutgoingHeaders =
  | Record<string, string | readonly string[] | number | undefined>
  | Headers;

// traceparent is 55 characters today; W3C asks to propagate at least 512 of tracestate and
// allows 8192 bytes of baggage. Anything longer is hostile or broken: ignore it.
const MAX_VALUE_LENGTH = 8192;
const MAX_VALUES = 32;

function isFetchHeaders(carrier: unknown): carrier is Headers {
  return typeof Headers === 'function' && carrier instanceof Headers;
}

function bounded(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value.length <= MAX_VALUE_LENGTH ? value : undefined;
  if (!Array.isArray(value) || value.length > MAX_VALUES) return undefined;
  const strings: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || item.length > MAX_VALUE_LENGTH) return undefined;
    strings.push(item);
  }
  return strings;
}

const getter: TextMapGetter<IncomingHeaders> = {
  keys(carrier) {
    return isFetchHeaders(carrier) ? [...carrier.keys()] : Object.keys(carrier);
  },
  get(carrier, key) {
    const name = key.toLowerCase();
    if (isFetchHeaders(carrier)) return bounded(carrier.get(name) ?? undefined);
    // Own properties only: `constructor` or a polluted prototype is not a header.
    return Object.hasOwn(carrier, name) ? bounded(carrier[name]) : undefined;
  },
};

const setter: TextMapSetter<OutgoingHeaders> = {
  set(carrier, key, value) {
    if (isFetchHeaders(carrier)) carrier.set(key, value);
    else
      Object.defineProperty(carrier, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
  },
};

/**
 * Reads the W3C `traceparent` / `tracestate` (and whatever else the registered propagator
 * knows, such as `baggage`) from incoming headers into an OpenTelemetry context.
 *
 * Uses the globally registered propagator: the OpenTelemetry SDK registers the W3C trace
 * context and baggage propagators; with no SDK nothing is extracted. Malformed, repeated,
 * oversized and inherited (`__proto__`) values are ignored.
 *
 * @param base the context to add to. Default: the active one.
 * @returns a context whose remote parent span is the caller's, or `base` when there is none.
 * @example
 * import { context } from '@opentelemetry/api';
 * declare const message: { headers: Record<string, string> };
 * declare function handle(message: unknown): void;
 * const parent = extractContext(message.headers);
 * context.with(parent, () => withSpan('jobs.handle', () => handle(message)));
 */
export function extractContext(
  headers: IncomingHeaders,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, headers, getter);
}

/**
 * Writes `traceparent` / `tracestate` of the current span into headers of an outgoing call,
 * so the next service joins the trace.
 *
 * The current span is the active OpenTelemetry one, or the request's span known to
 * @prod/core when the adapter did not enter the OpenTelemetry context. With no SDK (no
 * propagator, no recording span) the headers are left as they are.
 *
 * @returns the same headers object, for chaining; a new object when none is given.
 * @example
 * const url = 'https://api.example.com/notes';
 * const res = await fetch(url, { headers: injectTraceHeaders({ accept: 'application/json' }) });
 */
export function injectTraceHeaders(): Record<string, string>;
export function injectTraceHeaders<THeaders extends OutgoingHeaders>(
  headers: THeaders,
  from?: Context,
): THeaders;
export function injectTraceHeaders(
  headers: OutgoingHeaders = {},
  from: Context = currentOtelContext(),
): OutgoingHeaders {
  propagation.inject(from, headers, setter);
  return headers;
}
