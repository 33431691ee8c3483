import type { IncomingMessage } from 'node:http';
import { parseByteSize } from '../byte-size.js';
import { type ErrorFactory, optionChecks, type Part, ROUTE_METHODS, type Route } from '../index.js';
import type { AdapterOptions } from './adapter-options.js';
import type { EncodedResponse } from './encode.js';
import { Exchange, type HeaderWriter } from './exchange.js';
import { type HookErrorReporter, sortHooks } from './hooks.js';
import { methodsByPath, type PathMethods } from './methods.js';
import { readJsonBody } from './read-body.js';
import type { RequestView } from './request-view.js';

/** How a framework adapter sets up its kit. */
export interface AdapterKitOptions<TTarget extends object> {
  /** The adapter's package name, in reports (`@prod/express`). */
  readonly adapter: string;
  /** The user's options, checked here. */
  readonly options: AdapterOptions;
  /** The adapter's `<PKG>_INVALID_OPTIONS` factory: bad options throw it at mount time. */
  readonly invalidOptions: ErrorFactory<string>;
  /** Builds the request view of the request behind `target`. */
  readonly view: (target: TTarget) => RequestView;
  /**
   * Writes an encoded response through the framework (status, headers, then the payload; a
   * stream piped untouched). Returns a promise only for a stream; must not reject.
   */
  readonly write: (target: TTarget, response: EncodedResponse) => void | Promise<void>;
  /** Changes the headers of a native route's response, for `onSend`. */
  readonly headers: HeaderWriter<TTarget>;
}

/** What an adapter mounts: the checked parts, sorted, and one exchange per request. */
export interface AdapterKit<TTarget extends object> {
  /** Every part route, in mount order. */
  readonly routes: readonly Route[];
  /** Each route path with its `Allow` value, for 405 answers to its other methods. */
  readonly paths: readonly PathMethods[];
  /** The body limit in bytes. */
  readonly bodyLimit: number;
  /** Whether any part has `onSend`: only then does a native response need decorating. */
  readonly decoratesNative: boolean;
  /** The exchange of the request behind `target`, begun on first call. */
  exchange(target: TTarget): Exchange<TTarget>;
  /** The exchange of `target` if one has begun. */
  existing(target: TTarget): Exchange<TTarget> | undefined;
  /** The kit's JSON body reader (limits, encodings, inspection), for a framework parser. */
  readBody(raw: IncomingMessage): Promise<unknown>;
}

const METHODS: ReadonlySet<string> = new Set(ROUTE_METHODS);

/**
 * The adapter kit: everything @prod/express, @prod/fastify and @prod/koa share, so that an
 * adapter is only the glue to its framework. It checks the options and parts once (bad ones
 * throw the adapter's `<PKG>_INVALID_OPTIONS` naming what is wrong), sorts the hooks, and
 * gives each request an {@link Exchange} that runs the documented hook order.
 *
 * An adapter registers `kit.routes` on its router (answering with `exchange.serve`),
 * `kit.paths` for 405 (`exchange.methodNotAllowed`), sends everything else on with
 * `exchange.pass`, and routes 404 and errors to `exchange.notFound` / `exchange.fail`.
 *
 * @example
 * // A toy adapter on plain node:http, matching part routes by exact path.
 * import { createServer, type ServerResponse } from 'node:http';
 * import { Readable } from 'node:stream';
 * import { createAdapterKit, RequestView } from '@prod/core/adapter';
 * declare const notesPart: Part;
 * const RawErrors = defineErrors({ RAW_INVALID_OPTIONS: { status: 500, title: 'Invalid options' } });
 * class RawView extends RequestView {
 *   get route(): string | undefined {
 *     return undefined;
 *   }
 *   get params(): Record<string, string> {
 *     return {};
 *   }
 *   get ip(): string | undefined {
 *     return undefined;
 *   }
 * }
 * const kit = createAdapterKit<ServerResponse>({
 *   adapter: 'raw-http',
 *   options: { parts: [notesPart] },
 *   invalidOptions: RawErrors.RAW_INVALID_OPTIONS,
 *   view: (res) => new RawView(res.req, res, res.req.url ?? '/'),
 *   write: (res, { status, headers, payload }) => {
 *     res.writeHead(status, headers as Record<string, string | string[]>);
 *     if (payload instanceof Readable) payload.pipe(res);
 *     else res.end(payload);
 *   },
 *   headers: {
 *     set: (res, name, value) => void res.setHeader(name, value as string | string[]),
 *     remove: (res, name) => res.removeHeader(name),
 *   },
 * });
 * createServer((req, res) => {
 *   const exchange = kit.exchange(res);
 *   const route = kit.routes.find((r) => r.method === req.method && r.path === exchange.view.path);
 *   void (route === undefined ? exchange.pass(() => exchange.notFound()) : exchange.serve(route));
 * }).listen(3000);
 */
export function createAdapterKit<TTarget extends object>(
  kitOptions: AdapterKitOptions<TTarget>,
): AdapterKit<TTarget> {
  const { adapter, invalidOptions } = kitOptions;
  const check = optionChecks(invalidOptions);
  const options = check.object<AdapterOptions>('options', kitOptions.options);
  const parts = options.parts;
  if (!Array.isArray(parts)) check.fail('parts', 'an array of parts', parts);
  const onHookError = check.fn<HookErrorReporter>('onHookError', options.onHookError);
  const bodyLimit = parseByteSize(options.bodyLimit ?? '1mb');
  if (bodyLimit === undefined) {
    check.fail(
      'bodyLimit',
      "a positive number of bytes or a size such as '1mb'",
      options.bodyLimit,
    );
  }
  const routes = checkedRoutes(parts, check.fail, invalidOptions);
  const report: HookErrorReporter = (error, part) => {
    try {
      if (onHookError === undefined)
        console.error(`[${adapter}] a hook of part "${part.name}" threw`, error);
      else onHookError(error, part);
    } catch {
      // A failing reporter must not take the request (or the process) down with it.
    }
  };
  const hooks = sortHooks(parts, report);
  const host = {
    hooks,
    bodyLimit: bodyLimit as number,
    write: kitOptions.write,
    headers: kitOptions.headers,
  };
  const view = kitOptions.view;
  // The exchange lives on the framework's request object and dies with it (a WeakMap entry
  // would outlive a young request until a full GC). One symbol per kit.
  const EXCHANGE = Symbol(`${adapter} exchange`);
  type Holder = TTarget & { [EXCHANGE]?: Exchange<TTarget> };

  return {
    routes,
    paths: methodsByPath(routes),
    bodyLimit: host.bodyLimit,
    decoratesNative: hooks.onSend.length > 0,
    exchange(target) {
      let exchange = (target as Holder)[EXCHANGE];
      if (exchange === undefined) {
        exchange = new Exchange(host, target, view(target));
        (target as Holder)[EXCHANGE] = exchange;
      }
      return exchange;
    },
    existing: (target) => (target as Holder)[EXCHANGE],
    readBody: (raw) => readJsonBody(raw, host.bodyLimit),
  };
}

function checkedRoutes(
  parts: readonly Part[],
  fail: (name: string, expected: string, received: unknown) => never,
  invalidOptions: ErrorFactory<string>,
): Route[] {
  const routes: Route[] = [];
  const seen = new Map<string, string>();
  parts.forEach((part, index) => {
    if (typeof part !== 'object' || part === null) fail(`parts[${index}]`, 'a part', part);
    if (typeof part.name !== 'string' || part.name === '') {
      fail(`parts[${index}].name`, 'a non-empty string', part.name);
    }
    for (const route of part.routes ?? []) {
      const where = `parts[${index}] (${part.name}) route`;
      if (!METHODS.has(route?.method)) {
        fail(`${where} method`, `one of ${ROUTE_METHODS.join(', ')}`, route?.method);
      }
      if (typeof route.path !== 'string' || !route.path.startsWith('/')) {
        fail(`${where} path`, 'a path starting with /', route.path);
      }
      if (typeof route.handler !== 'function')
        fail(`${where} handler`, 'a function', route.handler);
      const key = `${route.method} ${route.path}`;
      const first = seen.get(key);
      if (first !== undefined) {
        throw invalidOptions({
          message: `route ${key} is declared twice (parts "${first}" and "${part.name}")`,
          details: { option: 'parts', expected: 'each method and path once', received: key },
        });
      }
      seen.set(key, part.name);
      routes.push(route);
    }
  });
  return routes;
}
