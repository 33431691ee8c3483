import { fingerprintQuery } from '@prod/db';
import fc from 'fast-check';
import { fingerprintSync, loadModule } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await loadModule();
});

const text = (sql: string): string => fingerprintQuery(sql).text;

describe('fingerprintQuery', () => {
  it.each([
    [
      "SELECT * FROM notes WHERE id = 42 AND title = 'x'",
      'SELECT * FROM notes WHERE id = $1 AND title = $2',
    ],
    ['select *   from Notes\n where ID = $7', 'SELECT * FROM notes WHERE id = $1'],
    ['SELECT 1.5, .5, 1e10, 2.5E-3, 0x1F, 1_000_000', 'SELECT $1, $2, $3, $4, $5, $6'],
    [
      "SELECT E'it\\'s', 'it''s', $$ ; ' $$, $tag$ $$ ' $tag$, B'1010', X'ff', N'nat', U&'d\\0061t'",
      'SELECT $1, $2, $3, $4, $5, $6, $7, $8',
    ],
    [
      'SELECT a FROM t WHERE b = -1 AND c = - 2 AND d = e - 3',
      'SELECT a FROM t WHERE b = $1 AND c = $2 AND d = e - $3',
    ],
    [
      'SELECT a /* one /* nested */ still */ FROM t -- trailing ; comment\nWHERE x = 1',
      'SELECT a FROM t WHERE x = $1',
    ],
    [
      'SELECT "Mixed Case", "a""b" FROM "Sch"."Tab"',
      'SELECT "Mixed Case", "a""b" FROM "Sch"."Tab"',
    ],
    [
      "SELECT '2025-01-01'::date, interval '1 day', CAST('7' AS int)",
      'SELECT $1::date, interval $2, CAST ($3 AS int)',
    ],
    ['SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5)', 'SELECT * FROM t WHERE id IN ($1 /*, ... */)'],
    ['SELECT * FROM t WHERE id IN ($1, $2)', 'SELECT * FROM t WHERE id IN ($1 /*, ... */)'],
    ["SELECT * FROM t WHERE id IN ('a')", 'SELECT * FROM t WHERE id IN ($1 /*, ... */)'],
    [
      'SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4), (5, 6))',
      'SELECT * FROM t WHERE (a, b) IN (($1, $2) /*, ... */)',
    ],
    [
      'SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = 1)',
      'SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = $1)',
    ],
    [
      'SELECT * FROM t WHERE id = ANY(ARRAY[1, 2, 3])',
      'SELECT * FROM t WHERE id = ANY (ARRAY[$1 /*, ... */])',
    ],
    [
      "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
      'INSERT INTO t(a, b) VALUES ($1, $2) /*, ... */',
    ],
    ['INSERT INTO t (a) VALUES ($1)', 'INSERT INTO t(a) VALUES ($1)'],
    ['SELECT count(*) FROM t', 'SELECT count(*) FROM t'],
  ])('%s', (sql, expected) => {
    expect(text(sql)).toBe(expected);
  });

  it('gives one fingerprint whatever the literals, list lengths, case, spacing and comments', () => {
    const a = fingerprintQuery(
      "SELECT * FROM notes WHERE id IN (1, 2) AND title = 'a' /* trace=abc */",
    );
    const b = fingerprintQuery(
      "select *\n\tfrom notes where id in (7,8,9,10) and title = 'it''s' -- c",
    );
    const c = fingerprintQuery('SELECT * FROM notes WHERE id IN ($1) AND title = $2');
    expect(a.id).toBe(b.id);
    expect(b.id).toBe(c.id);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintQuery('SELECT * FROM notes WHERE id = 1').id).not.toBe(a.id);
  });

  it.each([
    ['SELECT * FROM notes', 'SELECT', 'notes'],
    ['select x from app.notes n join tags t on t.id = n.tag', 'SELECT', 'app.notes'],
    ['SELECT (SELECT max(a) FROM inner_t) FROM outer_t', 'SELECT', 'outer_t'],
    ['WITH recent AS (SELECT * FROM notes) SELECT * FROM recent', 'SELECT', 'recent'],
    ['WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved', 'INSERT', 'b'],
    ['INSERT INTO notes (id) VALUES ($1)', 'INSERT', 'notes'],
    ['UPDATE ONLY "Notes" SET a = 1', 'UPDATE', '"Notes"'],
    ['DELETE FROM notes WHERE id = $1', 'DELETE', 'notes'],
    ['TRUNCATE TABLE notes', 'TRUNCATE', 'notes'],
    ['COPY notes FROM STDIN', 'COPY', 'notes'],
    ['BEGIN', 'BEGIN', undefined],
    ['commit', 'COMMIT', undefined],
    ['SELECT 1', 'SELECT', undefined],
    ['(SELECT a FROM t1) UNION ALL (SELECT a FROM t2)', 'SELECT', 't1'],
    ['FROBNICATE everything', 'OTHER', undefined],
    ['', 'OTHER', undefined],
  ])('reads the operation and table of %s', (sql, operation, table) => {
    expect(fingerprintQuery(sql)).toMatchObject({ operation, table });
  });

  it('counts statements outside strings and comments', () => {
    expect(fingerprintQuery('SELECT 1; SELECT 2').statements).toBe(2);
    expect(fingerprintQuery("SELECT ';' -- ;\n; ").statements).toBe(1);
    expect(fingerprintQuery('SELECT $$;$$ /* ; */').statements).toBe(1);
    expect(fingerprintQuery(';;').statements).toBe(0);
  });

  it('survives hostile input: unterminated strings and comments, huge and deeply nested text', () => {
    expect(fingerprintQuery("SELECT 'never closed").text).toBe('SELECT $1');
    expect(fingerprintQuery('SELECT /* never closed').text).toBe('SELECT');
    expect(fingerprintQuery('SELECT $tag$ never closed').text).toBe('SELECT $1');
    expect(fingerprintQuery('SELECT "never closed').text).toBe('SELECT "never closed');
    const deep = `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`;
    expect(fingerprintQuery(deep).operation).toBe('SELECT');
    const huge = fingerprintQuery(
      `SELECT * FROM t WHERE a IN (${Array.from({ length: 50_000 }, (_, i) => i).join(',')}) AND ${'b = 1 AND '.repeat(2000)} c = 1`,
    );
    expect(huge.text.length).toBeLessThan(4200);
    expect(huge.text).toMatch(/ \.\.\. #[0-9a-f]{16}$/);
    expect(fingerprintQuery('\u0000\uffff\ud800 SELECT').operation).toBe('OTHER');
  });

  it('property: replacing literals never changes the fingerprint', () => {
    const literal = fc.oneof(
      fc.integer().map(String),
      fc
        .double({ noNaN: true, noDefaultInfinity: true, min: 0 })
        .map((n) => String(n).replace('e+', 'e')),
      fc.string().map((s) => `'${s.replace(/'/g, "''")}'`),
      fc.string().map((s) => `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`),
      fc
        .string()
        .filter((s) => !s.includes('$q$'))
        .map((s) => `$q$${s}$q$`),
    );
    const spacing = fc.constantFrom(' ', '  ', '\n', '\t', ' /* c */ ', ' -- c\n');
    fc.assert(
      fc.property(
        fc.array(literal, { minLength: 3, maxLength: 3 }),
        fc.array(literal, { minLength: 3, maxLength: 3 }),
        spacing,
        (one, two, space) => {
          const build = (values: string[]): string =>
            `SELECT a,${space}b FROM t WHERE a = ${values[0]} AND b IN (${values[1]}, ${values[2]})${space}ORDER BY a`;
          return fingerprintQuery(build(one)).id === fingerprintQuery(build(two)).id;
        },
      ),
      { numRuns: 300 },
    );
  });

  // libpg_query's fingerprint also equates `id = 1` with `id IN (1, 2)`; ours keeps them apart,
  // so IN lists are tested above rather than here.
  it('agrees with PostgreSQL own parser (libpg_query fingerprints) on which queries are the same', () => {
    const templates = [
      (v: string) => `SELECT * FROM notes WHERE id = ${v}`,
      (v: string) => `SELECT * FROM notes WHERE title = ${v}`,
      (v: string) => `SELECT id FROM notes WHERE id = ${v}`,
      (v: string) => `SELECT * FROM notes WHERE id = ${v} ORDER BY id`,
      (v: string) => `SELECT * FROM tags WHERE id = ${v}`,
      (v: string) => `UPDATE notes SET title = ${v} WHERE id = 1`,
      (v: string) => `DELETE FROM notes WHERE id = ${v}`,
      (v: string) => `INSERT INTO notes (id, title) VALUES (${v}, 'x')`,
      (v: string) => `SELECT count(*) FROM notes WHERE id > ${v} LIMIT 10`,
      (v: string) => `SELECT * FROM notes n JOIN tags t ON t.note = n.id WHERE n.id = ${v}`,
      (v: string) => `SELECT * FROM notes WHERE id = ${v} OR id = 2`,
    ];
    const values = ['1', '42', "'x'", "'it''s'", '-7', '3.5', "E'a\\'b'", '$$x$$'];
    const ours = new Map<string, number>();
    const theirs = new Map<string, number>();
    templates.forEach((template, t) => {
      for (const value of values) {
        const sql = template(value);
        const mine = fingerprintQuery(sql).id;
        const real = fingerprintSync(sql);
        // Same template, any literal: one fingerprint on both sides.
        if (!ours.has(mine)) ours.set(mine, t);
        if (!theirs.has(real)) theirs.set(real, t);
        expect(ours.get(mine)).toBe(t);
        expect(theirs.get(real)).toBe(t);
      }
    });
    // Different templates: different fingerprints on both sides.
    expect(ours.size).toBe(templates.length);
    expect(theirs.size).toBe(templates.length);
  });
});
