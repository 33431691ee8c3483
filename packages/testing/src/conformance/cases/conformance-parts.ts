import { Readable } from 'node:stream';
import {
  bodyProfileOf,
  CoreErrors,
  currentContext,
  definePart,
  type HttpRequest,
  type HttpResponse,
  isProdError,
  json,
  type Part,
  ProdError,
  type ResponseInfo,
} from '@prod/core';

/** What the recording parts saw of one request, keyed by its request id. */
export interface RecordedRequest {
  /** Hook and handler calls in order: `first:onRequest`, `handler`, `first:onResponse`... */
  readonly events: string[];
  /** The request ids the request context held at each call (all equal when it propagates). */
  readonly contextIds: (string | undefined)[];
  /** Every request object passed to a hook or handler (one when the view is shared). */
  readonly views: Set<HttpRequest>;
  /** What the last `onResponse` (the first part's) was told. */
  info?: ResponseInfo;
  /** The route template and path the first part's `onResponse` read. */
  route?: string | undefined;
  contextRoute?: string | undefined;
}

/** A promise with its resolver, for routes that wait on the test. */
export interface Gate {
  readonly entered: Promise<void>;
  readonly release: () => void;
}

/** The test parts and what they recorded. */
export interface ConformanceParts {
  readonly parts: Part[];
  /** Resolves once the first part's `onResponse` has run for `requestId`. */
  finished(requestId: string): Promise<RecordedRequest>;
  /** Resolves once the `/hang` handler is waiting, for `requestId`. */
  hanging(requestId: string): Promise<void>;
  /** Resolves with whether the `/hang` handler saw its signal abort, for `requestId`. */
  hangSettled(requestId: string): Promise<boolean>;
  /** The gate the `/slow` route waits on. */
  readonly slow: Gate;
}

export const RECOVERABLE_CODE = 'CONFORMANCE_RECOVERABLE';
export const SHORT_CIRCUIT_HEADER = 'x-conformance-short-circuit';
export const FAULTY_PATH = '/faulty';

interface Deferred<TValue> {
  readonly promise: Promise<TValue>;
  readonly resolve: (value: TValue) => void;
}

function deferred<TValue>(): Deferred<TValue> {
  let resolve: (value: TValue) => void = () => {};
  const promise = new Promise<TValue>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * Builds fresh test parts: three recording parts around a short-circuit part and a part
 * whose `onResponse` throws, then the routes part.
 *
 * Mount order: first, short, second, faulty, third, routes.
 */
export function createConformanceParts(): ConformanceParts {
  const records = new Map<string, RecordedRequest>();
  const done = new Map<string, Deferred<RecordedRequest>>();
  const hangs = new Map<string, Deferred<void>>();
  const hangEnds = new Map<string, Deferred<boolean>>();
  const keyed = <TValue>(map: Map<string, Deferred<TValue>>, id: string): Deferred<TValue> => {
    let entry = map.get(id);
    if (entry === undefined) {
      entry = deferred<TValue>();
      map.set(id, entry);
    }
    return entry;
  };

  const record = (request: HttpRequest, event: string): RecordedRequest => {
    // Key on the id the adapter echoes; the context id is checked separately.
    const id = currentContext()?.requestId ?? 'missing-context';
    let entry = records.get(id);
    if (entry === undefined) {
      entry = { events: [], contextIds: [], views: new Set() };
      records.set(id, entry);
    }
    entry.events.push(event);
    entry.contextIds.push(currentContext()?.requestId);
    entry.views.add(request);
    return entry;
  };

  const recorder = (name: string, isFirst: boolean): Part =>
    definePart({
      name,
      onRequest(request) {
        record(request, `${name}:onRequest`);
        return undefined;
      },
      onError(error, request) {
        record(request, `${name}:onError`);
        if (name === 'second' && isProdError(error, RECOVERABLE_CODE)) {
          return json(418, { recovered: true });
        }
        return undefined;
      },
      onResponse(request, info) {
        const entry = record(request, `${name}:onResponse`);
        if (isFirst) {
          entry.info = info;
          entry.route = request.route;
          entry.contextRoute = currentContext()?.route;
          keyed(done, currentContext()?.requestId ?? 'missing-context').resolve(entry);
        }
      },
    });

  const shortCircuit = definePart({
    name: 'short',
    onRequest(request) {
      record(request, 'short:onRequest');
      const mode = request.headers[SHORT_CIRCUIT_HEADER];
      if (mode === undefined) return undefined;
      if (mode === 'throw') throw CoreErrors.UNAUTHORIZED({ message: 'No token' });
      return {
        status: 429,
        headers: { 'retry-after': '7', 'x-short-circuit': 'yes' },
        body: { limited: true },
      };
    },
    onResponse(request) {
      record(request, 'short:onResponse');
    },
  });

  const faulty = definePart({
    name: 'faulty',
    onResponse(request) {
      record(request, 'faulty:onResponse');
      if (request.path === FAULTY_PATH) throw new Error('conformance: onResponse failed');
    },
  });

  const slowEntered = deferred<void>();
  const slowRelease = deferred<void>();

  const handled = (request: HttpRequest): void => {
    record(request, 'handler');
  };

  const routes = definePart({
    name: 'conformance-routes',
    routes: [
      {
        method: 'GET',
        path: '/items/:id',
        handler: (request) => {
          handled(request);
          return json(200, {
            id: request.params.id,
            route: request.route,
            path: request.path,
            method: request.method,
            query: { ...request.query },
            custom: request.headers['x-custom'],
            requestId: currentContext()?.requestId,
          });
        },
      },
      {
        method: 'PUT',
        path: '/items/:id',
        handler: (request) => {
          handled(request);
          return json(200, { id: request.params.id, received: request.body });
        },
      },
      {
        method: 'POST',
        path: '/items',
        handler: (request) => {
          handled(request);
          return json(201, { received: request.body ?? null });
        },
      },
      {
        method: 'GET',
        path: '/context',
        handler: async (request) => {
          handled(request);
          await new Promise((resolve) => setTimeout(resolve, 1));
          const context = currentContext();
          return json(200, {
            requestId: context?.requestId,
            route: context?.route,
            signal: request.signal instanceof AbortSignal,
          });
        },
      },
      { method: 'GET', path: '/text', handler: () => ({ status: 200, body: 'plain text' }) },
      {
        method: 'GET',
        path: '/bytes',
        handler: () => ({ status: 200, body: new Uint8Array([0, 1, 2, 255]) }),
      },
      { method: 'GET', path: '/empty', handler: () => ({ status: 204 }) },
      {
        method: 'GET',
        path: '/headers',
        handler: () => ({
          status: 200,
          headers: {
            'Content-Type': 'application/vnd.conformance+json',
            'x-part-header': 'from-part',
            'set-cookie': ['a=1; Path=/', 'b=2; Path=/'],
          },
          body: { ok: true },
        }),
      },
      {
        method: 'GET',
        path: '/stream',
        handler: () => ({
          status: 200,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: Readable.from(['first line\n', 'second line\n'], { objectMode: false }),
        }),
      },
      {
        method: 'GET',
        path: '/stream/generator',
        handler: () => ({
          status: 200,
          body: (async function* chunks() {
            yield Buffer.from([1, 2]);
            await new Promise((resolve) => setTimeout(resolve, 1));
            yield Buffer.from([3]);
          })(),
        }),
      },
      {
        method: 'GET',
        path: '/stream/broken',
        handler: () => ({
          status: 200,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: (async function* broken() {
            yield 'partial ';
            await new Promise((resolve) => setTimeout(resolve, 1));
            throw new Error('stream source failed');
          })(),
        }),
      },
      {
        method: 'GET',
        path: '/boom/prod',
        handler: (request) => {
          handled(request);
          throw CoreErrors.CONFLICT({ message: 'Item 7 already exists', details: { id: 7 } });
        },
      },
      {
        method: 'GET',
        path: '/boom/plain',
        handler: (request) => {
          handled(request);
          throw new Error('db password is hunter2');
        },
      },
      {
        method: 'GET',
        path: '/boom/returned',
        handler: (request) => {
          handled(request);
          return CoreErrors.FORBIDDEN({ message: 'Not yours' }) as unknown as HttpResponse;
        },
      },
      {
        method: 'GET',
        path: '/boom/recoverable',
        handler: (request) => {
          handled(request);
          throw new ProdError({ code: RECOVERABLE_CODE, status: 500 });
        },
      },
      {
        method: 'GET',
        path: '/boom/invalid',
        handler: () => ({ status: 42 }) as HttpResponse,
      },
      {
        method: 'GET',
        path: '/boom/header',
        handler: () => ({
          status: 200,
          headers: { 'x-bad': 'a\r\nset-cookie: evil=1' },
          body: 'x',
        }),
      },
      {
        method: 'GET',
        path: '/slow',
        handler: async () => {
          slowEntered.resolve();
          await slowRelease.promise;
          return { status: 200, body: 'slow done' };
        },
      },
      {
        method: 'GET',
        path: '/hang',
        handler: async (request) => {
          const id = currentContext()?.requestId ?? 'missing-context';
          record(request, 'handler');
          const signal = request.signal;
          await new Promise<void>((resolve) => {
            if (signal === undefined) return resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
            keyed(hangs, id).resolve();
          });
          keyed(hangEnds, id).resolve(signal?.aborted === true);
          return { status: 200, body: 'too late' };
        },
      },
      { method: 'GET', path: FAULTY_PATH, handler: () => ({ status: 200, body: 'ok' }) },
      {
        method: 'GET',
        path: '/search',
        handler: (request) => json(200, { received: request.body ?? null }),
      },
      // What the adapter learned of the body it read (see bodyProfileOf).
      {
        method: 'POST',
        path: '/profile',
        handler: (request) => {
          const profile = bodyProfileOf(request);
          if (profile === undefined) return json(200, { profile: null });
          const { body: _body, ...facts } = profile;
          return json(200, { profile: facts });
        },
      },
      // Answers without echoing anything of the request (for the long-URL probes).
      { method: 'GET', path: '/quiet/:id', handler: () => ({ status: 204 }) },
    ],
  });

  return {
    parts: [
      recorder('first', true),
      shortCircuit,
      recorder('second', false),
      faulty,
      recorder('third', false),
      routes,
    ],
    finished: (requestId) => keyed(done, requestId).promise,
    hanging: (requestId) => keyed(hangs, requestId).promise,
    hangSettled: (requestId) => keyed(hangEnds, requestId).promise,
    slow: { entered: slowEntered.promise, release: () => slowRelease.resolve() },
  };
}
