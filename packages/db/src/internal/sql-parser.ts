// PostgreSQL's own parser (libpg_query compiled to WebAssembly): splits migration files into
// statements exactly as the server would, and reports syntax errors before anything runs.
import { err, ok, type ProdError, type Result } from '@prod/core';
import { DbErrors } from '../errors.js';
import type { SqlStatement } from '../types.js';

interface ParsedStatement {
  readonly stmt?: Record<string, unknown>;
  readonly stmt_location?: number;
  readonly stmt_len?: number;
}

interface Parser {
  parseSync(sql: string): { stmts?: ParsedStatement[] };
}

let loading: Promise<Parser> | undefined;

/** Loads the WebAssembly parser once (about 30 ms), on first use. */
export function loadParser(): Promise<Parser> {
  loading ??= (async () => {
    const module = (await import('libpg-query')) as unknown as Parser & {
      loadModule(): Promise<void>;
    };
    await module.loadModule();
    return module;
  })();
  return loading;
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

// Skips spaces and comments (nested block comments included) from `from`.
function skipTrivia(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) i += 1;
    else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      let depth = 0;
      while (i < text.length) {
        if (text.charCodeAt(i) === 47 && text.charCodeAt(i + 1) === 42) {
          depth += 1;
          i += 2;
        } else if (text.charCodeAt(i) === 42 && text.charCodeAt(i + 1) === 47) {
          depth -= 1;
          i += 2;
          if (depth === 0) break;
        } else i += 1;
      }
    } else break;
  }
  return i;
}

function outsideTransaction(node: string, body: Record<string, unknown>): string | undefined {
  switch (node) {
    case 'IndexStmt':
      return body.concurrent === true ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return body.concurrent === true ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt': {
      const params = (body.params as Array<{ DefElem?: { defname?: string } }> | undefined) ?? [];
      return params.some((p) => p.DefElem?.defname === 'concurrently')
        ? 'REINDEX CONCURRENTLY'
        : undefined;
    }
    case 'VacuumStmt':
      return body.is_vacuumcmd === true ? 'VACUUM' : undefined;
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    default:
      return undefined;
  }
}

const CONTROL = new Set([
  'TRANS_STMT_BEGIN',
  'TRANS_STMT_START',
  'TRANS_STMT_COMMIT',
  'TRANS_STMT_ROLLBACK',
  'TRANS_STMT_PREPARE',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
]);

/**
 * Splits `sql` (the content of `file`) into statements with PostgreSQL's parser.
 *
 * @returns `Ok(statements)`, or `Err(DB_MIGRATION_SYNTAX)` naming the file, line and column.
 */
export function splitStatements(
  parser: Parser,
  sql: string,
  file: string,
): Result<SqlStatement[], ProdError> {
  let parsed: { stmts?: ParsedStatement[] };
  try {
    parsed = parser.parseSync(sql);
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const message = error instanceof Error ? error.message : String(error);
    const at =
      typeof details?.cursorPosition === 'number'
        ? lineColumn(sql, details.cursorPosition)
        : undefined;
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.column}`;
    return err(
      DbErrors.DB_MIGRATION_SYNTAX({
        message: `${file}: ${message}${where}`,
        details: { file, reason: message, ...(at === undefined ? {} : at) },
        cause: error,
      }),
    );
  }
  // The parser's offsets count UTF-8 bytes; map them back to string offsets.
  const bytes = Buffer.from(sql, 'utf8');
  const charAt = (byteOffset: number): number =>
    bytes.subarray(0, byteOffset).toString('utf8').length;
  const statements: SqlStatement[] = [];
  for (const entry of parsed.stmts ?? []) {
    const startByte = entry.stmt_location ?? 0;
    const from = charAt(startByte);
    const to =
      entry.stmt_len === undefined || entry.stmt_len === 0
        ? sql.length
        : charAt(startByte + entry.stmt_len);
    const start = skipTrivia(sql, from);
    const text = sql.slice(start, to).trim().replace(/;\s*$/, '');
    if (text === '') continue;
    const [node, body] = Object.entries(entry.stmt ?? {})[0] ?? ['Unknown', {}];
    const fields = (body ?? {}) as Record<string, unknown>;
    const relation = fields.relation as { schemaname?: string; relname?: string } | undefined;
    const position = lineColumn(sql, start);
    statements.push({
      index: statements.length + 1,
      text,
      offset: start,
      line: position.line,
      column: position.column,
      node,
      outsideTransaction: outsideTransaction(node, fields),
      transactionControl: node === 'TransactionStmt' && CONTROL.has(String(fields.kind)),
      concurrentIndex:
        node === 'IndexStmt' && fields.concurrent === true && typeof fields.idxname === 'string'
          ? { schema: relation?.schemaname, name: fields.idxname }
          : undefined,
    });
  }
  return ok(statements);
}
