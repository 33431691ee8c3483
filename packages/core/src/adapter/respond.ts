import {
  CoreErrors,
  type HttpResponse,
  type ProdError,
  type Route,
  runWithContext,
} from '../index.js';
import { assertJsonBody, assertNoForbiddenKey } from './body.js';
import { type EncodedResponse, encodeResponse } from './encode.js';
import { toProdError } from './framework-error.js';
import { answerError, callRoute, type PartHooks, runOnRequest } from './hooks.js';
import type { RequestState } from './request-state.js';
import { hasBody } from './request-view.js';

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
  if (hooks.onRequest.length === 0) return undefined;
  try {
    const early = await runWithContext(state.context, () => runOnRequest(hooks, state.view));
    return early === undefined ? undefined : encodeResponse(early);
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
  return runWithContext(state.context, async () => {
    try {
      const withBody = hasBody(state.view.headers);
      assertJsonBody(state.view, withBody);
      if (withBody) assertNoForbiddenKey(await parseBody());
      return encodeResponse(await callRoute(route, state.view));
    } catch (error) {
      return encodeError(hooks, state, error);
    }
  });
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
