#!/usr/bin/env node
// `pnpm demo`: starts examples/express-service with its own `start` script and stops it
// cleanly when `pnpm demo` is told to stop.
//
// Why a launcher: pnpm runs a script through `sh -c`, forwards SIGTERM to that shell only,
// and exits; the shell dies without passing the signal on, so the service it started kept
// listening on :3000 with no parent. Here the service runs in a process group of its own and
// this process is its only way to be signalled:
//   - SIGTERM, SIGINT (Ctrl-C: the terminal signals the whole foreground group, which the
//     service is not in, so it gets the signal exactly once, from here) and SIGHUP are
//     forwarded once, as SIGTERM for SIGHUP (the service drains on SIGTERM and SIGINT);
//   - when pnpm or its shell dies first (this process is re-parented), SIGTERM is forwarded;
//   - this process exits with the service's exit code.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const example = fileURLToPath(new URL('../examples/express-service/', import.meta.url));
const { scripts } = JSON.parse(readFileSync(`${example}package.json`, 'utf8'));
// `exec node ...`: the shell that npm or pnpm starts hands its process over to node.
const [command, ...args] = String(scripts?.start ?? '')
  .replace(/^exec /, '')
  .split(' ');
if (command !== 'node') {
  process.stderr.write(
    `demo: expected the example's start script to run node, found "${command}"\n`,
  );
  process.exit(1);
}

const service = spawn(process.execPath, args, {
  cwd: example,
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});

let forwarded = false;
const forward = (signal) => {
  // A second Ctrl-C is the user's "now": the service exits at once on a second signal.
  if (forwarded && signal !== 'SIGINT') return;
  forwarded = true;
  if (service.exitCode === null && service.signalCode === null) service.kill(signal);
};
process.on('SIGTERM', () => forward('SIGTERM'));
process.on('SIGINT', () => forward('SIGINT'));
process.on('SIGHUP', () => forward('SIGTERM'));

const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  forward('SIGTERM');
}, 200);

service.on('error', (error) => {
  process.stderr.write(`demo: cannot start the service: ${error.message}\n`);
  process.exit(1);
});
service.on('exit', (code, signal) => {
  clearInterval(orphaned);
  process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15));
});
