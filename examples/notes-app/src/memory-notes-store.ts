import { randomUUID } from 'node:crypto';
import { ok, type ProdError, type Result } from '@prod/core';
import type { ListOptions, NewNote, Note, NotePatch } from './note.js';
import type { NotesStore } from './notes-store.js';

/**
 * Whether `note` holds `needle` (lower case) in its title, ignoring case. Not the body: the
 * service keeps it encrypted, and a ciphertext has nothing to search.
 */
function matches(note: Note, needle: string): boolean {
  return note.title.toLowerCase().includes(needle);
}

/**
 * Notes in a Map, lost on restart: for tests and `NOTES_STORE=memory`. Lists in creation
 * order, like the SQL store, and searches (`q`) as it does: a substring of the title,
 * ignoring case, every character plain.
 */
export function memoryNotesStore(): NotesStore {
  const notes = new Map<string, Note>();
  const done = <TValue>(value: TValue): Promise<Result<TValue, ProdError>> =>
    Promise.resolve(ok(value));
  return {
    kind: 'memory',
    create(input: NewNote, id?: string) {
      const now = new Date().toISOString();
      const note: Note = {
        id: id ?? randomUUID(),
        title: input.title,
        body: input.body,
        createdAt: now,
        updatedAt: now,
      };
      notes.set(note.id, note);
      return done(note);
    },
    list({ limit, offset, q }: ListOptions) {
      const all = [...notes.values()];
      const needle = q?.toLowerCase();
      const found = needle === undefined ? all : all.filter((note) => matches(note, needle));
      return done(found.slice(offset, offset + limit));
    },
    get(id: string) {
      return done(notes.get(id));
    },
    update(id: string, patch: NotePatch) {
      const current = notes.get(id);
      if (current === undefined) return done(undefined);
      const next: Note = {
        ...current,
        title: patch.title ?? current.title,
        body: patch.body ?? current.body,
        updatedAt: new Date().toISOString(),
      };
      notes.set(id, next);
      return done(next);
    },
    remove(id: string) {
      return done(notes.delete(id));
    },
  };
}
