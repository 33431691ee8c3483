import type { HttpMethod, Route } from '../index.js';

const ALL_METHODS: readonly HttpMethod[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];

/** One route path of the parts, with what it answers and what must get a 405. */
export interface PathMethods {
  readonly path: string;
  /** The `Allow` header value: the declared methods, plus HEAD when GET is declared. */
  readonly allow: string;
  /** The methods the path does not answer: registered on the router to answer 405. */
  readonly rejected: readonly HttpMethod[];
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
    allow: ALL_METHODS.filter((method) => methods.has(method)).join(', '),
    rejected: ALL_METHODS.filter((method) => !methods.has(method)),
  }));
}
