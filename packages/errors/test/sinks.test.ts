import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isProdError } from '@prod/core';
import { callbackSink, type ErrorReport, logSink, webhookSink } from '@prod/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { invalidOption } from './helpers.js';

const report: ErrorReport = {
  fingerprint: '0123456789abcdef',
  code: 'INTERNAL',
  status: 500,
  name: 'Error',
  message: 'boom',
  count: 3,
  total: 7,
  firstSeen: '2026-01-01T00:00:00.000Z',
  lastSeen: '2026-01-01T00:01:00.000Z',
  windows: [{ start: '2026-01-01T00:00:00.000Z', count: 3 }],
  samples: [{ at: '2026-01-01T00:00:30.000Z', requestId: 'r1', route: '/x' }],
};

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(
  handler: (req: IncomingMessage, body: string, respond: (status: number) => void) => void,
): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () =>
      handler(req, body, (status) => {
        res.statusCode = status;
        res.end('answer');
      }),
    );
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('webhookSink (real local HTTP server)', () => {
  it('POSTs the reports as JSON with the configured headers', async () => {
    const received: Array<{ body: unknown; auth: string | undefined; type: string | undefined }> =
      [];
    const url = await serve((req, body, respond) => {
      received.push({
        body: JSON.parse(body),
        auth: req.headers.authorization,
        type: req.headers['content-type'],
      });
      respond(204);
    });
    const sink = webhookSink({ url, headers: { authorization: 'Bearer t' } });
    const outcome = await sink.send([report], new AbortController().signal);
    expect(outcome).toEqual({ ok: true, value: undefined });
    expect(received).toEqual([
      { body: { reports: [report] }, auth: 'Bearer t', type: 'application/json' },
    ]);
  });

  it('answers SINK_FAILED with the status when the server fails', async () => {
    const url = await serve((_req, _body, respond) => respond(500));
    const outcome = await webhookSink({ url }).send([report], new AbortController().signal);
    expect(outcome && !outcome.ok && isProdError(outcome.error, 'SINK_FAILED')).toBe(true);
    expect(outcome && !outcome.ok && outcome.error.details).toEqual({ status: 500 });
  });

  it('answers TIMEOUT when the server hangs', async () => {
    const url = await serve(() => undefined);
    const outcome = await webhookSink({ url, timeoutMs: 100 }).send(
      [report],
      new AbortController().signal,
    );
    expect(outcome && !outcome.ok && isProdError(outcome.error, 'TIMEOUT')).toBe(true);
  });

  it('answers SINK_FAILED when nothing listens', async () => {
    const url = await serve((_req, _body, respond) => respond(200));
    const server = servers.pop() as Server;
    server.close();
    await once(server, 'close');
    const outcome = await webhookSink({ url }).send([report], new AbortController().signal);
    expect(outcome && !outcome.ok && isProdError(outcome.error, 'SINK_FAILED')).toBe(true);
  });

  it('refuses non-http URLs at construction', () => {
    expect(invalidOption(() => webhookSink({ url: 'file:///etc/passwd' }))).toBe('url');
    expect(invalidOption(() => webhookSink({ url: 'not a url' }))).toBe('url');
    expect(invalidOption(() => webhookSink({ url: 'https://x.test', timeoutMs: -1 }))).toBe(
      'timeoutMs',
    );
  });
});

describe('logSink', () => {
  it('writes one line per report at the chosen level', () => {
    const lines: Array<[string, unknown, string | undefined]> = [];
    const logger = {
      warn: (obj: unknown, msg?: string) => lines.push(['warn', obj, msg]),
      error: (obj: unknown, msg?: string) => lines.push(['error', obj, msg]),
    };
    logSink({ logger, level: 'warn' }).send(
      [report, { ...report, code: 'TIMEOUT' }],
      new AbortController().signal,
    );
    expect(lines).toEqual([
      ['warn', { errorGroup: report }, 'INTERNAL x3 (7 total): boom'],
      ['warn', { errorGroup: { ...report, code: 'TIMEOUT' } }, 'TIMEOUT x3 (7 total): boom'],
    ]);
  });
});

describe('callbackSink', () => {
  it('hands the batch to the callback and propagates its failure', async () => {
    const batches: Array<readonly ErrorReport[]> = [];
    await callbackSink((reports) => {
      batches.push(reports);
    }).send([report], new AbortController().signal);
    expect(batches).toEqual([[report]]);
    const failing = callbackSink(() => Promise.reject(new Error('down')), 'queue');
    expect(failing.name).toBe('queue');
    await expect(failing.send([report], new AbortController().signal)).rejects.toThrow('down');
    expect(invalidOption(() => callbackSink('x' as never))).toBe('callback');
  });
});
