import { type ChildProcess, spawn } from 'node:child_process';
import { TestingErrors } from './errors.js';

/** How {@link spawnFixture} starts a script. */
export interface FixtureOptions {
  /** Arguments after the script's path. */
  readonly args?: readonly string[];
  /** Export conditions (`--conditions`), e.g. a monorepo's source condition. */
  readonly conditions?: readonly string[];
  /** Working directory; default: this process's. */
  readonly cwd?: string;
  /** Variables added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Open a pipe to the script's stdin for {@link FixtureProcess.write}; default false. */
  readonly stdin?: boolean;
  /** How long {@link FixtureProcess.waitForLine} waits by default; default 15 000 ms. */
  readonly timeoutMs?: number;
}

/** How a fixture ended: its exit code or signal and everything it wrote to stdout. */
export interface FixtureExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** What a line is matched by: its start, a pattern, or a predicate. */
export type LineMatcher = string | RegExp | ((line: string) => boolean);

/** A running fixture script. */
export interface FixtureProcess {
  readonly child: ChildProcess;
  /** Its complete stdout lines so far (a line without its newline yet is not in here). */
  readonly lines: readonly string[];
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /**
   * The first line that matches (a string matches a line that starts with it), seen already
   * or still to come. Rejects with `TESTING_FIXTURE_FAILED` when the fixture exits or the
   * timeout passes first, naming the lines it saw.
   */
  waitForLine(match: LineMatcher, options?: { readonly timeoutMs?: number }): Promise<string>;
  /** Writes to its stdin (`stdin: true`); a fixture that has died fails by its exit, not an EPIPE. */
  write(text: string): void;
  /** Closes its stdin, after writing `text` when given. */
  end(text?: string): void;
  /** Signals it (SIGKILL by default) by its PID when it still runs. */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when it has exited; never rejects. */
  readonly exited: Promise<FixtureExit>;
}

const running = new Set<FixtureProcess>();

function matches(match: LineMatcher, line: string): boolean {
  if (typeof match === 'string') return line.startsWith(match);
  if (match instanceof RegExp) return match.test(line);
  return match(line);
}

/**
 * Runs a script in a child Node process, TypeScript through tsx's loader in that same process
 * (no relay process between a signal and the script), and reads its stdout line by line: the
 * shape of a test that kills a worker mid-job, races several writers, or sends SIGTERM to a
 * service. Call {@link stopFixtures} after each test so no fixture outlives it.
 *
 * @example
 * import { join } from 'node:path';
 * const worker = spawnFixture(join(import.meta.dirname, 'fixtures/worker.ts'), {
 *   args: ['redis://127.0.0.1:6379'],
 * });
 * await worker.waitForLine('ready');
 * worker.kill('SIGKILL');
 * const { signal } = await worker.exited; // 'SIGKILL'
 * await stopFixtures(); // in afterEach: whatever still runs
 */
export function spawnFixture(file: string, options: FixtureOptions = {}): FixtureProcess {
  const execArgv = [
    ...(options.conditions ?? []).map((condition) => `--conditions=${condition}`),
    ...(/\.[mc]?tsx?$/.test(file) ? ['--import', 'tsx'] : []),
  ];
  const child = spawn(process.execPath, [...execArgv, file, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  child.stdin?.on('error', () => undefined);
  child.once('error', () => undefined);
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let out = '';
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    if (parts.length === 0) return;
    lines.push(...parts);
    for (const watcher of watchers) watcher();
  });
  let ended: FixtureExit | undefined;
  const fixture: FixtureProcess = {
    child,
    lines,
    stdout: () => out,
    waitForLine: (match, waitOptions) =>
      new Promise<string>((resolve, reject) => {
        const timeoutMs = waitOptions?.timeoutMs ?? options.timeoutMs ?? 15_000;
        const settle = (): void => {
          watchers.delete(check);
          clearTimeout(timer);
        };
        const fail = (why: string): void => {
          settle();
          reject(
            TestingErrors.TESTING_FIXTURE_FAILED({
              message: `${file} ${why} before a line matching ${String(match)}; its lines: ${JSON.stringify(lines.slice(-20))}`,
              details: { file, lines: lines.slice(-20) },
            }),
          );
        };
        const check = (): void => {
          const found = lines.find((line) => matches(match, line));
          if (found !== undefined) {
            settle();
            resolve(found);
          } else if (ended !== undefined) {
            fail(`exited (${ended.signal ?? ended.code})`);
          }
        };
        const timer = setTimeout(() => fail(`printed nothing for ${timeoutMs} ms`), timeoutMs);
        watchers.add(check);
        check();
      }),
    write: (text) => {
      child.stdin?.write(text);
    },
    end: (text) => {
      child.stdin?.end(text);
    },
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, signal);
      }
    },
    exited: new Promise<FixtureExit>((resolve) => {
      // `close`, not `exit`: stdout is read to its end before the fixture counts as ended.
      child.once('close', (code, signal) => {
        if (partial !== '') {
          lines.push(partial);
          partial = '';
        }
        ended = { code, signal, stdout: out };
        running.delete(fixture);
        for (const watcher of watchers) watcher();
        resolve(ended);
      });
    }),
  };
  running.add(fixture);
  return fixture;
}

/** Kills (SIGKILL) every fixture {@link spawnFixture} started that still runs, and waits for them. */
export async function stopFixtures(): Promise<void> {
  const left = [...running];
  for (const fixture of left) fixture.kill('SIGKILL');
  await Promise.all(left.map((fixture) => fixture.exited));
}
