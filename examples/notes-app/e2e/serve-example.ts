// One framework example as a real process, for the tests that signal it (drain-under-load.ts):
//   node --conditions=@prod/source --import tsx serve-example.ts <example>/src/server.ts
// Configuration from the environment as in production (real SIGTERM handling, real exit code),
// on 127.0.0.1 and a free port; prints `listening on <url>` on standard error once it listens.
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { StartService } from '../src/run-main.js';

const serverModule = process.argv[2];
if (serverModule === undefined) throw new Error('usage: serve-example.ts <path of src/server.ts>');
const { start } = (await import(pathToFileURL(serverModule).href)) as { start: StartService };
const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
if (!config.ok) throw config.error;
const running = await start(config.value);
process.stderr.write(`listening on ${running.url}\n`);
