import { loadConfig, openPglite, PGLITE_SETTINGS } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

// A database outlives the process: its keys must too (ephemeral ones are refused there).
const KEYS = {
  NOTES_KEYS: JSON.stringify([{ id: 1, key: 'a'.repeat(43), status: 'primary' }]),
  AUDIT_SIGNING_KEY: 'an-audit-signing-key-of-32-characters',
  API_KEY_SECRET: 'an-api-key-secret-of-32-characters!',
};

describe('the embedded stores', () => {
  it('keeps the demo on the memory store unless PGlite is asked for', () => {
    // The footprint choice (docs/reliability.md): a Map by default, PGlite one variable away.
    const store = (env: Record<string, string>) => {
      const config = loadConfig(env);
      return config.ok ? config.value.store : config.error.code;
    };
    expect(store({})).toBe('memory');
    expect(store({ NOTES_STORE: 'pglite' })).toBe('pglite');
    expect(store({ DATABASE_URL: 'postgres://db/notes', ...KEYS })).toBe('postgres');
  });

  it('starts PGlite with a 16 MB page cache instead of 128 MB, and it still runs SQL', async () => {
    expect(PGLITE_SETTINGS).toEqual({ shared_buffers: '16MB' });
    const db = await openPglite();
    try {
      const shown = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(shown.rows).toEqual([{ shared_buffers: '16MB' }]);
      // PGlite's own start parameters are kept: the search path it sets, for one.
      const path = await db.query<{ search_path: string }>('SHOW search_path');
      expect(path.rows).toEqual([{ search_path: 'public' }]);
      const sum = await db.query<{ n: number }>('SELECT 1 + 1 AS n');
      expect(sum.rows).toEqual([{ n: 2 }]);
    } finally {
      await db.close();
    }
  }, 60_000);
});
