import { afterAll, beforeAll, expect } from 'vitest';
import type { BootedServer, ConformanceContext } from '../types.js';
import { type ConformanceParts, createConformanceParts } from './conformance-parts.js';

/** The server of a group of cases, booted once with fresh conformance parts. */
export interface SharedServer {
  readonly url: string;
  readonly kit: ConformanceParts;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  send(
    method: string,
    path: string,
    body: string | Uint8Array,
    contentType?: string,
  ): Promise<Response>;
}

/**
 * Boots one server with the conformance parts before the cases of the enclosing `describe`
 * and closes it after them. Call it inside a `describe`.
 */
export function useSharedServer({ boot, native }: ConformanceContext): SharedServer {
  let server: BootedServer | undefined;
  let kit: ConformanceParts | undefined;
  beforeAll(async () => {
    kit = createConformanceParts();
    server = await boot(kit.parts, native);
  });
  afterAll(async () => {
    await server?.close();
  });
  const url = (): string => {
    if (server === undefined) throw new Error('conformance: the server is not booted yet');
    return server.url;
  };
  return {
    get url() {
      return url();
    },
    get kit() {
      if (kit === undefined) throw new Error('conformance: the parts are not built yet');
      return kit;
    },
    get: (path, headers = {}) => fetch(`${url()}${path}`, { headers }),
    send: (method, path, body, contentType) =>
      fetch(`${url()}${path}`, {
        method,
        body,
        headers: contentType === undefined ? {} : { 'content-type': contentType },
      }),
  };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const STACK_LINE = /\bat\s.+:\d+:\d+/;
export const ON_REQUEST = [
  'first:onRequest',
  'short:onRequest',
  'second:onRequest',
  'third:onRequest',
];
export const ON_RESPONSE = [
  'third:onResponse',
  'faulty:onResponse',
  'second:onResponse',
  'short:onResponse',
  'first:onResponse',
];
export const ON_ERROR = ['first:onError', 'second:onError', 'third:onError'];

let sequence = 0;

/** A request id unique in this process, for keying what the parts recorded. */
export function nextId(label: string): string {
  sequence += 1;
  return `conf-${label}-${sequence}`;
}

/** Asserts a problem+json answer and returns its body. */
export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}
