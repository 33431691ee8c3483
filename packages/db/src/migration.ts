import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { err, ok, type ProdError, type Result } from '@prod/core';
import { DbErrors } from './errors.js';
import { loadParser, splitStatements } from './internal/sql-parser.js';
import type { SqlQueryable } from './sql-client.js';
import type { SqlStatement } from './types.js';

/** A migration step written in code: it gets the transaction (or, for `transaction: false`, the client). */
export type MigrationFunction = (db: SqlQueryable) => Promise<void> | void;

/** A versioned migration defined in code: SQL text or a function, with an optional down step. */
export interface MigrationDefinition {
  /** Dotted numbers: `1`, `1.2`, `20240501120000`. Applied in numeric order, each once. */
  readonly version: string;
  /** What it does, in words (`create notes`). */
  readonly name: string;
  readonly up: string | MigrationFunction;
  readonly down?: string | MigrationFunction;
  /** Run inside a transaction (default true). `false` for `CREATE INDEX CONCURRENTLY` and friends. */
  readonly transaction?: boolean;
  /**
   * What the history records to detect a changed migration. Default: the SHA-256 of the SQL
   * text, or for a function a hash of the version and name only (pass your own to track edits).
   */
  readonly checksum?: string;
}

/** A repeatable migration (views, functions): re-applied whenever its checksum changes. */
export interface RepeatableDefinition {
  readonly repeatable: true;
  readonly name: string;
  readonly up: string | MigrationFunction;
  readonly checksum?: string;
}

/** One step of a loaded migration. */
export type MigrationStep =
  | { readonly kind: 'sql'; readonly text: string; readonly statements: readonly SqlStatement[] }
  | { readonly kind: 'code'; readonly run: MigrationFunction };

/** A migration ready to run, from a file or a definition. */
export interface Migration {
  readonly kind: 'versioned' | 'repeatable';
  /** The normalized version (`1.2`), undefined for a repeatable migration. */
  readonly version: string | undefined;
  readonly name: string;
  /** Its file name (`V2__add_index.sql`) or, defined in code, `V2__add index` / `R__name`. */
  readonly id: string;
  readonly checksum: string;
  readonly transaction: boolean;
  readonly up: MigrationStep;
  readonly down: MigrationStep | undefined;
}

/** What a migrator accepts: a folder of migration files, or definitions. */
export type MigrationSource = string | ReadonlyArray<MigrationDefinition | RepeatableDefinition>;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Line endings and a byte-order mark do not change a checksum (a Windows checkout stays valid). */
function canonical(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

const VERSION = /^\d+(?:[._]\d+)*$/;

/** `1_02` -> `1.2`; undefined when not a version. */
export function normalizeVersion(version: string): string | undefined {
  if (!VERSION.test(version)) return undefined;
  return version
    .split(/[._]/)
    .map((part) => BigInt(part).toString())
    .join('.');
}

/** Numeric order of normalized versions: 1.10 after 1.9. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(BigInt);
  const right = b.split('.').map(BigInt);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? -1n;
    const y = right[i] ?? -1n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const NO_TRANSACTION = /^\s*--\s*prod-db:\s*no-transaction\s*$/im;

/** Whether the leading comments of a SQL file hold `-- prod-db: no-transaction`. */
function wantsNoTransaction(text: string): boolean {
  const head: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('--')) head.push(line);
    else break;
  }
  return NO_TRANSACTION.test(head.join('\n'));
}

function invalid(id: string, reason: string, extra: Record<string, unknown> = {}): ProdError {
  return DbErrors.DB_MIGRATION_INVALID({
    message: `${id}: ${reason}`,
    details: { file: id, reason, ...extra },
  });
}

/** Checks the statements of one SQL step against its transaction mode. */
function checkStatements(
  id: string,
  statements: readonly SqlStatement[],
  transaction: boolean,
): ProdError | undefined {
  for (const statement of statements) {
    if (statement.transactionControl) {
      return invalid(
        id,
        `statement ${statement.index} (line ${statement.line}) is transaction control (${statement.text.split(/\s/)[0]}): remove it, each migration already runs in its own transaction`,
        { statement: statement.index, line: statement.line },
      );
    }
    if (transaction && statement.outsideTransaction !== undefined) {
      return invalid(
        id,
        `statement ${statement.index} (line ${statement.line}): ${statement.outsideTransaction} cannot run inside a transaction; put it alone in a file marked "-- prod-db: no-transaction"`,
        { statement: statement.index, line: statement.line },
      );
    }
  }
  if (!transaction && statements.length !== 1) {
    return invalid(
      id,
      `a no-transaction migration must hold exactly one statement (it holds ${statements.length}), so that a failure leaves the database as it was`,
    );
  }
  return undefined;
}

async function sqlStep(
  id: string,
  text: string,
  transaction: boolean,
): Promise<Result<MigrationStep, ProdError>> {
  const parser = await loadParser();
  const split = splitStatements(parser, text, id);
  if (!split.ok) return split;
  const problem = checkStatements(id, split.value, transaction);
  if (problem !== undefined) return err(problem);
  return ok({ kind: 'sql', text, statements: split.value });
}

/**
 * Turns definitions into migrations: SQL text is parsed (a syntax error is reported before
 * anything runs), versions are normalized and must be unique, names of repeatables too.
 *
 * @returns `Ok(migrations)` in apply order, or `Err(DB_MIGRATION_INVALID | DB_MIGRATION_SYNTAX)`.
 */
export async function fromDefinitions(
  definitions: ReadonlyArray<MigrationDefinition | RepeatableDefinition>,
): Promise<Result<Migration[], ProdError>> {
  const migrations: Migration[] = [];
  for (const definition of definitions) {
    if (typeof definition !== 'object' || definition === null) {
      return err(invalid('(definition)', 'a migration definition must be an object'));
    }
    const name = (definition as { name?: unknown }).name;
    if (typeof name !== 'string' || name.trim() === '') {
      return err(invalid('(definition)', 'a migration needs a non-empty name'));
    }
    const up = (definition as { up?: unknown }).up;
    if (typeof up !== 'string' && typeof up !== 'function') {
      return err(invalid(name, 'up must be SQL text or a function'));
    }
    const repeatable = (definition as { repeatable?: unknown }).repeatable === true;
    const rawVersion = (definition as { version?: unknown }).version;
    const version = repeatable ? undefined : normalizeVersion(String(rawVersion));
    if (!repeatable && version === undefined) {
      return err(
        invalid(
          name,
          `version must be dotted numbers such as 1 or 1.2, got ${JSON.stringify(rawVersion)}`,
        ),
      );
    }
    const id = repeatable ? `R__${name}` : `V${version}__${name}`;
    const transaction = (definition as MigrationDefinition).transaction !== false;
    const given = (definition as { checksum?: unknown }).checksum;
    if (given !== undefined && (typeof given !== 'string' || given === '')) {
      return err(invalid(id, 'checksum must be a non-empty string'));
    }
    const upStep: Result<MigrationStep, ProdError> =
      typeof up === 'string'
        ? await sqlStep(id, canonical(up), transaction)
        : ok({ kind: 'code', run: up as MigrationFunction });
    if (!upStep.ok) return upStep;
    const down = repeatable ? undefined : (definition as MigrationDefinition).down;
    if (down !== undefined && typeof down !== 'string' && typeof down !== 'function') {
      return err(invalid(id, 'down must be SQL text or a function'));
    }
    let downStep: MigrationStep | undefined;
    if (typeof down === 'string') {
      const parsed = await sqlStep(`${id} (down)`, canonical(down), transaction);
      if (!parsed.ok) return parsed;
      downStep = parsed.value;
    } else if (typeof down === 'function')
      downStep = { kind: 'code', run: down as MigrationFunction };
    const checksum =
      (given as string | undefined) ??
      (typeof up === 'string' ? sha256(canonical(up)) : sha256(`code:${id}`));
    migrations.push({
      kind: repeatable ? 'repeatable' : 'versioned',
      version,
      name,
      id,
      checksum,
      transaction,
      up: upStep.value,
      down: downStep,
    });
  }
  return ordered(migrations);
}

function ordered(migrations: Migration[]): Result<Migration[], ProdError> {
  const versions = new Map<string, string>();
  const names = new Set<string>();
  for (const migration of migrations) {
    if (migration.version !== undefined) {
      const previous = versions.get(migration.version);
      if (previous !== undefined) {
        return err(
          invalid(migration.id, `version ${migration.version} is also used by ${previous}`),
        );
      }
      versions.set(migration.version, migration.id);
    } else {
      if (names.has(migration.name)) {
        return err(invalid(migration.id, `two repeatable migrations are named ${migration.name}`));
      }
      names.add(migration.name);
    }
  }
  const versioned = migrations
    .filter((m) => m.version !== undefined)
    .sort((a, b) => compareVersions(a.version as string, b.version as string));
  const repeatable = migrations
    .filter((m) => m.version === undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return ok([...versioned, ...repeatable]);
}

const FILE =
  /^(V|U)(\d+(?:[._]\d+)*)__(.+)\.(sql|js|mjs|cjs|ts|mts|cts)$|^R__(.+)\.(sql|js|mjs|cjs|ts|mts|cts)$/;
const CODE = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

interface ModuleSteps {
  readonly up: string | MigrationFunction;
  readonly down: string | MigrationFunction | undefined;
  readonly transaction: boolean;
}

async function importSteps(path: string, id: string): Promise<Result<ModuleSteps, ProdError>> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return err(
      DbErrors.DB_MIGRATION_INVALID({
        message: `${id}: cannot load the module: ${error instanceof Error ? error.message : String(error)}`,
        details: { file: id, reason: 'cannot load the module' },
        cause: error,
      }),
    );
  }
  const exports = (
    module.default !== null && typeof module.default === 'object' ? module.default : module
  ) as Record<string, unknown>;
  const up = exports.up;
  const down = exports.down;
  if (typeof up !== 'function' && typeof up !== 'string')
    return err(invalid(id, 'the module must export up (a function or SQL text)'));
  if (down !== undefined && typeof down !== 'function' && typeof down !== 'string') {
    return err(invalid(id, 'down must be a function or SQL text'));
  }
  return ok({
    up: up as string | MigrationFunction,
    down: down as string | MigrationFunction | undefined,
    transaction: exports.transaction !== false,
  });
}

/**
 * Loads the migrations of a folder (not its subfolders):
 *
 * - `V<version>__<name>.sql`: a versioned migration (`V1__create_notes.sql`, `V1.1__seed.sql`);
 * - `U<version>__<name>.sql`: its down step (optional);
 * - `R__<name>.sql`: a repeatable migration, re-applied when its content changes;
 * - the same names in `.js`/`.mjs`/`.cjs` (or `.ts` under a TypeScript loader) export
 *   `up` (and `down`, `transaction = false`) instead.
 *
 * A SQL file whose leading comments say `-- prod-db: no-transaction` runs outside a
 * transaction (it must then hold one statement). Other files (README.md...) are ignored, but
 * a `.sql` file that does not follow the naming is an error, never silently skipped.
 * Checksums are the SHA-256 of each file (line endings normalized).
 *
 * @returns `Ok(migrations)` in apply order, or `Err` `DB_MIGRATION_INVALID` /
 *   `DB_MIGRATION_SYNTAX` naming the file.
 */
export async function loadMigrations(folder: string): Promise<Result<Migration[], ProdError>> {
  const dir = resolve(folder);
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    return err(
      DbErrors.DB_MIGRATION_INVALID({
        message: `cannot read the migrations folder ${dir}: ${(error as Error).message}`,
        details: { file: dir, reason: (error as NodeJS.ErrnoException).code ?? 'unreadable' },
        cause: error,
      }),
    );
  }
  const ups = new Map<string, { file: string; name: string; version: string }>();
  const downs = new Map<string, string>();
  const repeatables: Array<{ file: string; name: string }> = [];
  for (const file of entries) {
    if (file.startsWith('.')) continue;
    const match = FILE.exec(file);
    if (match === null) {
      if (extname(file) === '.sql') {
        return err(
          invalid(
            file,
            'a migration file is named V<version>__<name>.sql, U<version>__<name>.sql or R__<name>.sql',
          ),
        );
      }
      continue;
    }
    if (match[5] !== undefined) {
      repeatables.push({ file, name: match[5] });
      continue;
    }
    const version = normalizeVersion(match[2] as string) as string;
    if (match[1] === 'U') {
      if (downs.has(version))
        return err(
          invalid(file, `a second down step for version ${version} (${downs.get(version)})`),
        );
      downs.set(version, file);
      continue;
    }
    const previous = ups.get(version);
    if (previous !== undefined)
      return err(invalid(file, `version ${version} is also used by ${previous.file}`));
    ups.set(version, { file, name: match[3] as string, version });
  }
  for (const [version, file] of downs) {
    if (!ups.has(version))
      return err(
        invalid(file, `a down step for version ${version}, which has no V${version}__ migration`),
      );
  }
  const migrations: Migration[] = [];
  const read = async (file: string): Promise<Result<string, ProdError>> => {
    try {
      return ok(canonical(await readFile(join(dir, file), 'utf8')));
    } catch (error) {
      return err(
        DbErrors.DB_MIGRATION_INVALID({
          message: `${file}: cannot read it: ${(error as Error).message}`,
          details: { file, reason: (error as NodeJS.ErrnoException).code ?? 'unreadable' },
          cause: error,
        }),
      );
    }
  };
  const step = async (
    file: string,
    text: string,
    transaction: boolean,
  ): Promise<Result<MigrationStep, ProdError>> => sqlStep(file, text, transaction);
  for (const { file, name, version } of ups.values()) {
    const content = await read(file);
    if (!content.ok) return content;
    const downFile = downs.get(version);
    let transaction = true;
    let up: MigrationStep;
    let down: MigrationStep | undefined;
    let checksumText = content.value;
    if (CODE.has(extname(file))) {
      const steps = await importSteps(join(dir, file), file);
      if (!steps.ok) return steps;
      transaction = steps.value.transaction;
      const upStep =
        typeof steps.value.up === 'string'
          ? await step(file, canonical(steps.value.up), transaction)
          : ok<MigrationStep>({ kind: 'code', run: steps.value.up });
      if (!upStep.ok) return upStep;
      up = upStep.value;
      const moduleDown = steps.value.down;
      if (moduleDown !== undefined) {
        const downStep =
          typeof moduleDown === 'string'
            ? await step(`${file} (down)`, canonical(moduleDown), transaction)
            : ok<MigrationStep>({ kind: 'code', run: moduleDown });
        if (!downStep.ok) return downStep;
        down = downStep.value;
      }
    } else {
      transaction = !wantsNoTransaction(content.value);
      const upStep = await step(file, content.value, transaction);
      if (!upStep.ok) return upStep;
      up = upStep.value;
    }
    if (downFile !== undefined) {
      if (down !== undefined) return err(invalid(downFile, `${file} already exports a down step`));
      const downText = await read(downFile);
      if (!downText.ok) return downText;
      const downStep = await step(downFile, downText.value, !wantsNoTransaction(downText.value));
      if (!downStep.ok) return downStep;
      down = downStep.value;
      checksumText += `\n-- down --\n${downText.value}`;
    }
    migrations.push({
      kind: 'versioned',
      version,
      name,
      id: file,
      checksum: sha256(checksumText),
      transaction,
      up,
      down,
    });
  }
  for (const { file, name } of repeatables) {
    const content = await read(file);
    if (!content.ok) return content;
    let up: MigrationStep;
    let transaction = true;
    if (CODE.has(extname(file))) {
      const steps = await importSteps(join(dir, file), file);
      if (!steps.ok) return steps;
      transaction = steps.value.transaction;
      const upStep =
        typeof steps.value.up === 'string'
          ? await step(file, canonical(steps.value.up), transaction)
          : ok<MigrationStep>({ kind: 'code', run: steps.value.up });
      if (!upStep.ok) return upStep;
      up = upStep.value;
    } else {
      transaction = !wantsNoTransaction(content.value);
      const upStep = await step(file, content.value, transaction);
      if (!upStep.ok) return upStep;
      up = upStep.value;
    }
    migrations.push({
      kind: 'repeatable',
      version: undefined,
      name: basename(name),
      id: file,
      checksum: sha256(content.value),
      transaction,
      up,
      down: undefined,
    });
  }
  return ordered(migrations);
}

/**
 * Defines a versioned migration in code (checked when a migrator loads it).
 *
 * @example
 * const createNotes = defineMigration({
 *   version: '1',
 *   name: 'create notes',
 *   up: 'CREATE TABLE notes (id uuid PRIMARY KEY, title text NOT NULL)',
 *   down: 'DROP TABLE notes',
 * });
 */
export function defineMigration(definition: MigrationDefinition): MigrationDefinition {
  return definition;
}

/**
 * Defines a repeatable migration in code: re-applied after the versioned ones whenever its
 * checksum (its SQL's hash, or the `checksum` you give) changes.
 *
 * @example
 * const view = defineRepeatable({
 *   name: 'recent notes view',
 *   up: 'CREATE OR REPLACE VIEW recent_notes AS SELECT * FROM notes ORDER BY created_at DESC LIMIT 50',
 * });
 */
export function defineRepeatable(
  definition: Omit<RepeatableDefinition, 'repeatable'>,
): RepeatableDefinition {
  return { ...definition, repeatable: true };
}
