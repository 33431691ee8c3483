import { isProdError } from '@prod/core';
import { createKeyring, generateKey, type Keyring } from '@prod/crypto';
import {
  encryptedNotesStore,
  memoryNotesStore,
  type NewNote,
  type Note,
  type NotesStore,
  noteBodyAad,
} from 'example-notes-app';
import { describe, expect, it } from 'vitest';

const keyring = (): Keyring => createKeyring({ keys: [{ ...generateKey(), status: 'primary' }] });

/** A memory store that remembers what it was given, as a database would hold it. */
function recording(): { store: NotesStore; stored: Map<string, Note> } {
  const inner = memoryNotesStore();
  const stored = new Map<string, Note>();
  const keep = (note: Note): Note => {
    stored.set(note.id, note);
    return note;
  };
  return {
    stored,
    store: {
      ...inner,
      async create(note: NewNote, id?: string) {
        const created = await inner.create(note, id);
        if (created.ok) keep(created.value);
        return created;
      },
      async update(id, patch) {
        const updated = await inner.update(id, patch);
        if (updated.ok && updated.value !== undefined) keep(updated.value);
        return updated;
      },
    },
  };
}

describe('encryptedNotesStore', () => {
  it('stores the body as ciphertext bound to the note, answers it in clear, titles untouched', async () => {
    const keys = keyring();
    const { store: inner, stored } = recording();
    const store = encryptedNotesStore(inner, keys);
    const created = await store.create({ title: 'Plain title', body: 'secret body' });
    if (!created.ok) throw created.error;
    const note = created.value;
    expect(note).toMatchObject({ title: 'Plain title', body: 'secret body' });

    const raw = stored.get(note.id);
    expect(raw?.title).toBe('Plain title');
    expect(raw?.body).not.toContain('secret');
    expect(keys.keyIdOf(raw?.body ?? '')).toBe(keys.primaryId);
    expect(keys.decryptString(raw?.body ?? '', noteBodyAad(note.id))).toEqual({
      ok: true,
      value: 'secret body',
    });

    expect(await store.get(note.id)).toEqual({ ok: true, value: note });
    const listed = await store.list({ limit: 10, offset: 0 });
    expect(listed.ok && listed.value).toEqual([note]);
  });

  it('re-encrypts a changed body, keeps the sealed one on a title change', async () => {
    const { store: inner, stored } = recording();
    const store = encryptedNotesStore(inner, keyring());
    const created = await store.create({ title: 't', body: 'first' });
    if (!created.ok) throw created.error;
    const before = stored.get(created.value.id)?.body;
    const renamed = await store.update(created.value.id, { title: 'renamed' });
    expect(renamed.ok && renamed.value).toMatchObject({ title: 'renamed', body: 'first' });
    expect(stored.get(created.value.id)?.body).toBe(before);
    const changed = await store.update(created.value.id, { body: 'second' });
    expect(changed.ok && changed.value?.body).toBe('second');
    expect(stored.get(created.value.id)?.body).not.toBe(before);
    expect(await store.update('00000000-0000-4000-8000-000000000000', { body: 'x' })).toEqual({
      ok: true,
      value: undefined,
    });
  });

  it('reads old notes after a rotation, while the old key is enabled', async () => {
    const keys = keyring();
    const store = encryptedNotesStore(memoryNotesStore(), keys);
    const old = await store.create({ title: 'old', body: 'under the first key' });
    if (!old.ok) throw old.error;
    const first = keys.primaryId;
    expect(keys.rotate().ok).toBe(true);
    const fresh = await store.create({ title: 'new', body: 'under the second key' });
    expect(fresh.ok).toBe(true);
    const read = await store.get(old.value.id);
    expect(read.ok && read.value?.body).toBe('under the first key');
    expect(keys.disable(first).ok).toBe(true);
    const unreadable = await store.get(old.value.id);
    expect(!unreadable.ok && unreadable.error.code).toBe('NOTE_BODY_UNREADABLE');
  });

  it('refuses a body moved onto another note, or under a keyring without its key: NOTE_BODY_UNREADABLE', async () => {
    const { store: inner, stored } = recording();
    const store = encryptedNotesStore(inner, keyring());
    const a = await store.create({ title: 'a', body: 'body of a' });
    const b = await store.create({ title: 'b', body: 'body of b' });
    if (!a.ok || !b.ok) throw new Error('create failed');
    // Someone with write access to the table, not to the key, copies a's body onto b.
    const moved = await inner.update(b.value.id, { body: stored.get(a.value.id)?.body ?? '' });
    expect(moved.ok).toBe(true);
    const read = await store.get(b.value.id);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(isProdError(read.error, 'NOTE_BODY_UNREADABLE')).toBe(true);
    expect(read.error.status).toBe(500);
    expect(read.error.message).not.toContain('body of a');
    // A list with an unreadable note fails whole rather than answering a partial page.
    expect((await store.list({ limit: 10, offset: 0 })).ok).toBe(false);

    const stranger = encryptedNotesStore(inner, keyring());
    const foreign = await stranger.get(a.value.id);
    expect(!foreign.ok && foreign.error.code).toBe('NOTE_BODY_UNREADABLE');
  });

  it('passes a failing store through, and removes without decrypting anything', async () => {
    const store = encryptedNotesStore(memoryNotesStore(), keyring());
    const created = await store.create({ title: 't', body: 'b' });
    if (!created.ok) throw created.error;
    expect(await store.remove(created.value.id)).toEqual({ ok: true, value: true });
    expect(await store.get(created.value.id)).toEqual({ ok: true, value: undefined });
  });
});
