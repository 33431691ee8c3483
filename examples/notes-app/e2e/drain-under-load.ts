// SIGTERM under keep-alive load, measured per request from outside the process.
//
// One example service runs in a child process (node itself, no pnpm or tsx CLI in between, so
// the signal reaches the service). N clients on raw `node:net` sockets each keep one
// connection busy with a GET/POST mix, one request at a time, and reconnect when a response
// says `Connection: close`. About 1.5 s in, the child gets SIGTERM. Every request ends in one
// of three classes, told apart on the socket itself:
//
// - answered: a complete response arrived;
// - reset: the request was written and the connection failed before its response was complete
//   (ECONNRESET, EPIPE, or the server closing without answering: "socket hang up");
// - refused: the connection for it could not be opened (ECONNREFUSED), so nothing was sent.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_KEY_FORMAT } from '../src/api-key-format.js';

const serveScript = join(dirname(fileURLToPath(import.meta.url)), 'serve-example.ts');

/** Options of {@link drainUnderLoad}. */
export interface DrainUnderLoadOptions {
  /** Absolute path of the example's `src/server.ts` (it exports `start`). */
  readonly server: string;
  /** Keep-alive connections, one client each. Default 200. */
  readonly connections?: number;
  /** Milliseconds of load before SIGTERM, once every connection has had an answer. Default 1500. */
  readonly signalAfterMs?: number;
  /**
   * More environment for the service (`NOTES_STORE=memory`, a quiet log and no write limit to
   * speak of by default).
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The whole run is abandoned (child killed) after this long. Default 50 000 ms: the warm-up
   * alone (every connection answered once, while the others keep the event loop busy) takes
   * 5-10 s here, and several times that on a loaded machine.
   */
  readonly timeoutMs?: number;
}

/** How one request ended. */
export type RequestOutcome = 'answered' | 'reset' | 'refused';

/** One request of the load. */
export interface LoadRequest {
  readonly client: number;
  readonly method: 'GET' | 'POST';
  /** When it was written (or its connection attempted), in ms relative to SIGTERM. */
  readonly sentMs: number;
  readonly outcome: RequestOutcome;
  readonly status?: number;
  /** The response said `Connection: close`. */
  readonly close?: boolean;
  /** The socket error code, or `hang up` for a close without an answer. */
  readonly error?: string;
  /** The client's port, to find the connection in a packet capture (tshark, ss). */
  readonly localPort?: number;
}

/** Counts of one group of requests. */
export interface OutcomeCounts {
  readonly answered: number;
  readonly reset: number;
  readonly refused: number;
}

/** What {@link drainUnderLoad} measured. */
export interface DrainUnderLoadResult {
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  /** Connections that had their first answer before the load clock started (all, normally). */
  readonly warmConnections: number;
  /** Requests written before SIGTERM was sent. */
  readonly beforeSignal: OutcomeCounts;
  /** Requests written (or connections attempted) after it. */
  readonly afterSignal: OutcomeCounts;
  /** Answers that carried `Connection: close`. */
  readonly closeAnswers: number;
  /** Answers by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Every request that was reset, for the failure message. */
  readonly resets: readonly LoadRequest[];
  /** The service's JSON log lines whose message starts with `shutdown:`. */
  readonly shutdownLog: readonly Record<string, unknown>[];
  /** What the service wrote on standard error. */
  readonly stderr: string;
}

interface Answer {
  readonly status: number;
  readonly close: boolean;
}

type Exchange =
  | { readonly ok: true; readonly answer: Answer }
  | { readonly ok: false; readonly error: string };

/**
 * Runs one example under keep-alive load, sends SIGTERM to its process during the load, and
 * classifies every request. Resolves once the service has exited and every client stopped.
 *
 * The load warms up first: `signalAfterMs` counts from the moment every connection has had
 * its first answer. Under load, Node accepts pending connections slowly (about one per turn
 * of its event loop), and a connection still in the listen queue when the listener closes is
 * reset by the kernel: that is a matter of the listen queue, not of the drain, and a load
 * balancer stops opening connections before the listener closes (`preStopDelay`).
 */
export async function drainUnderLoad(
  options: DrainUnderLoadOptions,
): Promise<DrainUnderLoadResult> {
  const connections = options.connections ?? 200;
  const signalAfterMs = options.signalAfterMs ?? 1500;
  // The writes' key, registered by the service at start (NOTES_API_KEY).
  const apiKey = API_KEY_FORMAT.generate().token;
  const service = await startService(options.server, {
    NOTES_API_KEY: apiKey,
    NOTES_STORE: 'memory',
    LOG_LEVEL: 'info,http=warn',
    // Keep-alive load, not refusals: a 429 to a POST closes its connection (the adapters do
    // not read a refused upload), and 200 clients reconnecting would measure the listen queue.
    NOTES_WRITE_LIMIT: '1000000',
    ...options.env,
  });
  const records: Array<Omit<LoadRequest, 'sentMs'> & { readonly sentAt: number }> = [];
  let stopped = false;
  const abandon = setTimeout(() => {
    stopped = true;
    service.child.kill('SIGKILL');
  }, options.timeoutMs ?? 50_000);
  void service.exited.then(() => {
    stopped = true;
  });
  let warm = 0;
  let allWarm: () => void = () => {};
  const warmedUp = new Promise<void>((resolve) => {
    allWarm = resolve;
  });
  const warmedOne = (): void => {
    warm += 1;
    if (warm === connections) allWarm();
  };

  const client = async (id: number): Promise<void> => {
    let sequence = 0;
    let answered = false;
    while (!stopped) {
      const attemptAt = performance.now();
      const conn = await open(service.port);
      if (typeof conn === 'string') {
        // Refused: nothing was sent. Any other connect failure (the process died under us)
        // counts as a reset of the request it would have carried.
        const outcome = conn === 'refused' ? 'refused' : 'reset';
        records.push({
          client: id,
          method: 'GET',
          sentAt: attemptAt,
          outcome,
          ...(outcome === 'reset' ? { error: conn } : {}),
        });
        return;
      }
      try {
        while (!stopped && conn.usable()) {
          sequence += 1;
          const method = sequence % 3 === 0 ? 'POST' : 'GET';
          const sentAt = performance.now();
          const result = await conn.exchange(requestBytes(method, id, sequence, apiKey));
          const where = conn.localPort === undefined ? {} : { localPort: conn.localPort };
          if (!result.ok) {
            records.push({
              client: id,
              method,
              sentAt,
              outcome: 'reset',
              error: result.error,
              ...where,
            });
            break;
          }
          const { status, close } = result.answer;
          records.push({
            client: id,
            method,
            sentAt,
            outcome: 'answered',
            status,
            close,
            ...where,
          });
          if (!answered) {
            answered = true;
            warmedOne();
          }
          if (close) break;
        }
      } finally {
        conn.close();
      }
    }
  };

  try {
    const clients = Array.from({ length: connections }, (_, id) => client(id));
    await Promise.race([warmedUp, service.exited]);
    await sleep(signalAfterMs);
    const signalAt = performance.now();
    service.child.kill('SIGTERM');
    await Promise.all(clients);
    const [exitCode, exitSignal] = await service.exited;
    const all: LoadRequest[] = records.map(({ sentAt, ...rest }) => ({
      ...rest,
      sentMs: Math.round((sentAt - signalAt) * 1000) / 1000,
    }));
    const group = (before: boolean): OutcomeCounts => {
      const mine = all.filter((r) => r.sentMs < 0 === before);
      return {
        answered: mine.filter((r) => r.outcome === 'answered').length,
        reset: mine.filter((r) => r.outcome === 'reset').length,
        refused: mine.filter((r) => r.outcome === 'refused').length,
      };
    };
    const statuses: Record<string, number> = {};
    for (const r of all) {
      if (r.status !== undefined) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
    return {
      exitCode,
      exitSignal,
      warmConnections: warm,
      beforeSignal: group(true),
      afterSignal: group(false),
      closeAnswers: all.filter((r) => r.close === true).length,
      statuses,
      resets: all.filter((r) => r.outcome === 'reset'),
      shutdownLog: service.log().filter((line) => String(line.msg).startsWith('shutdown:')),
      stderr: service.stderr(),
    };
  } finally {
    clearTimeout(abandon);
    if (service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
    }
  }
}

interface StartedService {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  log(): Record<string, unknown>[];
  stderr(): string;
}

async function startService(
  server: string,
  env: Readonly<Record<string, string>>,
): Promise<StartedService> {
  const childEnv: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', ...env };
  // Outside Kubernetes the drain starts at once (no preStopDelay), as in the measured runs.
  delete childEnv.KUBERNETES_SERVICE_HOST;
  const child = spawn(
    process.execPath,
    ['--conditions=@prod/source', '--import', 'tsx', serveScript, server],
    {
      // The example's own folder: `tsx` and the example's dependencies resolve from there.
      cwd: dirname(dirname(server)),
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: string): void => {
      stderr += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match !== null) resolve(Number(match[1]));
    };
    child.stderr?.on('data', onData);
    void exited.then(([code]) =>
      reject(new Error(`the service exited (${code}) before listening: ${stderr}`)),
    );
  });
  return {
    child,
    port,
    exited,
    log: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stderr: () => stderr,
  };
}

function requestBytes(
  method: 'GET' | 'POST',
  client: number,
  sequence: number,
  apiKey: string,
): Buffer {
  if (method === 'GET') {
    return Buffer.from('GET /v1/notes?limit=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');
  }
  const body = JSON.stringify({ title: `load ${client}-${sequence}`, body: 'drain under load' });
  return Buffer.from(
    `POST /v1/notes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'latin1',
  );
}

/** One client connection: a request at a time, its answer read off the raw socket. */
interface Connection {
  /** False once the server has ended or the socket failed: open a new one. */
  usable(): boolean;
  readonly localPort: number | undefined;
  exchange(request: Buffer): Promise<Exchange>;
  close(): void;
}

/** A connection, `'refused'` for ECONNREFUSED, or the code of another connect failure. */
function open(port: number): Promise<Connection | string> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let buffer: Buffer = Buffer.alloc(0);
    let ended = false;
    let failure: string | undefined;
    let connected = false;
    let pending: ((exchange: Exchange) => void) | undefined;
    const settle = (exchange: Exchange): void => {
      const waiting = pending;
      pending = undefined;
      buffer = Buffer.alloc(0);
      waiting?.(exchange);
    };
    const tryParse = (atEnd: boolean): void => {
      if (pending === undefined) return;
      const parsed = parseResponse(buffer, atEnd);
      if (parsed !== undefined) settle({ ok: true, answer: parsed });
    };
    socket.once('connect', () => {
      connected = true;
      resolve({
        usable: () => !ended && failure === undefined && !socket.destroyed,
        localPort: socket.localPort,
        exchange: (request) =>
          new Promise<Exchange>((done) => {
            pending = done;
            socket.write(request);
          }),
        close: () => socket.destroy(),
      });
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      tryParse(false);
    });
    socket.on('end', () => {
      ended = true;
      tryParse(true);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
      if (!connected) resolve(failure === 'ECONNREFUSED' ? 'refused' : failure);
    });
    socket.on('close', () => {
      ended = true;
      tryParse(true);
      if (pending !== undefined) settle({ ok: false, error: failure ?? 'hang up' });
    });
  });
}

/** A complete HTTP/1.1 response at the start of `buffer`, or undefined while incomplete. */
function parseResponse(buffer: Buffer, atEnd: boolean): Answer | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = buffer.toString('latin1', 0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? Number.NaN);
  if (Number.isNaN(status)) return undefined;
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const answer: Answer = { status, close: /\bclose\b/i.test(headers.get('connection') ?? '') };
  const bodyStart = headEnd + 4;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return answer;
  const length = headers.get('content-length');
  if (length !== undefined) return buffer.length - bodyStart >= Number(length) ? answer : undefined;
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    let position = bodyStart;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', position);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(
        buffer.toString('latin1', position, lineEnd).split(';')[0] ?? '',
        16,
      );
      if (Number.isNaN(size)) return undefined;
      // The last chunk, then optional trailers, then an empty line.
      if (size === 0) return buffer.indexOf('\r\n\r\n', lineEnd) >= 0 ? answer : undefined;
      position = lineEnd + 2 + size + 2;
      if (position > buffer.length) return undefined;
    }
  }
  // Delimited by the end of the connection.
  return atEnd ? answer : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
