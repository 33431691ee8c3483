import { AsyncLocalStorage } from 'node:async_hooks';

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

/**
 * Runs `fn` with `context` as the current request context (for everything it awaits too).
 *
 * @example
 * declare function handle(): void;
 * runWithContext({ requestId: 'r1' }, () => handle());
 */
export function runWithContext<TReturn>(context: RequestContext, fn: () => TReturn): TReturn {
  return storage.run(context, fn);
}

/** The current request context, or undefined outside of one. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Reads a package's own state from the current context. */
export function contextExtension<TValue>(key: symbol): TValue | undefined {
  return storage.getStore()?.extensions?.get(key) as TValue | undefined;
}
