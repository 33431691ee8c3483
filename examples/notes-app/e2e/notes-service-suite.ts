import { customCheck } from '@prod/health';
import { type ObservedServer, runObservabilityConformance } from '@prod/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type ServiceConfig } from '../src/config.js';
import type { RunningService, StartOptions, StartService } from '../src/run-main.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
// PGlite takes about 2.5 s to start, 4.5 s under vitest, longer on a busy machine.
const BOOT_TIMEOUT = 60_000;
/** `NOTES_FLAGS` turning the `notes.search` flag on for everyone. */
export const SEARCH_ON = '{"notes.search":{"defaultVariant":"on"}}';

/** A service started for a test: its log lines, a readiness switch, and a stop. */
export interface TestService {
  readonly running: RunningService;
  readonly lines: Record<string, unknown>[];
  setCriticalFailure(failing: boolean): void;
}

/**
 * Starts a framework example on 127.0.0.1 port 0 for tests: configuration from `env` (on top
 * of `PORT=0 HOST=127.0.0.1 NOTES_WRITE_LIMIT=100000`), log lines captured, a critical
 * readiness check the test can fail, no signal handlers and no process exit.
 */
export async function startForTest(
  start: StartService,
  env: Readonly<Record<string, string>> = {},
  options: StartOptions = {},
): Promise<TestService> {
  // A suite writes more notes a minute than a demo (60), and with Redis the services of one
  // test file share their counters: the rate-limit tests set their own limit.
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    NOTES_WRITE_LIMIT: '100000',
    ...env,
  });
  if (!config.ok) throw config.error;
  const lines: Record<string, unknown>[] = [];
  let failing = false;
  const running = await start(config.value, {
    ...options,
    logDestination: {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line !== '') lines.push(JSON.parse(line));
      },
    },
    checks: [
      customCheck('switch', () => !failing, { critical: true, cacheTtl: 0 }),
      ...(options.checks ?? []),
    ],
    shutdown: { signals: [], exit: false, ...options.shutdown },
  });
  return {
    running,
    lines,
    setCriticalFailure(value) {
      failing = value;
    },
  };
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * The end-to-end tests every example runs: the notes API over real HTTP on the framework
 * `start` mounts (CRUD, validation, hostile bodies, problem+json), request ids, health,
 * metrics, log lines and trace ids; then the observability conformance suite of @prod/testing
 * with the service's own composition; then a graceful shutdown.
 */
export function describeNotesService(
  name: string,
  start: StartService,
  env: Readonly<Record<string, string>> = {},
): void {
  describe(`${name}: the notes service over HTTP`, () => {
    let service: TestService;
    let url: string;
    const send = (method: string, path: string, body?: unknown, headers = {}) =>
      fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      });
    const count = async (): Promise<number> =>
      ((await (await fetch(`${url}/v1/notes?limit=100`)).json()) as { items: unknown[] }).items
        .length;

    beforeAll(async () => {
      service = await startForTest(start, env);
      url = service.running.url;
    }, BOOT_TIMEOUT);
    afterAll(async () => {
      await service?.running.shutdown.shutdown('tests done');
    });

    it('listens on 127.0.0.1 with the framework it was built on', () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(service.running.framework).toBe(name);
    });

    it('creates, reads, lists, updates and deletes a note', async () => {
      const created = await send('POST', '/v1/notes', { title: '  Groceries ', body: 'milk' });
      expect(created.status).toBe(201);
      const note = (await created.json()) as Record<string, string>;
      expect(note).toMatchObject({ title: 'Groceries', body: 'milk' });
      expect(note.id).toMatch(UUID);
      expect(created.headers.get('location')).toBe(`/v1/notes/${note.id}`);
      expect(new Date(note.createdAt ?? '').toISOString()).toBe(note.createdAt);

      const read = await fetch(`${url}/v1/notes/${note.id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toEqual(note);

      const listed = (await (await fetch(`${url}/v1/notes`)).json()) as {
        items: { id: string }[];
        limit: number;
        offset: number;
      };
      expect(listed.items.map((item) => item.id)).toContain(note.id);
      expect(listed).toMatchObject({ limit: 50, offset: 0 });

      const patched = await send('PATCH', `/v1/notes/${note.id}`, { title: 'Shopping' });
      expect(patched.status).toBe(200);
      const updated = (await patched.json()) as Record<string, string>;
      expect(updated).toMatchObject({ id: note.id, title: 'Shopping', body: 'milk' });
      expect(updated.createdAt).toBe(note.createdAt);
      expect(Date.parse(updated.updatedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(note.createdAt ?? ''),
      );

      const deleted = await fetch(`${url}/v1/notes/${note.id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      const gone = await fetch(`${url}/v1/notes/${note.id}`);
      expect(gone.status).toBe(404);
      expect(await problemOf(gone)).toMatchObject({ code: 'NOTE_NOT_FOUND', status: 404 });
      const again = await fetch(`${url}/v1/notes/${note.id}`, { method: 'DELETE' });
      expect(again.status).toBe(404);
      await again.arrayBuffer();
    });

    it('pages the list with limit and offset', async () => {
      const ids: string[] = [];
      for (const title of ['p1', 'p2', 'p3']) {
        const response = await send('POST', '/v1/notes', { title });
        ids.push(((await response.json()) as { id: string }).id);
      }
      const all = (await (await fetch(`${url}/v1/notes?limit=100`)).json()) as {
        items: { id: string }[];
      };
      const start = all.items.findIndex((item) => item.id === ids[0]);
      const page = (await (await fetch(`${url}/v1/notes?limit=2&offset=${start + 1}`)).json()) as {
        items: { id: string }[];
      };
      expect(page.items.map((item) => item.id)).toEqual(ids.slice(1));
    });

    it('answers unknown notes and paths with 404, other methods with 405, as problem+json', async () => {
      const missing = await fetch(`${url}/v1/notes/00000000-0000-4000-8000-000000000000`);
      expect(missing.status).toBe(404);
      expect(await problemOf(missing)).toMatchObject({ code: 'NOTE_NOT_FOUND' });
      for (const id of ['42', 'not-a-uuid', '%27%20OR%201%3D1']) {
        const response = await fetch(`${url}/v1/notes/${id}`);
        expect(response.status, id).toBe(404);
        expect(await problemOf(response)).toMatchObject({ code: 'NOTE_NOT_FOUND' });
      }
      const put = await send('PUT', '/v1/notes/00000000-0000-4000-8000-000000000000', {});
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')?.split(/,\s*/).sort()).toEqual([
        'DELETE',
        'GET',
        'HEAD',
        'PATCH',
      ]);
      expect(await problemOf(put)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
      const nowhere = await fetch(`${url}/v2/nowhere`);
      expect(nowhere.status).toBe(404);
      expect(await problemOf(nowhere)).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('answers a non-UUID id of any length with a short 404 problem that echoes nothing', async () => {
      const long = 'x'.repeat(10_000);
      const response = await fetch(`${url}/v1/notes/${long}`);
      expect(response.status).toBe(404);
      const text = await response.text();
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      // A framework that caps path parameters (Fastify) answers before the notes route does.
      expect(['NOTE_NOT_FOUND', 'NOT_FOUND']).toContain(
        (JSON.parse(text) as { code: string }).code,
      );
      expect(text.length).toBeLessThan(1000);
      expect(text).not.toContain('xxxxxxxxxx');
    });

    it('answers methods no route serves, PROPFIND included, with 405 and Allow', async () => {
      const response = await fetch(`${url}/v1/notes`, { method: 'PROPFIND' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')?.split(/,\s*/).sort()).toEqual(['GET', 'HEAD', 'POST']);
      expect(await problemOf(response)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });

    it('refuses a title a database cannot store (a NUL character) before any write', async () => {
      const before = (await (await fetch(`${url}/v1/notes?limit=100`)).json()) as {
        items: unknown[];
      };
      const response = await fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"title":"a\\u0000b"}',
      });
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({
        code: 'INVALID_TEXT',
        details: { path: '/title' },
      });
      const after = (await (await fetch(`${url}/v1/notes?limit=100`)).json()) as {
        items: unknown[];
      };
      expect(after.items.length).toBe(before.items.length);
    });

    it.each([
      ['a missing title', { body: 'x' }, ['/title']],
      ['a title of the wrong type', { title: 42 }, ['/title']],
      ['a body of the wrong type', { title: 't', body: ['x'] }, ['/body']],
      ['a blank title', { title: '   ' }, ['/title']],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, ['/title']],
      ['a body over 10,000 characters', { title: 't', body: 'x'.repeat(10_001) }, ['/body']],
      ['unknown fields', { title: 't', id: 'mine', admin: true }, ['/id', '/admin']],
      ['an array', [{ title: 't' }], ['']],
      ['a string', '"just a title"', ['']],
      ['null', 'null', ['']],
    ])('answers a note with %s with 422 and field errors', async (_label, body, paths) => {
      const before = await count();
      const response = await send('POST', '/v1/notes', body);
      expect(response.status).toBe(422);
      const problem = await problemOf(response);
      expect(problem.code).toBe('VALIDATION_FAILED');
      const errors = problem.errors as { path: string; message: string }[];
      expect(errors.map((error) => error.path).sort()).toEqual([...paths].sort());
      for (const error of errors) expect(error.message).toMatch(/\w/);
      expect(await count()).toBe(before);
    });

    it('validates a change: at least one field, same rules, unknown fields refused', async () => {
      const created = (await (await send('POST', '/v1/notes', { title: 'keep' })).json()) as {
        id: string;
      };
      for (const [body, path] of [
        [{}, ''],
        [{ title: '' }, '/title'],
        [{ body: 5 }, '/body'],
        [{ color: 'red' }, '/color'],
      ] as const) {
        const response = await send('PATCH', `/v1/notes/${created.id}`, body);
        expect(response.status).toBe(422);
        const problem = await problemOf(response);
        expect((problem.errors as { path: string }[]).map((error) => error.path)).toContain(path);
      }
      const unchanged = (await (await fetch(`${url}/v1/notes/${created.id}`)).json()) as {
        title: string;
      };
      expect(unchanged.title).toBe('keep');
    });

    it('validates the paging query', async () => {
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'limit=1&limit=2']) {
        const response = await fetch(`${url}/v1/notes?${query}`);
        expect(response.status, query).toBe(422);
        expect(await problemOf(response)).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    });

    it('ignores ?q= while the notes.search flag is off, hostile values included', async () => {
      const full = (await (await fetch(`${url}/v1/notes?limit=100`)).json()) as {
        items: { id: string }[];
      };
      for (const q of ['Groceries', 'x'.repeat(10_000), 'a%00b', '%25_', '']) {
        const response = await fetch(`${url}/v1/notes?limit=100&q=${q}`);
        expect(response.status, q.slice(0, 20)).toBe(200);
        const listed = (await response.json()) as { items: { id: string }[] };
        expect(listed.items.map((item) => item.id)).toEqual(full.items.map((item) => item.id));
        expect(listed).not.toHaveProperty('q');
      }
    });

    it('caps the field errors of a body with thousands of unknown keys', async () => {
      const body = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
      const response = await send('POST', '/v1/notes', { title: 't', ...body });
      expect(response.status).toBe(422);
      expect(((await problemOf(response)).errors as unknown[]).length).toBe(20);
    });

    it('refuses prototype-polluting, malformed, oversized and non-JSON bodies', async () => {
      const before = await count();
      const polluted = await send('POST', '/v1/notes', '{"title":"t","__proto__":{"admin":true}}');
      expect(polluted.status).toBe(400);
      expect(await problemOf(polluted)).toMatchObject({ code: 'FORBIDDEN_KEY' });
      const nested = await send(
        'PATCH',
        '/v1/notes/00000000-0000-4000-8000-000000000000',
        '{"constructor":{"prototype":{"admin":true}}}',
      );
      expect(nested.status).toBe(400);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      await nested.arrayBuffer();

      const malformed = await send('POST', '/v1/notes', '{"title": "t",');
      expect(malformed.status).toBe(400);
      expect(await problemOf(malformed)).toMatchObject({ code: 'MALFORMED_JSON' });

      const huge = await send('POST', '/v1/notes', { title: 't', body: 'x'.repeat(100_000) });
      expect(huge.status).toBe(413);
      expect(await problemOf(huge)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

      const deep = await send('POST', '/v1/notes', `${'['.repeat(5000)}${']'.repeat(5000)}`);
      expect(deep.status).toBe(400);
      await deep.arrayBuffer();

      const form = await fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'title=t',
      });
      expect(form.status).toBe(415);
      await form.arrayBuffer();
      expect(await count()).toBe(before);
    });

    it('echoes a safe x-request-id and puts it in problems and log lines', async () => {
      const id = `e2e-${name}-request-1`;
      const response = await fetch(`${url}/v1/notes/00000000-0000-4000-8000-000000000001`, {
        headers: { 'x-request-id': id, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      });
      expect(response.headers.get('x-request-id')).toBe(id);
      expect(await problemOf(response)).toMatchObject({
        requestId: id,
        traceId: TRACE_ID,
        instance: `urn:request:${id}`,
      });
      await vi.waitFor(() => {
        const line = service.lines.find((entry) => entry.requestId === id);
        expect(line).toMatchObject({
          module: 'http',
          method: 'GET',
          route: '/v1/notes/:id',
          status: 404,
          traceId: TRACE_ID,
          level: 'warn',
        });
      });
      const fresh = await fetch(`${url}/v1/notes`, { headers: { 'x-request-id': 'has space' } });
      expect(fresh.headers.get('x-request-id')).toMatch(UUID);
      await fresh.arrayBuffer();
    });

    it('serves the three health probes as application/health+json', async () => {
      for (const path of ['/health/live', '/health/ready', '/health/startup']) {
        const response = await fetch(`${url}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^application\/health\+json/);
        expect(['pass', 'warn']).toContain(((await response.json()) as { status: string }).status);
      }
      const ready = (await (await fetch(`${url}/health/ready`)).json()) as {
        checks: Record<string, unknown>;
      };
      const store = service.running.service.store.kind;
      if (store !== 'memory') expect(Object.keys(ready.checks)).toContain(`${store}:responseTime`);
    });

    it('fails readiness while a critical check fails', async () => {
      service.setCriticalFailure(true);
      try {
        const ready = await fetch(`${url}/health/ready`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { status: string }).status).toBe('fail');
      } finally {
        service.setCriticalFailure(false);
      }
      const back = await fetch(`${url}/health/ready`);
      expect(back.status).toBe(200);
      await back.arrayBuffer();
    });

    it('exposes RED metrics by route template on /metrics', async () => {
      const created = (await (await send('POST', '/v1/notes', { title: 'm' })).json()) as {
        id: string;
      };
      await (await fetch(`${url}/v1/notes/${created.id}`)).arrayBuffer();
      const response = await fetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toMatch(
        /^http_server_request_duration_seconds_count\{[^}]*http_request_method="GET"[^}]*http_route="\/v1\/notes\/:id"[^}]*http_response_status_code="200"[^}]*\} [1-9]/m,
      );
      expect(text).toContain('service="notes"');
      expect(text).not.toContain(created.id);
      expect(text).toContain('nodejs_eventloop_lag_seconds');
    });

    it('keeps serving after a client hangs up mid-body', async () => {
      const controller = new AbortController();
      const pending = fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(stream) {
            stream.enqueue(new TextEncoder().encode('{"title":'));
            setTimeout(() => controller.abort(), 20);
          },
        }),
        signal: controller.signal,
        duplex: 'half',
      } as RequestInit).catch(() => 'aborted');
      expect(await pending).toBe('aborted');
      const next = await fetch(`${url}/health/live`);
      expect(next.status).toBe(200);
      await next.arrayBuffer();
    });

    it('answers a repeated GET of a note with 304 while it is unchanged, and 200 after a change', async () => {
      const created = (await (
        await send('POST', '/v1/notes', { title: 'etag', body: 'v1' })
      ).json()) as {
        id: string;
      };
      const path = `/v1/notes/${created.id}`;
      const first = await fetch(`${url}${path}`);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(first.headers.get('cache-control')).toBe('private, no-cache');
      await first.arrayBuffer();

      const again = await fetch(`${url}${path}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('content-type')).toBeNull();
      expect(await again.text()).toBe('');

      const patched = await send('PATCH', path, { title: 'etag, renamed' });
      expect(patched.status).toBe(200);
      await patched.arrayBuffer();
      const changed = await fetch(`${url}${path}`, { headers: { 'if-none-match': etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(await changed.json()).toMatchObject({ title: 'etag, renamed', body: 'v1' });

      // Only the note route asks for an ETag: not the list, not the probes.
      for (const other of ['/v1/notes', '/health/live']) {
        const response = await fetch(`${url}${other}`);
        expect(response.headers.get('etag'), other).toBeNull();
        await response.arrayBuffer();
      }
    });

    it('reads a note through the cache, and drops it there on a change or a delete', async () => {
      const { cache } = service.running.service;
      const created = (await (
        await send('POST', '/v1/notes', { title: 'cached', body: 'b' })
      ).json()) as {
        id: string;
      };
      const path = `/v1/notes/${created.id}`;
      await (await fetch(`${url}${path}`)).arrayBuffer();
      const before = cache.stats().l1.hits;
      const hit = await fetch(`${url}${path}`);
      expect(await hit.json()).toMatchObject({ title: 'cached', body: 'b' });
      expect(cache.stats().l1.hits).toBe(before + 1);

      await (await send('PATCH', path, { body: 'changed' })).arrayBuffer();
      expect(await (await fetch(`${url}${path}`)).json()).toMatchObject({ body: 'changed' });
      await (await fetch(`${url}${path}`, { method: 'DELETE' })).arrayBuffer();
      expect((await fetch(`${url}${path}`)).status).toBe(404);
    });

    it('keeps note bodies encrypted at rest, titles in clear', async () => {
      const created = await send('POST', '/v1/notes', {
        title: 'sealed',
        body: 'a plaintext body',
      });
      const note = (await created.json()) as { id: string; body: string };
      expect(note.body).toBe('a plaintext body');
      expect(await (await fetch(`${url}/v1/notes/${note.id}`)).json()).toMatchObject({
        body: 'a plaintext body',
      });
      // The SQL stores can be read behind the service's back; the memory store is checked by
      // the notes-app unit tests.
      const { database } = service.running.service;
      if (database === undefined) return;
      const rows = await database.query('SELECT title, body FROM notes WHERE id = $1', [note.id]);
      const [row] = rows.rows as { title: string; body: string }[];
      expect(row?.title).toBe('sealed');
      expect(row?.body).not.toContain('plaintext');
      expect(row?.body).toMatch(/^[\w-]{40,}$/);
    });

    it('audits every write with its request id and address, in a chain that verifies', async () => {
      const { audit, auditSink } = service.running.service;
      const tag = `audit-${name}-${Date.now().toString(36)}`;
      const created = await send(
        'POST',
        '/v1/notes',
        { title: 'audited' },
        { 'x-request-id': `${tag}-1` },
      );
      const note = (await created.json()) as { id: string };
      const path = `/v1/notes/${note.id}`;
      await (
        await send('PATCH', path, { body: 'changed' }, { 'x-request-id': `${tag}-2` })
      ).arrayBuffer();
      await (await send('DELETE', path, undefined, { 'x-request-id': `${tag}-3` })).arrayBuffer();
      const missing = await send('PATCH', path, { body: 'again' }, { 'x-request-id': `${tag}-4` });
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();
      // A read is not a write: not audited.
      await (
        await fetch(`${url}${path}`, { headers: { 'x-request-id': `${tag}-5` } })
      ).arrayBuffer();

      type Recorded = {
        kind: string;
        seq: number;
        action: string;
        outcome: string;
        actor: unknown;
        resource: unknown;
        reason: string | null;
        where: Record<string, string>;
      };
      const mine = async (): Promise<Recorded[]> => {
        const found: Recorded[] = [];
        // The memory sink gives records, the PostgreSQL sink their JSON.
        for await (const raw of auditSink.read?.(audit.chain) ?? []) {
          const record = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Recorded;
          if (record.kind === 'event' && record.where.requestId?.startsWith(tag))
            found.push(record);
        }
        return found.sort((a, b) =>
          String(a.where.requestId).localeCompare(String(b.where.requestId)),
        );
      };
      // Recorded after each answer (onResponse).
      await vi.waitFor(async () => expect(await mine()).toHaveLength(4), { timeout: 10_000 });
      const records = await mine();
      const resource = { type: 'note', id: note.id };
      expect(records.map((r) => [r.action, r.outcome, r.resource, r.reason])).toEqual([
        ['note.create', 'success', resource, null],
        ['note.update', 'success', resource, null],
        ['note.delete', 'success', resource, null],
        ['note.update', 'failure', resource, 'NOTE_NOT_FOUND'],
      ]);
      for (const record of records) {
        // No authentication yet (@prod/security will set the actor): the address says who.
        expect(record.actor).toBeNull();
        expect(record.where.ip).toMatch(/127\.0\.0\.1$/);
        expect(record.where.route).toMatch(/^\/v1\/notes/);
      }

      const sealed = await audit.checkpoint();
      expect(sealed.ok).toBe(true);
      const report = await audit.verify();
      if (!report.ok) throw report.error;
      expect(report.value).toMatchObject({ ok: true, issues: [], signaturesChecked: true });
      const last = Math.max(...records.map((record) => record.seq));
      expect(report.value.chains[0]?.sealedThrough).toBeGreaterThanOrEqual(last);
    });
  });

  describe(`${name}: POST /v1/notes rate limited per address and per API key`, () => {
    const LIMIT = 3;
    let service: TestService;
    let url: string;
    const post = (title: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ title }),
      });
    /** Whether a note with `title` was stored (the SQL stores may hold other services' notes). */
    const stored = async (title: string): Promise<boolean> => {
      const { database } = service.running.service;
      if (database !== undefined) {
        const found = await database.query('SELECT 1 FROM notes WHERE title = $1', [title]);
        return found.rows.length > 0;
      }
      const listed = (await (await fetch(`${url}/v1/notes?limit=100`)).json()) as {
        items: { title: string }[];
      };
      return listed.items.some((item) => item.title === title);
    };

    beforeAll(async () => {
      service = await startForTest(start, {
        ...env,
        NOTES_WRITE_LIMIT: String(LIMIT),
        // With Redis, counters of its own: the other services of the file share theirs.
        ...(env.REDIS_URL === undefined
          ? {}
          : {
              REDIS_KEY_PREFIX: `${env.REDIS_KEY_PREFIX ?? ''}limits-${Date.now().toString(36)}:`,
            }),
      });
      url = service.running.url;
    }, BOOT_TIMEOUT);
    afterAll(async () => {
      await service?.running.shutdown.shutdown('tests done');
    });

    it('sends the RateLimit headers on every answer, then 429 problem+json past the limit', async () => {
      const tag = `limited-${Date.now().toString(36)}`;
      const keyed = await post(`${tag} first`, { 'x-api-key': 'key-a' });
      expect(keyed.status).toBe(201);
      expect(keyed.headers.get('ratelimit-policy')).toBe(
        `"notes-write-ip";q=${LIMIT};w=60, "notes-write";q=${LIMIT};w=60`,
      );
      expect(keyed.headers.get('ratelimit')).toMatch(
        /^"notes-write-ip";r=2;t=\d+, "notes-write";r=2;t=\d+$/,
      );
      await keyed.arrayBuffer();

      // Without an API key, only the address counts.
      const anonymous = await post(`${tag} second`);
      expect(anonymous.status).toBe(201);
      expect(anonymous.headers.get('ratelimit-policy')).toBe(`"notes-write-ip";q=${LIMIT};w=60`);
      expect(anonymous.headers.get('ratelimit')).toMatch(/^"notes-write-ip";r=1;t=\d+$/);
      await anonymous.arrayBuffer();

      // An error answer carries them too (and counts: the limit is decided before the body).
      const invalid = await post('', { 'x-api-key': 'key-a' });
      expect(invalid.status).toBe(422);
      expect(invalid.headers.get('ratelimit')).toMatch(
        /^"notes-write-ip";r=0;t=\d+, "notes-write";r=1;t=\d+$/,
      );
      await invalid.arrayBuffer();

      // Another key does not escape the address's limit.
      const refused = await post(`${tag} fourth`, { 'x-api-key': 'key-b' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('ratelimit')).toMatch(/"notes-write-ip";r=0;t=\d+/);
      expect(await problemOf(refused)).toMatchObject({
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        status: 429,
        code: 'RATELIMIT_EXCEEDED',
        'violated-policies': ['notes-write-ip'],
      });
      expect(await stored(`${tag} second`)).toBe(true);
      expect(await stored(`${tag} fourth`)).toBe(false);
    });

    it('limits writes only: reads and probes carry no RateLimit headers and are answered', async () => {
      for (const path of ['/v1/notes', '/health/ready', '/metrics']) {
        const response = await fetch(`${url}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('ratelimit'), path).toBeNull();
        await response.arrayBuffer();
      }
    });
  });

  // With REDIS_URL the flags come from the Redis flag store, and NOTES_FLAGS is refused:
  // test/service.int.test.ts of the Express example sets the flag there instead.
  describe.skipIf(env.REDIS_URL !== undefined)(
    `${name}: ?q= with the notes.search flag on through NOTES_FLAGS (skipped with REDIS_URL: flags are in Redis then)`,
    () => {
      let service: TestService;
      let url: string;
      const search = async (query: string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${url}/v1/notes?${query}`, { headers });
        const body = (await response.json()) as {
          items?: { title: string }[];
          q?: string;
          code?: string;
          errors?: { path: string }[];
        };
        return { status: response.status, body, titles: body.items?.map((item) => item.title) };
      };

      beforeAll(async () => {
        service = await startForTest(start, { ...env, NOTES_FLAGS: SEARCH_ON });
        url = service.running.url;
        for (const [title, body] of [
          ['Groceries', 'milk, eggs'],
          ['Milk run', ''],
          ['100%_done', 'literal'],
          ['100 done', 'no percent'],
          ['Buy MILK for work', 'office'],
        ]) {
          const created = await fetch(`${url}/v1/notes`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ title, body }),
          });
          expect(created.status).toBe(201);
          await created.arrayBuffer();
        }
      }, BOOT_TIMEOUT);
      afterAll(async () => {
        await service?.running.shutdown.shutdown('tests done');
      });

      it('filters titles (bodies are encrypted), ignoring case, and says what it searched', async () => {
        const found = await search('q=%20MiLk%20');
        expect(found.status).toBe(200);
        // Groceries has milk in its body only: a ciphertext is not searched.
        expect(found.titles).toEqual(['Milk run', 'Buy MILK for work']);
        expect(found.body.q).toBe('MiLk');
        expect((await search('q=eggs')).titles).toEqual([]);
        expect((await search('q=nothing-like-this')).titles).toEqual([]);
        expect((await search('q=milk&limit=1&offset=1')).titles).toEqual(['Buy MILK for work']);
      });

      it('takes % and _ literally, and refuses a hostile q with 422 on /q', async () => {
        expect((await search('q=%25_')).titles).toEqual(['100%_done']);
        expect((await search('q=100_')).titles).toEqual([]);
        for (const query of [`q=${'x'.repeat(10_000)}`, 'q=a%00b', 'q=%20%20', 'q=a&q=b']) {
          const refused = await search(query);
          expect(refused.status, query.slice(0, 20)).toBe(422);
          expect(refused.body.code).toBe('VALIDATION_FAILED');
          expect(refused.body.errors?.map((error) => error.path)).toEqual(['/q']);
        }
        // Nothing was written or lost on the way.
        expect((await search('')).titles).toHaveLength(5);
      });

      it('counts the evaluations on feature_flag_evaluations_total', async () => {
        await search('q=milk');
        const text = await (await fetch(`${url}/metrics`)).text();
        const line = text
          .split('\n')
          .find(
            (entry) =>
              entry.startsWith('feature_flag_evaluations_total{') &&
              entry.includes('flag="notes.search"'),
          );
        expect(line).toMatch(/variant="on"/);
        expect(line).toMatch(/reason="STATIC"/);
        expect(line).toMatch(/service="notes"/);
        expect(Number(line?.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
      });

      it('follows a runtime change of the definitions: off, then on for one x-user-id only', async () => {
        const { settings } = service.running.service.config;
        try {
          expect(settings.update({ flags: {} }).ok).toBe(true);
          expect((await search('q=milk')).titles).toHaveLength(5);
          const beta = settings.update({
            flags: {
              'notes.search': {
                rules: [
                  {
                    when: [{ attribute: 'targetingKey', op: 'in', value: ['beta-1'] }],
                    variant: 'on',
                  },
                ],
              },
            },
          });
          expect(beta.ok).toBe(true);
          expect((await search('q=milk', { 'x-user-id': 'beta-1' })).titles).toHaveLength(2);
          expect((await search('q=milk', { 'x-user-id': 'someone-else' })).titles).toHaveLength(5);
        } finally {
          expect(settings.update({ flags: JSON.parse(SEARCH_ON) }).ok).toBe(true);
        }
        expect((await search('q=milk')).titles).toHaveLength(2);
      });
    },
  );

  describe(`${name}: graceful shutdown`, () => {
    it(
      'drains, runs every cleanup hook, reports exit code 0 and stops listening',
      async () => {
        const service = await startForTest(start, env);
        const { url } = service.running;
        const first = await fetch(`${url}/v1/notes`);
        expect(first.status).toBe(200);
        await first.arrayBuffer();
        const report = await service.running.shutdown.shutdown('test');
        expect(report).toMatchObject({ exitCode: 0, drained: true, abandoned: [] });
        expect(report.hooks.map((hook) => hook.status).every((status) => status === 'ok')).toBe(
          true,
        );
        expect(report.hooks.map((hook) => hook.name)).toEqual(
          expect.arrayContaining(['logger', 'tracing', 'errors']),
        );
        expect(service.running.service.health.shuttingDown).toBe(true);
        await expect(fetch(`${url}/health/live`)).rejects.toThrow();
        expect(service.lines.at(-1)).toMatchObject({ msg: 'shutdown: done', exitCode: 0 });
      },
      BOOT_TIMEOUT,
    );
  });

  runObservabilityConformance(`${name} example`, async (parts): Promise<ObservedServer> => {
    const started = await startForTest(start, env, { parts });
    return {
      url: started.running.url,
      logLines: () => started.lines,
      setCriticalFailure: (failing) => started.setCriticalFailure(failing),
      close: async () => {
        await started.running.shutdown.shutdown('tests done');
      },
    };
  });
}

/** The configuration `describeNotesService` starts with, for tests that need it. */
export function testConfig(env: Readonly<Record<string, string>> = {}): ServiceConfig {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env });
  if (!config.ok) throw config.error;
  return config.value;
}
