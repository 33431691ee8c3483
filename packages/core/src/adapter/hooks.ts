import {
  type HttpRequest,
  type HttpResponse,
  isProdError,
  isResult,
  isThenable,
  type MaybePromise,
  type Part,
  type ResponseInfo,
  type SendInfo,
} from '../index.js';
import { assertSendable } from './encode.js';

/** Reports a hook that threw where nobody can catch it (onResponse, onError, onSend). */
export type HookErrorReporter = (error: unknown, part: Part) => void;

/** The parts of one adapter, sorted by hook once at mount time. */
export interface PartHooks {
  readonly onRequest: readonly Part[];
  readonly onError: readonly Part[];
  /** Parts with `onSend`, in reverse mount order. */
  readonly onSend: readonly Part[];
  /** Parts with `onResponse`, in reverse mount order. */
  readonly onResponse: readonly Part[];
  readonly report: HookErrorReporter;
}

/** Sorts the parts' hooks; `report` must not throw. */
export function sortHooks(parts: readonly Part[], report: HookErrorReporter): PartHooks {
  return {
    onRequest: parts.filter((part) => part.onRequest !== undefined),
    onError: parts.filter((part) => part.onError !== undefined),
    onSend: parts.filter((part) => part.onSend !== undefined).reverse(),
    onResponse: parts.filter((part) => part.onResponse !== undefined).reverse(),
    report,
  };
}

/**
 * Each part's `onRequest` in mount order; the first response returned answers early. No
 * promise while the hooks answer synchronously (each promise made inside a request costs an
 * AsyncLocalStorage hook): a hook is awaited only when it returns a thenable. Throws (or
 * rejects with) what a hook throws.
 */
export function runOnRequest(
  hooks: PartHooks,
  request: HttpRequest,
): MaybePromise<HttpResponse | undefined> {
  const parts = hooks.onRequest;
  for (let index = 0; index < parts.length; index += 1) {
    const early = (parts[index] as Part).onRequest?.(request);
    if (isThenable(early)) return continueOnRequest(parts, index, early, request);
    if (early !== undefined && early !== null) return early;
  }
  return undefined;
}

async function continueOnRequest(
  parts: readonly Part[],
  index: number,
  pending: PromiseLike<HttpResponse | undefined>,
  request: HttpRequest,
): Promise<HttpResponse | undefined> {
  const early = await pending;
  if (early !== undefined && early !== null) return early;
  for (let next = index + 1; next < parts.length; next += 1) {
    const later = await (parts[next] as Part).onRequest?.(request);
    if (later !== undefined && later !== null) return later;
  }
  return undefined;
}

/**
 * Each part's `onError` in mount order until one answers; undefined when none does. A
 * throwing `onError` is reported and skipped.
 */
export function runOnError(
  hooks: PartHooks,
  error: unknown,
  request: HttpRequest,
): HttpResponse | undefined {
  for (const part of hooks.onError) {
    try {
      const response = part.onError?.(error, request);
      if (response !== undefined && response !== null) return response;
    } catch (hookError) {
      hooks.report(hookError, part);
    }
  }
  return undefined;
}

/** What the `onSend` chain made of a response, and which part last changed it. */
export interface SentResponse {
  readonly response: HttpResponse;
  readonly changedBy: Part | undefined;
}

/**
 * Each part's `onSend` in reverse mount order. A hook that throws, returns a promise or
 * returns something that is not a response is reported and skipped: the response goes on as
 * it was before that hook.
 */
export function runOnSend(
  hooks: PartHooks,
  request: HttpRequest,
  response: HttpResponse,
  info: SendInfo,
): SentResponse {
  let current = response;
  let changedBy: Part | undefined;
  for (const part of hooks.onSend) {
    try {
      const next: unknown = part.onSend?.(request, current, info);
      if (next === undefined || next === null) continue;
      if (isThenable(next)) {
        next.then(undefined, () => {});
        throw new TypeError('onSend returned a promise: it must be synchronous');
      }
      if (typeof next !== 'object') {
        throw new TypeError('onSend returned something that is not a response');
      }
      assertSendable(next as HttpResponse);
      current = next as HttpResponse;
      changedBy = part;
    } catch (error) {
      hooks.report(error, part);
    }
  }
  return { response: current, changedBy };
}

/** Each part's `onResponse` in reverse mount order; throws (and rejections) are reported. */
export function runOnResponse(hooks: PartHooks, request: HttpRequest, info: ResponseInfo): void {
  for (const part of hooks.onResponse) {
    try {
      const result: unknown = part.onResponse?.(request, info);
      if (isThenable(result)) result.then(undefined, (error: unknown) => hooks.report(error, part));
    } catch (error) {
      hooks.report(error, part);
    }
  }
}

/**
 * What a handler returned, as a response: a ProdError or a failed Result is thrown (for
 * handlers written with Results), a successful Result unwrapped.
 */
export function routeResponse(returned: unknown): HttpResponse {
  if (isProdError(returned)) throw returned;
  if (isResult(returned)) {
    if (!returned.ok) throw returned.error;
    return returned.value as HttpResponse;
  }
  return returned as HttpResponse;
}
