import type { ProdError, Result } from '@prod/core';
import type { ListOptions, NewNote, Note, NotePatch } from './note.js';

/**
 * Where notes live. Every method answers a Result: `Err` only for a failure of the storage
 * itself (`UNAVAILABLE`, `TIMEOUT`, `INTERNAL`); a missing note is `Ok(undefined)`.
 */
export interface NotesStore {
  /** `memory`, `pglite` or `postgres`: shown in logs and spans. */
  readonly kind: string;
  /**
   * Stores a new note under `id` (a UUID), or under a fresh one: a layer above may need the id
   * before the write (the encrypted store binds the body's ciphertext to it).
   */
  create(note: NewNote, id?: string): Promise<Result<Note, ProdError>>;
  list(options: ListOptions): Promise<Result<Note[], ProdError>>;
  get(id: string): Promise<Result<Note | undefined, ProdError>>;
  update(id: string, patch: NotePatch): Promise<Result<Note | undefined, ProdError>>;
  /** `Ok(true)` when a note was deleted, `Ok(false)` when there was none. */
  remove(id: string): Promise<Result<boolean, ProdError>>;
}
