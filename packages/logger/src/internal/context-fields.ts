import { currentContext, type RequestContext } from '@prod/core';
import { isSummarizing } from '../dedupe.js';

interface Serialized {
  readonly requestId: unknown;
  readonly traceId: unknown;
  readonly spanId: unknown;
  readonly fragment: string;
}

// One request writes many lines with the same ids: serialize them once per context and
// re-serialize only when tracing moved to another span. Kept in the context's `extensions`,
// so that it dies with the request: a WeakMap entry per context outlives a young request
// until a full GC (V8's scavenger does not clear ephemerons). Contexts without `extensions`
// (made by hand, not by an adapter) keep theirs in a WeakMap, never on the caller's object.
const FRAGMENT_KEY = Symbol('@prod/logger context fragment');
const withoutExtensions = new WeakMap<RequestContext, Serialized>();

function cachedFragment(context: RequestContext): Serialized | undefined {
  const extensions = context.extensions;
  return extensions === undefined
    ? withoutExtensions.get(context)
    : (extensions.get(FRAGMENT_KEY) as Serialized | undefined);
}

function cacheFragment(context: RequestContext, value: Serialized): void {
  const extensions = context.extensions;
  if (extensions === undefined) withoutExtensions.set(context, value);
  else extensions.set(FRAGMENT_KEY, value);
}

// Pino builds a line synchronously (time, then fields): this tells the field pass of the same
// line whether the ids were already written.
let written = false;

/**
 * Drops the caller's `requestId`/`traceId`/`spanId` when the context's were written, so no key
 * appears twice in a line (some JSON consumers reject duplicate keys). Pino skips undefined.
 */
export function withoutContextKeys(object: Record<string, unknown>): Record<string, unknown> {
  if (
    !written ||
    (object.requestId === undefined && object.traceId === undefined && object.spanId === undefined)
  ) {
    return object;
  }
  return { ...object, requestId: undefined, traceId: undefined, spanId: undefined };
}

// Request ids (validated by the adapters), trace and span ids need no JSON escaping.
const PLAIN = /^[\w.:-]*$/;

function field(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return PLAIN.test(text) ? `,"${name}":"${text}"` : `,"${name}":${JSON.stringify(text)}`;
}

/**
 * The current context's ids as a JSON fragment (`,"requestId":"...","traceId":"..."`), or ''
 * outside a request. Pino concatenates the time function's output into the line as is, so
 * appending this fragment there puts the ids on every line without allocating a merge object.
 */
export function contextFragment(): string {
  written = false;
  if (isSummarizing()) return '';
  const context = currentContext();
  if (context === undefined) return '';
  written = true;
  const { requestId, traceId, spanId } = context;
  const hit = cachedFragment(context);
  if (
    hit !== undefined &&
    hit.requestId === requestId &&
    hit.traceId === traceId &&
    hit.spanId === spanId
  ) {
    return hit.fragment;
  }
  const fragment =
    field('requestId', requestId) + field('traceId', traceId) + field('spanId', spanId);
  cacheFragment(context, { requestId, traceId, spanId, fragment });
  return fragment;
}

// Pino mutates what the mixin returns: a shared empty object must never reach it.
const NO_CONTEXT: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * The same ids as a pino `mixin`, for destinations that read pino's line metadata (where the
 * time fragment must stay a time).
 */
export function contextMixin(): Record<string, unknown> {
  if (isSummarizing()) return NO_CONTEXT;
  const context = currentContext();
  if (context === undefined) return NO_CONTEXT;
  return { requestId: context.requestId, traceId: context.traceId, spanId: context.spanId };
}

/** Merges without touching the shared empty object; the context's ids win, as on the fast path. */
export function mergeContext(merge: object, mixin: object): object {
  return mixin === NO_CONTEXT ? merge : { ...merge, ...mixin };
}
