// Imported by path, not by package name, so the test still runs in a renamed copy.
import { describeNotesService } from 'example-notes-app/e2e';
import { describe } from 'vitest';
import { start } from '../src/index.js';

// The SQL store through this adapter, on the embedded PGlite (the default store is a Map).
describe('on PGlite', () => {
  describeNotesService('fastify', start, { NOTES_STORE: 'pglite' });
});
