import { randomUUID } from 'node:crypto';
import { err, ok, type ProdError, type Result } from '@prod/core';
import type { Keyring } from '@prod/crypto';
import type { NewNote, Note, NotePatch } from './note.js';
import { NotesErrors } from './notes-errors.js';
import type { NotesStore } from './notes-store.js';

/**
 * The associated data a note's body is encrypted with: the note's id, so a ciphertext copied
 * onto another note (by someone with write access to the table, not to the key) does not
 * decrypt there. The version lets a later format change tell its ciphertexts apart.
 */
export function noteBodyAad(id: string): string {
  return `notes.body:v1:${id}`;
}

/**
 * A {@link NotesStore} that keeps note bodies encrypted in `inner`: AES-256-GCM under the
 * keyring's primary key (@prod/crypto), as base64url text, bound to the note's id. Titles stay
 * plain (they are what `?q=` searches). Reads decrypt with whichever key of the keyring wrote
 * the body, so a rotated keyring still reads old notes while their key is `enabled`.
 *
 * Whatever `inner` keeps (a table, a cache in front of it, Redis behind that cache) holds
 * ciphertext only: wrap the cache, never put a cache above this store.
 *
 * A body that does not decrypt (its key was removed from `NOTES_KEYS`, or the row was changed)
 * is `Err` `NOTE_BODY_UNREADABLE` (500), never a partial or garbled note.
 */
export function encryptedNotesStore(inner: NotesStore, keyring: Keyring): NotesStore {
  const seal = (id: string, body: string): Result<string, ProdError> =>
    keyring.encryptString(body, noteBodyAad(id));
  const open = (note: Note): Result<Note, ProdError> => {
    const body = keyring.decryptString(note.body, noteBodyAad(note.id));
    if (body.ok) return ok({ ...note, body: body.value });
    return err(
      NotesErrors.NOTE_BODY_UNREADABLE({
        message: `The body of note ${note.id} does not decrypt with the configured keys`,
        cause: body.error,
      }),
    );
  };
  const openMaybe = (
    found: Result<Note | undefined, ProdError>,
  ): Result<Note | undefined, ProdError> =>
    !found.ok || found.value === undefined ? found : open(found.value);

  return {
    kind: inner.kind,
    async create(input: NewNote, id: string = randomUUID()) {
      const body = seal(id, input.body);
      if (!body.ok) return body;
      const created = await inner.create({ ...input, body: body.value }, id);
      return created.ok ? open(created.value) : created;
    },
    async list(options) {
      const listed = await inner.list(options);
      if (!listed.ok) return listed;
      const notes: Note[] = [];
      for (const note of listed.value) {
        const opened = open(note);
        if (!opened.ok) return opened;
        notes.push(opened.value);
      }
      return ok(notes);
    },
    async get(id) {
      return openMaybe(await inner.get(id));
    },
    async update(id: string, patch: NotePatch) {
      let sealed: NotePatch = patch;
      if (patch.body !== undefined) {
        const body = seal(id, patch.body);
        if (!body.ok) return body;
        sealed = { ...patch, body: body.value };
      }
      return openMaybe(await inner.update(id, sealed));
    },
    remove: (id) => inner.remove(id),
  };
}
