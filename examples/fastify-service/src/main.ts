// `pnpm start`: configuration from the environment (PORT, HOST, LOG_LEVEL, DATABASE_URL, ...).
import { runMain } from 'example-notes-app';
import { start } from './server.js';

await runMain(start);
