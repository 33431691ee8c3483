// Imported by path, not by package name, so the test still runs in a renamed copy.
import { describeNotesService } from 'example-notes-app/e2e';
import { describe } from 'vitest';
import { start } from '../src/index.js';

describe('on the default store (a Map, what `pnpm demo` runs)', () => {
  describeNotesService('express', start);
});

describe('on PGlite (the SQL store, embedded)', () => {
  describeNotesService('express', start, { NOTES_STORE: 'pglite' });
});
