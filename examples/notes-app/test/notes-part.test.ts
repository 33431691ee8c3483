import { auditAction } from '@prod/audit';
import { httpCacheMeta } from '@prod/cache';
import {
  CoreErrors,
  err,
  type HttpRequest,
  type HttpResponse,
  isProdError,
  type Route,
  runWithContext,
} from '@prod/core';
import { rateLimitMeta } from '@prod/ratelimit';
import { authMeta } from '@prod/security';
import { routeSpecMeta } from '@prod/validation';
import {
  memoryNotesStore,
  type NotesFlagReader,
  type NotesStore,
  notesPart,
} from 'example-notes-app';
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

function route(store: NotesStore, method: string, path: string, flags?: NotesFlagReader): Route {
  const part = notesPart(store, flags === undefined ? {} : { flags });
  const found = part.routes?.find((r) => r.method === method && r.path === path);
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
  it('serves the five routes of the notes API, each a defineRoute, and its OpenAPI document', () => {
    const routes = notesPart(memoryNotesStore()).routes ?? [];
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/notes',
      'GET /v1/notes',
      'GET /v1/notes/:id',
      'PATCH /v1/notes/:id',
      'DELETE /v1/notes/:id',
      'GET /openapi.json',
      'GET /docs',
    ]);
    expect(routes.slice(0, 5).map((r) => routeSpecMeta.read(r)?.operationId)).toEqual([
      'createNote',
      'listNotes',
      'getNote',
      'updateNote',
      'deleteNote',
    ]);
  });

  it('needs the notes:write scope for writes; reads check a key only when one is sent', () => {
    const routes = (notesPart(memoryNotesStore()).routes ?? []).slice(0, 5);
    expect(routes.map((r) => [`${r.method} ${r.path}`, authMeta.read(r)])).toEqual([
      ['POST /v1/notes', { auth: 'required', scopes: ['notes:write'] }],
      ['GET /v1/notes', { auth: 'optional', scopes: [] }],
      ['GET /v1/notes/:id', { auth: 'optional', scopes: [] }],
      ['PATCH /v1/notes/:id', { auth: 'required', scopes: ['notes:write'] }],
      ['DELETE /v1/notes/:id', { auth: 'required', scopes: ['notes:write'] }],
    ]);
  });

  it('declares an audit action on every write, a rate limit on POST, an ETag policy on GET :id', () => {
    const routes = notesPart(memoryNotesStore(), { writeLimit: 7 }).routes ?? [];
    const actions = routes
      .slice(0, 5)
      .map((r) => [`${r.method} ${r.path}`, auditAction.read(r)?.action]);
    expect(actions).toEqual([
      ['POST /v1/notes', 'note.create'],
      ['GET /v1/notes', undefined],
      ['GET /v1/notes/:id', undefined],
      ['PATCH /v1/notes/:id', 'note.update'],
      ['DELETE /v1/notes/:id', 'note.delete'],
    ]);
    const limited = routes.filter((r) => rateLimitMeta.read(r) !== undefined);
    expect(limited.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/notes']);
    expect(
      rateLimitMeta.read(limited[0] ?? {})?.policies?.map((p) => [p.name, p.limit, p.key]),
    ).toEqual([
      ['notes-write', 7, 'api-key'],
      ['notes-write-ip', 35, 'ip'],
    ]);
    const cached = routes.filter((r) => httpCacheMeta.read(r) !== undefined);
    expect(cached.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/notes/:id']);
  });

  it('names the note of each audited write: the created one, or the id of the path', async () => {
    const store = memoryNotesStore();
    const part = notesPart(store);
    const [post, , , patch] = part.routes ?? [];
    if (post === undefined || patch === undefined) throw new Error('routes missing');
    const creating = request({ method: 'POST', body: { title: 'a' } });
    const created = await post.handler(creating);
    const id = (created.body as { id: string }).id;
    const resourceOf = (r: Route, at: HttpRequest) => {
      const resource = auditAction.read(r)?.resource;
      return typeof resource === 'function' ? resource(at) : resource;
    };
    expect(resourceOf(post, creating)).toEqual({ type: 'note', id });
    expect(resourceOf(patch, request({ params: { id: id.toUpperCase() } }))).toEqual({
      type: 'note',
      id,
    });
    expect(resourceOf(patch, request({ params: { id: 'not-a-uuid' } }))).toEqual({ type: 'note' });
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
    expect(isProdError(error, 'VALIDATION_INVALID_INPUT')).toBe(true);
    expect((error as { errors?: { path: string }[] }).errors?.map((e) => e.path)).toEqual([
      '/body/title',
    ]);
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
    expect(await remove.handler(request({ params: { id } }))).toMatchObject({ status: 204 });
    expect(isProdError(await thrown(() => remove.handler(request({ params: { id } }))))).toBe(true);
  });
});

/** Flags with `notes.search` at `on`, remembering who each evaluation was for. */
function searchFlag(on: boolean): NotesFlagReader & { readonly keys: (string | undefined)[] } {
  const keys: (string | undefined)[] = [];
  return {
    keys,
    isEnabled(_key, context) {
      keys.push(context?.targetingKey);
      return on;
    },
  };
}

describe('notesPart: the search gated by notes.search', () => {
  async function seeded(): Promise<NotesStore> {
    const store = memoryNotesStore();
    for (const [title, body] of [
      ['Groceries', 'milk, eggs'],
      ['Milk run', ''],
      ['100%_done', 'literal'],
      ['100 done', 'no percent'],
      ['Buy MILK for work', 'office'],
    ] as const) {
      await store.create({ title, body });
    }
    return store;
  }
  const titles = (response: HttpResponse): string[] =>
    (response.body as { items: { title: string }[] }).items.map((note) => note.title);

  it('ignores q while the flag is off, or with no flags at all: the full list, no q echoed', async () => {
    const store = await seeded();
    for (const flags of [undefined, searchFlag(false)]) {
      const list = route(store, 'GET', '/v1/notes', flags);
      for (const q of ['milk', '', 'x'.repeat(10_000), 'a\u0000b', '%_', ['a', 'b']]) {
        const response = await list.handler(request({ query: { q } }));
        expect(response.status).toBe(200);
        expect(titles(response)).toHaveLength(5);
        expect(response.body).not.toHaveProperty('q');
      }
    }
  });

  it('filters titles, ignoring case, while the flag is on; bodies are not searched', async () => {
    const list = route(await seeded(), 'GET', '/v1/notes', searchFlag(true));
    const response = await list.handler(request({ query: { q: ' MiLk ' } }));
    // Groceries has milk in its body only.
    expect(titles(response)).toEqual(['Milk run', 'Buy MILK for work']);
    expect(response.body).toMatchObject({ q: 'MiLk', limit: 50, offset: 0 });
    const paged = await list.handler(request({ query: { q: 'milk', limit: '1', offset: '1' } }));
    expect(titles(paged)).toEqual(['Buy MILK for work']);
    expect(titles(await list.handler(request({ query: { q: 'eggs' } })))).toEqual([]);
  });

  it('takes % and _ as plain characters', async () => {
    const list = route(await seeded(), 'GET', '/v1/notes', searchFlag(true));
    expect(titles(await list.handler(request({ query: { q: '%_' } })))).toEqual(['100%_done']);
    expect(titles(await list.handler(request({ query: { q: '100_' } })))).toEqual([]);
  });

  it('refuses a hostile q with 400 on /query/q while the flag is on, before the store is asked', async () => {
    let lists = 0;
    const store = memoryNotesStore();
    const counted: NotesStore = {
      ...store,
      list: (options) => {
        lists += 1;
        return store.list(options);
      },
    };
    const list = route(counted, 'GET', '/v1/notes', searchFlag(true));
    for (const q of ['x'.repeat(10_000), 'a\u0000b', '  ', ['a', 'b']]) {
      const error = await thrown(() => list.handler(request({ query: { q } })));
      expect(isProdError(error, 'VALIDATION_INVALID_INPUT')).toBe(true);
      expect((error as { errors?: { path: string }[] }).errors?.map((e) => e.path)).toEqual([
        '/query/q',
      ]);
    }
    expect(lists).toBe(0);
  });

  it('evaluates the flag only for a search, for the actor, else x-user-id, else the ip', async () => {
    const flags = searchFlag(true);
    const list = route(memoryNotesStore(), 'GET', '/v1/notes', flags);
    await list.handler(request());
    expect(flags.keys).toEqual([]);
    await list.handler(request({ query: { q: 'a' }, headers: { 'x-user-id': 'user-42' } }));
    await list.handler(request({ query: { q: 'a' }, headers: { 'x-user-id': 'bad id' } }));
    await list.handler(request({ query: { q: 'a' }, headers: { 'x-user-id': 'u'.repeat(201) } }));
    await runWithContext({ requestId: 'r1', actor: { id: 'actor-7' } }, () =>
      list.handler(request({ query: { q: 'a' }, headers: { 'x-user-id': 'user-42' } })),
    );
    expect(flags.keys).toEqual(['user-42', '127.0.0.1', '127.0.0.1', 'actor-7']);
  });
});
