import { randomUUID } from 'node:crypto';
import { fromPromise, map, type ProdError, type Result } from '@prod/core';
import type { SqlQueryable } from '@prod/db';
import { withSpan } from '@prod/tracing';
import type { ListOptions, NewNote, Note, NotePatch } from './note.js';
import type { NotesStore } from './notes-store.js';

interface NoteRow {
  id: string;
  title: string;
  body: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, title, body, created_at, updated_at';

/**
 * A LIKE pattern matching `text` anywhere: its `%`, `_` and backslashes escaped with the
 * backslash the statements name in `ESCAPE`, so each stands for itself. The pattern is a parameter, never
 * part of the statement's text.
 */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toNote(row: unknown): Note {
  const note = row as NoteRow;
  return {
    id: note.id,
    title: note.title,
    body: note.body,
    createdAt: toIso(note.created_at),
    updatedAt: toIso(note.updated_at),
  };
}

/**
 * Notes in a SQL table, on PostgreSQL (a pg `Pool`) or PGlite: the same statements run on
 * both. Each call is a span (`notes.db.<operation>`); a failure of the database becomes an
 * `Err` (`UNAVAILABLE` for a refused or reset connection, else `INTERNAL`), never a throw.
 * Lists in creation order (ties by id); a search (`q`) is `ILIKE` on the title, `%` and `_`
 * escaped (no index: a scan, which suits a notes list; pg_trgm would index it). Not on the
 * body: the service stores it encrypted, and a ciphertext has nothing to search.
 *
 * The table is version 1 of `NOTES_MIGRATIONS` (migrations.ts), applied at start.
 */
export function sqlNotesStore(db: SqlQueryable, kind: 'pglite' | 'postgres'): NotesStore {
  const run = <TValue>(
    operation: string,
    text: string,
    params: unknown[],
    read: (rows: readonly unknown[]) => TValue,
  ): Promise<Result<TValue, ProdError>> =>
    withSpan(
      `notes.db.${operation}`,
      async () => map(await fromPromise(db.query(text, params)), (result) => read(result.rows)),
      { attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation } },
    );

  return {
    kind,
    create(input: NewNote, id?: string) {
      const now = new Date().toISOString();
      return run(
        'insert',
        `INSERT INTO notes (${COLUMNS}) VALUES ($1, $2, $3, $4, $4) RETURNING ${COLUMNS}`,
        [id ?? randomUUID(), input.title, input.body, now],
        (rows) => toNote(rows[0]),
      );
    },
    list({ limit, offset, q }: ListOptions) {
      if (q === undefined) {
        return run(
          'select',
          `SELECT ${COLUMNS} FROM notes ORDER BY created_at, id LIMIT $1 OFFSET $2`,
          [limit, offset],
          (rows) => rows.map(toNote),
        );
      }
      return run(
        'select',
        `SELECT ${COLUMNS} FROM notes
         WHERE title ILIKE $3 ESCAPE '\\'
         ORDER BY created_at, id LIMIT $1 OFFSET $2`,
        [limit, offset, containsPattern(q)],
        (rows) => rows.map(toNote),
      );
    },
    get(id: string) {
      return run('select', `SELECT ${COLUMNS} FROM notes WHERE id = $1`, [id], (rows) =>
        rows.length === 0 ? undefined : toNote(rows[0]),
      );
    },
    update(id: string, patch: NotePatch) {
      return run(
        'update',
        `UPDATE notes SET title = COALESCE($2, title), body = COALESCE($3, body), updated_at = $4
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, patch.title ?? null, patch.body ?? null, new Date().toISOString()],
        (rows) => (rows.length === 0 ? undefined : toNote(rows[0])),
      );
    },
    remove(id: string) {
      return run(
        'delete',
        'DELETE FROM notes WHERE id = $1 RETURNING id',
        [id],
        (rows) => rows.length > 0,
      );
    },
  };
}
