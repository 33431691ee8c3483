#!/usr/bin/env node
// `pnpm demo`: starts examples/express-service with its own `start` script and stops it
// cleanly when `pnpm demo` is told to stop.
//
// Why a launcher: pnpm runs a script through `sh -c`, passes SIGTERM to that shell only,
// and exits; the shell dies without passing it on, so the service it started kept listening
// on :3000 with no parent. This process stays between pnpm and the service:
//   - SIGTERM, SIGINT and SIGHUP (as SIGTERM: the service drains on SIGTERM and SIGINT) are
//     passed on to the service;
//   - when pnpm or its shell dies first (this process is re-parented) and no signal came,
//     SIGTERM is passed on;
//   - it exits with the service's exit code.
// The service stays in this process group, so a kill of the whole group reaches it too. A
// Ctrl-C therefore reaches it twice, from the terminal and from here: the service takes the
// same signal twice within a second for one (examples/notes-app/src/run-main.ts).
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
});

let forwarded = false;
const forward = (signal) => {
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
  // After a Ctrl-C pnpm's shell dies too: the service is already stopping then.
  if (!forwarded) forward('SIGTERM');
}, 200);

service.on('error', (error) => {
  process.stderr.write(`demo: cannot start the service: ${error.message}\n`);
  process.exit(1);
});
service.on('exit', (code, signal) => {
  clearInterval(orphaned);
  process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15));
});
