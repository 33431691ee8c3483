/**
 * Fingerprinting a query text: @prod/db's tokenizer (no cache) against PostgreSQL's own
 * parser compiled to WebAssembly, libpg-query 18 (`fingerprintSync`, a hash of the parse
 * tree, and `normalizeSync`, constants to $n). pg-query-emscripten 5 was tried as a third
 * peer and left out: its WebAssembly heap aborts after some thousands of calls.
 * Run: `pnpm bench:micro db/bench/fingerprint`.
 */
import { fingerprintQuery } from '@prod/db';
import { fingerprintSync, loadModule, normalizeSync } from 'libpg-query';
import { keep, runMicro } from '../../../config/bench-micro.js';

await loadModule();

const SHORT = 'SELECT id, title, body FROM notes WHERE id = $1';
const TYPICAL =
  "SELECT n.id, n.title, t.name FROM notes n JOIN note_tags nt ON nt.note_id = n.id JOIN tags t ON t.id = nt.tag_id WHERE n.owner = 42 AND t.name IN ('a', 'b', 'c') AND n.created_at > '2025-01-01' ORDER BY n.created_at DESC LIMIT 20 OFFSET 40";

const OURS = '@prod/db fingerprintQuery';
const LIBPG = 'libpg-query fingerprintSync';
const LIBPG_NORMALIZE = 'libpg-query normalizeSync';

const group = (name: string, sql: string) => ({
  name,
  contenders: {
    [OURS]: () => keep(fingerprintQuery(sql)),
    [LIBPG]: () => keep(fingerprintSync(sql)),
    [LIBPG_NORMALIZE]: () => keep(normalizeSync(sql)),
  },
  ratios: [
    { ours: OURS, peer: LIBPG },
    { ours: OURS, peer: LIBPG_NORMALIZE },
  ],
});

await runMicro({
  file: import.meta.url,
  title: '@prod/db: query fingerprinting vs libpg_query (WebAssembly)',
  groups: [
    group(`short parameterized SELECT (${SHORT.length} chars)`, SHORT),
    group(`join with literals and an IN list (${TYPICAL.length} chars)`, TYPICAL),
  ],
});
