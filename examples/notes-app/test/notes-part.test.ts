import {
  CoreErrors,
  err,
  type HttpRequest,
  type HttpResponse,
  isProdError,
  type Route,
} from '@prod/core';
import { memoryNotesStore, type NotesStore, notesPart } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/',
    route: undefined,
    headers: {},
    ip: '127.0.0.1',
    query: {},
    params: {},
    body: undefined,
    signal: undefined,
    meta: {},
    ...overrides,
  };
}

function route(store: NotesStore, method: string, path: string): Route {
  const found = notesPart(store).routes?.find((r) => r.method === method && r.path === path);
  if (found === undefined) throw new Error(`no ${method} ${path}`);
  return found;
}

async function thrown(call: () => HttpResponse | Promise<HttpResponse>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('notesPart', () => {
  it('serves the five routes of the notes API', () => {
    expect(notesPart(memoryNotesStore()).routes?.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/notes',
      'GET /v1/notes',
      'GET /v1/notes/:id',
      'PATCH /v1/notes/:id',
      'DELETE /v1/notes/:id',
    ]);
  });

  it('creates with 201 and a Location, then finds the note by an upper-case id too', async () => {
    const store = memoryNotesStore();
    const created = await route(store, 'POST', '/v1/notes').handler(
      request({ method: 'POST', body: { title: 'a' } }),
    );
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect(created.headers?.location).toBe(`/v1/notes/${id}`);
    const read = await route(store, 'GET', '/v1/notes/:id').handler(
      request({ params: { id: id.toUpperCase() } }),
    );
    expect(read.body).toEqual(created.body);
  });

  it('answers an id that is not a UUID with NOTE_NOT_FOUND, without asking the store', async () => {
    let calls = 0;
    const store = new Proxy(memoryNotesStore(), {
      get(target, key) {
        calls += 1;
        return Reflect.get(target, key);
      },
    });
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const error = await thrown(() =>
        route(store, method, '/v1/notes/:id').handler(
          request({ method, params: { id: "1' OR '1'='1" }, body: { title: 't' } }),
        ),
      );
      expect(isProdError(error, 'NOTE_NOT_FOUND')).toBe(true);
      expect((error as Error).message).toBe('No such note');
    }
    expect(calls).toBe(0);
  });

  it('validates before writing: a bad body leaves the store untouched', async () => {
    const store = memoryNotesStore();
    const error = await thrown(() =>
      route(store, 'POST', '/v1/notes').handler(request({ method: 'POST', body: { title: '' } })),
    );
    expect(isProdError(error, 'VALIDATION_FAILED')).toBe(true);
    const list = await store.list({ limit: 10, offset: 0 });
    expect(list.ok && list.value).toEqual([]);
  });

  it('throws the error of a failing store (503 UNAVAILABLE), never a 404', async () => {
    const down = CoreErrors.UNAVAILABLE('database down');
    const failing: NotesStore = {
      kind: 'broken',
      create: async () => err(down),
      list: async () => err(down),
      get: async () => err(down),
      update: async () => err(down),
      remove: async () => err(down),
    };
    const id = '00000000-0000-4000-8000-000000000000';
    const calls: [string, string, Partial<HttpRequest>][] = [
      ['POST', '/v1/notes', { body: { title: 't' } }],
      ['GET', '/v1/notes', {}],
      ['GET', '/v1/notes/:id', { params: { id } }],
      ['PATCH', '/v1/notes/:id', { params: { id }, body: { title: 't' } }],
      ['DELETE', '/v1/notes/:id', { params: { id } }],
    ];
    for (const [method, path, overrides] of calls) {
      const error = await thrown(() =>
        route(failing, method, path).handler(request({ method, ...overrides })),
      );
      expect(error).toBe(down);
    }
  });

  it('deletes with 204 and no body, then 404', async () => {
    const store = memoryNotesStore();
    const created = await store.create({ title: 't', body: '' });
    const id = created.ok ? created.value.id : '';
    const remove = route(store, 'DELETE', '/v1/notes/:id');
    expect(await remove.handler(request({ params: { id } }))).toEqual({ status: 204 });
    expect(isProdError(await thrown(() => remove.handler(request({ params: { id } }))))).toBe(true);
  });
});
