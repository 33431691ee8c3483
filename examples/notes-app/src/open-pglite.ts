import type { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL settings of the embedded PGlite, on top of PGlite's own start parameters.
 *
 * `shared_buffers` is PostgreSQL's page cache, 128 MB by default and allocated at start in
 * the WebAssembly memory: 16 MB holds a demo's notes many times over and keeps about 130 MB
 * out of the process. Figures: docs/reliability.md, "Footprint of the embedded default".
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = { shared_buffers: '16MB' };

/**
 * Starts an in-memory PGlite (PostgreSQL compiled to WebAssembly) with {@link PGLITE_SETTINGS}.
 * The module is loaded only here: the WebAssembly build is large, and a service on the
 * memory store or on PostgreSQL never pays for it.
 */
export async function openPglite(): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const settings = Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => [
    '-c',
    `${name}=${value}`,
  ]);
  return PGlite.create({ startParams: [...PGlite.defaultStartParams, ...settings] });
}
