import { fromPromise, ok, ProdError, type Result } from '@prod/core';
import type { SqlClient } from '@prod/db';
import type { Outbox, Queue } from '@prod/queue';
import type { Note } from './note.js';
import type { NoteCreatedJob } from './note-jobs.js';
import type { NotesStore } from './notes-store.js';
import { sqlNotesStore } from './sql-notes-store.js';

/** Raised inside the transaction so that it rolls back; carries the Result's error out. */
class Rollback extends Error {
  constructor(readonly error: ProdError) {
    super(error.message);
  }
}

/**
 * A SQL {@link NotesStore} whose `create` writes the note and its `notes.created` job in one
 * transaction (@prod/queue's outbox): a note that commits always gets its job, even while
 * Redis is away (the relay hands it over later), and a rolled-back note never does. The other
 * operations are those of {@link sqlNotesStore}.
 */
export function outboxNotesStore(
  db: SqlClient,
  kind: 'pglite' | 'postgres',
  outbox: Outbox<NoteCreatedJob>,
  job: NoteCreatedJob,
): NotesStore {
  const store = sqlNotesStore(db, kind);
  return {
    ...store,
    async create(input, id) {
      return fromPromise(
        db.transaction(async (tx): Promise<Note> => {
          const created = await sqlNotesStore(tx, kind).create(input, id);
          if (!created.ok) throw new Rollback(created.error);
          const queued = await outbox.enqueue(tx, job, { id: created.value.id });
          if (!queued.ok) throw new Rollback(queued.error);
          return created.value;
        }),
        (reason): ProdError => (reason instanceof Rollback ? reason.error : ProdError.from(reason)),
      );
    },
  };
}

/**
 * A {@link NotesStore} that enqueues `notes.created` right after each note it creates: for the
 * memory store, which has no transaction to share with an outbox (and whose notes, like the
 * memory queue's jobs, end with the process). A refused enqueue (`QUEUE_FULL`, a closed queue)
 * does not undo the note: it goes to `onError`.
 */
export function enqueuingNotesStore(
  store: NotesStore,
  queue: Queue<NoteCreatedJob>,
  job: NoteCreatedJob,
  onError: (error: ProdError, note: Note) => void,
): NotesStore {
  return {
    ...store,
    async create(input, id): Promise<Result<Note, ProdError>> {
      const created = await store.create(input, id);
      if (!created.ok) return created;
      const queued = await queue.enqueue(job, { id: created.value.id });
      if (!queued.ok) onError(queued.error, created.value);
      return ok(created.value);
    },
  };
}
