import {
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  isProdError,
  isResult,
  isThenable,
  type MaybePromise,
  type Part,
  type ResponseInfo,
  type Route,
} from '../index.js';

/** Reports a hook that threw where nobody can catch it (onResponse, onError). */
export type HookErrorReporter = (error: unknown, part: Part) => void;

/**
 * Turns an error no part answered into a response. Adapters pass `toHttpResponse` from
 * @prod/errors; core cannot import it, since arrows point toward core.
 */
export type ErrorRenderer = (error: unknown, request: HttpRequest) => HttpResponse;

/** How an adapter sets up its hooks. */
export interface PartHooksOptions {
  /** The adapter's package name, used in mount-time errors and hook reports. */
  readonly adapter: string;
  readonly parts: readonly Part[];
  /** Where a throwing hook is reported. Default: `console.error`. */
  readonly onHookError?: HookErrorReporter | undefined;
  /** The error response of last resort (`toHttpResponse` from @prod/errors). */
  readonly renderError: ErrorRenderer;
}

/** The parts of one adapter instance, sorted by hook once at mount time. */
export interface PartHooks {
  readonly parts: readonly Part[];
  readonly routes: readonly Route[];
  readonly onRequest: readonly Part[];
  readonly onError: readonly Part[];
  /** Parts with `onResponse`, in reverse mount order. */
  readonly onResponse: readonly Part[];
  readonly report: HookErrorReporter;
  readonly renderError: ErrorRenderer;
}

const METHODS: ReadonlySet<string> = new Set<HttpMethod>([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/**
 * Checks the parts once and sorts their hooks. Throws a TypeError at mount time for a part
 * without a name, a route with an unknown method or a path not starting with `/`, and for
 * the same method and path declared twice (each framework would report it differently).
 */
export function partHooks(options: PartHooksOptions): PartHooks {
  const { adapter, parts, onHookError, renderError } = options;
  if (!Array.isArray(parts)) throw new TypeError(`${adapter}: options.parts must be an array`);
  const routes: Route[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    if (typeof part?.name !== 'string' || part.name === '') {
      throw new TypeError(`${adapter}: every part needs a name`);
    }
    for (const route of part.routes ?? []) {
      if (!METHODS.has(route.method)) {
        throw new TypeError(
          `${adapter}: part "${part.name}" has a route with method ${route.method}`,
        );
      }
      if (typeof route.path !== 'string' || !route.path.startsWith('/')) {
        throw new TypeError(`${adapter}: part "${part.name}" has a route path not starting with /`);
      }
      if (typeof route.handler !== 'function') {
        throw new TypeError(`${adapter}: route ${route.method} ${route.path} has no handler`);
      }
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new TypeError(`${adapter}: route ${key} is declared twice`);
      seen.add(key);
      routes.push(route);
    }
  }
  const report: HookErrorReporter = (error, part) => {
    try {
      if (onHookError === undefined)
        console.error(`[${adapter}] a hook of part "${part.name}" threw`, error);
      else onHookError(error, part);
    } catch {
      // A failing reporter must not take the request (or the process) down with it.
    }
  };
  return {
    parts,
    routes,
    onRequest: parts.filter((part) => part.onRequest !== undefined),
    onError: parts.filter((part) => part.onError !== undefined),
    onResponse: parts.filter((part) => part.onResponse !== undefined).reverse(),
    report,
    renderError,
  };
}

/** Each part's `onRequest` in mount order; the first response returned answers early. */
export async function runOnRequest(
  hooks: PartHooks,
  request: HttpRequest,
): Promise<HttpResponse | undefined> {
  return runOnRequestHooks(hooks, request);
}

/**
 * {@link runOnRequest} without a promise while the hooks answer synchronously: each promise
 * made inside a request costs an AsyncLocalStorage hook, so a hook is awaited only when it
 * returns a thenable. Throws what a synchronous hook throws.
 */
export function runOnRequestHooks(
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
 * Each part's `onError` in mount order until one answers, else `renderError`. A throwing
 * `onError` is reported and skipped.
 */
export async function answerError(
  hooks: PartHooks,
  error: unknown,
  request: HttpRequest,
): Promise<HttpResponse> {
  for (const part of hooks.onError) {
    try {
      const response = await part.onError?.(error, request);
      if (response !== undefined && response !== null) return response;
    } catch (hookError) {
      hooks.report(hookError, part);
    }
  }
  return hooks.renderError(error, request);
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
 * Calls a neutral handler. A returned ProdError or failed Result is treated as thrown (for
 * handlers written with Results); anything that is not a response is a bug and thrown.
 */
export async function callRoute(route: Route, request: HttpRequest): Promise<HttpResponse> {
  return routeResponse(await route.handler(request));
}

/**
 * What a handler returned, as a response: a ProdError or failed Result is thrown, a
 * successful Result unwrapped (see {@link callRoute}).
 */
export function routeResponse(returned: unknown): HttpResponse {
  if (isProdError(returned)) throw returned;
  if (isResult(returned)) {
    if (!returned.ok) throw returned.error;
    return returned.value as HttpResponse;
  }
  return returned as HttpResponse;
}
