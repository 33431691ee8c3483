import { AsyncLocalStorage } from 'node:async_hooks';
import { isThenable } from './maybe-promise.js';

/** The logging surface the context carries (pino's level methods fit). */
export interface ContextLogger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** Who is acting, for audit and logs. */
export interface Actor {
  readonly id: string;
  readonly type?: string;
}

/**
 * What every package may read about the work in progress, without it being passed by hand.
 * Fields are mutable so that parts (tracing, auth) can fill them in as the request goes.
 */
export interface RequestContext {
  requestId: string;
  traceId?: string;
  spanId?: string;
  route?: string;
  logger?: ContextLogger;
  actor?: Actor;
  /** Room for packages to keep their own per-request state, keyed by a symbol they own. */
  readonly extensions?: Map<symbol, unknown>;
}

// One store per process even when both the ESM and CJS builds of this package are loaded.
const STORE_KEY = Symbol.for('@prod/core/request-context');
const globalStore = globalThis as { [STORE_KEY]?: AsyncLocalStorage<RequestContext> };
globalStore[STORE_KEY] ??= new AsyncLocalStorage<RequestContext>();
const storage: AsyncLocalStorage<RequestContext> = globalStore[STORE_KEY];

// Shared by every copy of this package, as the store is.
const SCOPES_KEY = Symbol.for('@prod/core/request-context-scopes');
const globalScopes = globalThis as { [SCOPES_KEY]?: { pinned: boolean; open: number } };
globalScopes[SCOPES_KEY] ??= { pinned: false, open: 0 };
/** `pinned`: runWithContext was used (its contexts live as long as their work); `open`: scopes running. */
const scopes: { pinned: boolean; open: number } = globalScopes[SCOPES_KEY];

/**
 * Node 20 and 21 carry AsyncLocalStorage by async hooks, on from its first use and dear for
 * every promise of the process; later versions may carry it by async context frames instead
 * (nothing to gain by switching it off there), so only the first two switch it off.
 */
const SWITCHES_OFF = Number(process.versions.node.split('.')[0]) < 22;

/**
 * Runs `fn` with `context` as the current request context (for everything it awaits too).
 *
 * @example
 * declare function handle(): void;
 * runWithContext({ requestId: 'r1' }, () => handle());
 */
export function runWithContext<TReturn>(context: RequestContext, fn: () => TReturn): TReturn {
  scopes.pinned = true;
  return storage.run(context, fn);
}

const closeScope = (): void => {
  scopes.open -= 1;
  if (scopes.open === 0 && !scopes.pinned) storage.disable();
};

/**
 * Runs `fn` with `context` as the current request context until it returns, or until the
 * promise it returns settles: everything it runs and awaits in between sees the context. For
 * units of work with a known end (a job).
 *
 * Gotcha: in a process where nothing calls {@link runWithContext} (a worker process with no
 * HTTP adapter), on Node 20 and 21 the context is switched off once no such scope is running,
 * since a live AsyncLocalStorage makes every promise of the process dearer; work that `fn`
 * leaves running after it ended (a timer it did not await) may then see no context.
 *
 * @example
 * declare function handle(): Promise<void>;
 * await runInContextScope({ requestId: 'job-1' }, () => handle());
 */
export function runInContextScope<TReturn>(context: RequestContext, fn: () => TReturn): TReturn {
  if (scopes.pinned || !SWITCHES_OFF) return storage.run(context, fn);
  scopes.open += 1;
  let result: TReturn;
  try {
    result = storage.run(context, fn);
  } catch (error) {
    closeScope();
    throw error;
  }
  if (isThenable(result)) result.then(closeScope, closeScope);
  else closeScope();
  return result;
}

/** The current request context, or undefined outside of one. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Reads a package's own state from the current context. */
export function contextExtension<TValue>(key: symbol): TValue | undefined {
  return storage.getStore()?.extensions?.get(key) as TValue | undefined;
}
