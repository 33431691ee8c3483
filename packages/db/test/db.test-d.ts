import type { PGlite } from '@electric-sql/pglite';
import type { ProdError, Result } from '@prod/core';
import {
  createMigrator,
  type DbEvent,
  instrument,
  type MigrateReport,
  type PgliteLike,
  type SqlClient,
  type SqlQueryable,
  type SqlSource,
  toSqlClient,
} from '@prod/db';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';

declare const pool: pg.Pool;
declare const client: pg.PoolClient;
declare const single: pg.Client;
declare const lite: PGlite;

describe('the SQL client shape', () => {
  it('is met by pg and PGlite as they are', () => {
    expectTypeOf(pool).toMatchTypeOf<SqlSource>();
    expectTypeOf(single).toMatchTypeOf<SqlQueryable>();
    expectTypeOf(client).toMatchTypeOf<SqlQueryable>();
    expectTypeOf(lite).toMatchTypeOf<SqlClient>();
    expectTypeOf(lite).toMatchTypeOf<PgliteLike>();
    expectTypeOf(toSqlClient(pool)).toEqualTypeOf<SqlClient>();
  });

  it('types results and events', () => {
    const migrator = createMigrator({ client: pool, migrations: './migrations' });
    expectTypeOf(migrator.migrate()).resolves.toEqualTypeOf<Result<MigrateReport, ProdError>>();
    instrument(lite, {
      onEvent(event) {
        expectTypeOf(event).toEqualTypeOf<DbEvent>();
        if (event.kind === 'seq-scan')
          expectTypeOf(event.suggestion).toEqualTypeOf<string | undefined>();
      },
    });
    // @ts-expect-error a migration source is a folder or definitions
    createMigrator({ client: pool, migrations: 42 });
  });
});
