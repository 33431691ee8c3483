import {
  CoreErrors,
  currentContext,
  type HttpResponse,
  isThenable,
  type MaybePromise,
  type ProdError,
  type Route,
  runWithContext,
} from '../index.js';
import { assertJsonBody, assertNoForbiddenKey } from './body.js';
import { type EncodedResponse, encodeResponse } from './encode.js';
import { toProdError } from './framework-error.js';
import { answerError, type PartHooks, routeResponse, runOnRequestHooks } from './hooks.js';
import type { RequestState } from './request-state.js';
import { hasBody, rawRequestOf } from './request-view.js';

/**
 * The error response for `error`: framework errors mapped to CoreErrors first, then each
 * part's `onError`, then the adapter's `renderError`. Records the error for `onResponse`. Never throws.
 */
export async function encodeError(
  hooks: PartHooks,
  state: RequestState,
  error: unknown,
  extraHeaders?: Readonly<Record<string, string>>,
): Promise<EncodedResponse> {
  const mapped = toProdError(error);
  state.failure = { error: mapped };
  return runWithContext(state.context, async () => {
    let response: HttpResponse;
    try {
      response = await answerError(hooks, mapped, state.view);
      if (extraHeaders !== undefined) {
        response = { ...response, headers: { ...response.headers, ...extraHeaders } };
      }
      return encodeResponse(response);
    } catch {
      // A part's onError answered something unsendable: fall back to the plain problem.
      return encodeResponse(hooks.renderError(mapped, state.view));
    }
  });
}

/** Runs the `onRequest` hooks: the early response to send, or undefined to go on. */
export async function earlyResponse(
  hooks: PartHooks,
  state: RequestState,
): Promise<EncodedResponse | undefined> {
  return answerOnRequest(hooks, state);
}

/**
 * {@link earlyResponse} without a promise when every `onRequest` hook answers synchronously
 * (each promise made inside a request costs an AsyncLocalStorage hook). Enters the request's
 * context unless it is current already. Never throws.
 */
export function answerOnRequest(
  hooks: PartHooks,
  state: RequestState,
): MaybePromise<EncodedResponse | undefined> {
  if (hooks.onRequest.length === 0) return undefined;
  if (currentContext() !== state.context) {
    return runWithContext(state.context, () => answerOnRequest(hooks, state));
  }
  let early: MaybePromise<HttpResponse | undefined>;
  try {
    early = runOnRequestHooks(hooks, state.view);
    if (!isThenable(early)) return early === undefined ? undefined : encodeResponse(early);
  } catch (error) {
    return encodeError(hooks, state, error);
  }
  return early.then(
    (response) => (response === undefined ? undefined : encodeEarly(hooks, state, response)),
    (error: unknown) => encodeError(hooks, state, error),
  );
}

function encodeEarly(
  hooks: PartHooks,
  state: RequestState,
  response: HttpResponse,
): MaybePromise<EncodedResponse> {
  try {
    return encodeResponse(response);
  } catch (error) {
    return encodeError(hooks, state, error);
  }
}

/**
 * Serves a neutral route: checks the body is JSON, lets `parseBody` read it (the
 * framework's parser), rejects prototype keys, calls the handler and encodes its answer, or
 * the error response. Never throws.
 */
export async function serveRoute(
  hooks: PartHooks,
  state: RequestState,
  route: Route,
  parseBody: () => Promise<unknown>,
): Promise<EncodedResponse> {
  return answerRoute(hooks, state, route, parseBody);
}

/**
 * {@link serveRoute} without a promise when the request has no body and the handler answers
 * synchronously; `parseBody` is called only for a request with a body. Enters the request's
 * context unless it is current already. Never throws.
 */
export function answerRoute(
  hooks: PartHooks,
  state: RequestState,
  route: Route,
  parseBody: () => unknown,
): MaybePromise<EncodedResponse> {
  if (currentContext() !== state.context) {
    return runWithContext(state.context, () => answerRoute(hooks, state, route, parseBody));
  }
  try {
    const withBody = hasBody(rawRequestOf(state.view).headers);
    assertJsonBody(state.view, withBody);
    if (withBody) return answerWithBody(hooks, state, route, parseBody);
    const returned: unknown = route.handler(state.view);
    if (isThenable(returned)) return answerLater(hooks, state, returned);
    return encodeResponse(routeResponse(returned));
  } catch (error) {
    return encodeError(hooks, state, error);
  }
}

async function answerWithBody(
  hooks: PartHooks,
  state: RequestState,
  route: Route,
  parseBody: () => unknown,
): Promise<EncodedResponse> {
  try {
    assertNoForbiddenKey(await parseBody());
    return encodeResponse(routeResponse(await route.handler(state.view)));
  } catch (error) {
    return encodeError(hooks, state, error);
  }
}

async function answerLater(
  hooks: PartHooks,
  state: RequestState,
  returned: PromiseLike<unknown>,
): Promise<EncodedResponse> {
  try {
    return encodeResponse(routeResponse(await returned));
  } catch (error) {
    return encodeError(hooks, state, error);
  }
}

/** The response for a path that exists with other methods: 405 with `Allow`. */
export function encodeMethodNotAllowed(
  hooks: PartHooks,
  state: RequestState,
  allow: string,
): Promise<EncodedResponse> {
  const error: ProdError = CoreErrors.METHOD_NOT_ALLOWED({
    message: `This path answers ${allow}`,
    details: { allow: allow.split(', ') },
  });
  return encodeError(hooks, state, error, { allow });
}

/** The response for a request no route matched: 404. */
export function encodeNotFound(hooks: PartHooks, state: RequestState): Promise<EncodedResponse> {
  return encodeError(hooks, state, CoreErrors.NOT_FOUND({ message: 'No route matches this path' }));
}
