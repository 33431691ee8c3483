import { type HttpMethod, ROUTE_METHODS, type Route } from '../index.js';

/** One route path of the parts, with what it answers. */
export interface PathMethods {
  readonly path: string;
  /** The `Allow` header value: the declared methods, plus HEAD when GET is declared. */
  readonly allow: string;
  /** The methods the path declares (HEAD included when GET is). */
  readonly methods: ReadonlySet<HttpMethod>;
}

/** Groups the routes by path, in first-declared order. */
export function methodsByPath(routes: readonly Route[]): PathMethods[] {
  const byPath = new Map<string, Set<HttpMethod>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Set<HttpMethod>();
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
    byPath.set(route.path, methods);
  }
  return [...byPath].map(([path, methods]) => ({
    path,
    allow: ROUTE_METHODS.filter((method) => methods.has(method)).join(', '),
    methods,
  }));
}
