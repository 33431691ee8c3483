import { type AuditEntry, auditAction, auditPart, createAuditLog, memorySink } from '@prod/audit';
import { CoreErrors, currentContext, definePart, json, type Part } from '@prod/core';
import { mountExpress } from '@prod/express';
import { fakeRequest, listen } from '@prod/testing';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

const KEY = 'audit-signing-key-of-at-least-32-bytes!';

// Authentication as @prod/security will do it: the actor goes into the request context.
const fakeAuth = definePart({
  name: 'fake-auth',
  onRequest(request) {
    const user = request.headers['x-user'];
    const context = currentContext();
    if (user !== undefined && context !== undefined) context.actor = { id: user, type: 'user' };
    return undefined;
  },
});

const notes = definePart({
  name: 'notes',
  routes: [
    {
      method: 'GET',
      path: '/v1/notes/:id',
      handler: (request) => json(200, { id: request.params.id }),
    },
    {
      method: 'PATCH',
      path: '/v1/notes/:id',
      meta: auditAction({
        action: 'note.update',
        details: (request) => ({ fields: Object.keys((request.body as object) ?? {}) }),
      }),
      handler: (request) => {
        if (request.params.id === 'locked') throw CoreErrors.FORBIDDEN('locked');
        if (request.params.id === 'missing') throw CoreErrors.NOT_FOUND('no such note');
        return json(200, { id: request.params.id });
      },
    },
    { method: 'POST', path: '/v1/notes', handler: () => json(201, { id: 'new' }) },
  ],
});

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(parts: Part[]): Promise<string> {
  const app = express();
  mountExpress(app, { parts });
  const server = await listen(app);
  close = server.close;
  return server.url;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('auditPart over HTTP (Express)', () => {
  it('records the routes that ask for it: actor, action, resource, where, outcome, reason', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0 });
    const url = await serve([auditPart(log), fakeAuth, notes]);
    const patch = (id: string) =>
      fetch(`${url}/v1/notes/${id}`, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/json',
          'x-user': 'ada',
          'user-agent': 'test-agent',
          'x-request-id': `req-${id}`,
        },
        body: JSON.stringify({ title: 't', password: 'p' }),
      });
    expect((await patch('n1')).status).toBe(200);
    expect((await patch('locked')).status).toBe(403);
    expect((await patch('missing')).status).toBe(404);
    expect((await fetch(`${url}/v1/notes/n1`)).status).toBe(200); // not audited
    await settle();
    const entries = sink.records as AuditEntry[];
    expect(
      entries.map((entry) => [entry.action, entry.outcome, entry.reason, entry.resource]),
    ).toEqual([
      ['note.update', 'success', null, { type: 'note', id: 'n1' }],
      ['note.update', 'denied', 'FORBIDDEN', { type: 'note', id: 'locked' }],
      ['note.update', 'failure', 'NOT_FOUND', { type: 'note', id: 'missing' }],
    ]);
    expect(entries[0]).toMatchObject({
      actor: { id: 'ada', type: 'user' },
      where: {
        requestId: 'req-n1',
        method: 'PATCH',
        route: '/v1/notes/:id',
        userAgent: 'test-agent',
        ip: expect.stringMatching(/127\.0\.0\.1/),
      },
      details: { status: 200, fields: ['title', 'password'] },
    });
    expect((await log.verify()).ok).toBe(true);
  });

  it('with methods, audits every write, routes without metadata included', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sink, signingKey: KEY, checkpointInterval: 0 });
    const url = await serve([
      auditPart(log, { methods: ['POST', 'PUT', 'PATCH', 'DELETE'] }),
      notes,
    ]);
    await fetch(`${url}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await fetch(`${url}/v1/notes/n1`);
    await settle();
    expect(
      (sink.records as AuditEntry[]).map((entry) => [entry.action, entry.resource, entry.actor]),
    ).toEqual([['http.post', { type: 'route', id: '/v1/notes' }, null]]);
  });
});

describe('auditPart hooks', () => {
  it('reports a failed record to onError, never to the request', async () => {
    const errors: string[] = [];
    const log = createAuditLog({
      sink: { name: 'down', append: () => Promise.reject(new Error('down')) },
      signingKey: KEY,
      checkpointInterval: 0,
      onError: () => {},
    });
    const part = auditPart(log, { onError: (error) => errors.push(error.code) });
    const request = fakeRequest({
      method: 'DELETE',
      meta: auditAction({ action: 'note.delete' }),
      params: { id: 'n1' },
    });
    part.onResponse?.(request, { status: 204, durationMs: 1 });
    await settle();
    expect(errors).toEqual(['AUDIT_SINK_FAILED']);
    expect(() => auditPart({} as never)).toThrow(/log/);
  });
});
