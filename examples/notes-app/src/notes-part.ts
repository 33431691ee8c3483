import { type AuditResource, auditAction } from '@prod/audit';
import { httpCacheMeta } from '@prod/cache';
import {
  currentContext,
  definePart,
  type HttpRequest,
  json,
  type Part,
  type ProdError,
  RequestSlot,
} from '@prod/core';
import { rateLimitPolicy } from '@prod/ratelimit';
import { NotesErrors } from './notes-errors.js';
import type { NotesFlagReader } from './notes-flags.js';
import { notesWritePolicies } from './notes-limits.js';
import type { NotesStore } from './notes-store.js';
import { parseListOptions, parseNewNote, parseNotePatch } from './validate-note.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notFound(id: string): ProdError<'NOTE_NOT_FOUND'> {
  // The id is echoed only when it is one we could have issued.
  const message = UUID.test(id) ? `No note with id ${id}` : 'No such note';
  return NotesErrors.NOTE_NOT_FOUND({ message, captureStack: false });
}

/** The id of the path, or undefined when it cannot name a note (then: 404, no query). */
function noteId(request: HttpRequest): string | undefined {
  const id = request.params.id ?? '';
  return UUID.test(id) ? id.toLowerCase() : undefined;
}

const USER_ID = /^[\w.:@-]{1,200}$/;

/**
 * Who a flag is evaluated for: the authenticated actor when a part set one, else the caller's
 * `x-user-id` (a hint, not an identity: it only picks a rollout bucket), else the client IP.
 */
function targetingKey(request: HttpRequest): string {
  const actor = currentContext()?.actor?.id;
  if (actor !== undefined) return actor;
  const user = request.headers['x-user-id'];
  if (user !== undefined && USER_ID.test(user)) return user;
  return request.ip ?? 'anonymous';
}

/** The note a `POST` created, for its audit record (written after the answer). */
const createdNote = new RequestSlot<string>('notes/created');

/** The note an audit record is about: the id of the path (or the one created), when valid. */
function auditedNote(request: HttpRequest): AuditResource {
  const id = createdNote.get(request) ?? noteId(request);
  return id === undefined ? { type: 'note' } : { type: 'note', id };
}

/** What {@link notesPart} may be given beyond the store. */
export interface NotesPartOptions {
  /** The flags (`notes.search` gates `?q=`). Default none: every flag at its default, off. */
  readonly flags?: NotesFlagReader;
  /**
   * `POST /v1/notes` a minute, per client address and per API key (`NOTES_WRITE_LIMIT`):
   * the policies `notes-write-ip` and `notes-write` of {@link notesWritePolicies}, counted by
   * the rate-limit part. Default 60.
   */
  readonly writeLimit?: number;
}

/**
 * The notes API as a framework-neutral part, mounted by @prod/express, @prod/fastify or
 * @prod/koa:
 *
 * | route | answer |
 * | --- | --- |
 * | `POST /v1/notes` `{ title, body? }` | 201, the note, `Location` |
 * | `GET /v1/notes?limit=&offset=&q=` | 200, `{ items, limit, offset, q? }` |
 * | `GET /v1/notes/:id` | 200, the note |
 * | `PATCH /v1/notes/:id` `{ title?, body? }` | 200, the changed note |
 * | `DELETE /v1/notes/:id` | 204 |
 *
 * Bad input is `422 VALIDATION_FAILED` with field `errors`; a missing note `404 NOTE_NOT_FOUND`;
 * a storage failure the store's error (`503 UNAVAILABLE` when the database is down). Handlers
 * throw the error and the adapter answers it as problem+json.
 *
 * `q` (search in titles) is read only while the `notes.search` flag is on for the caller (the
 * actor, `x-user-id` or the IP); otherwise it is ignored, whatever it holds, and the answer has
 * no `q`.
 *
 * The routes carry metadata for the cross-cutting parts (they do nothing without them):
 *
 * - every write (`POST`, `PATCH`, `DELETE`) is audited by `auditPart` of @prod/audit, as
 *   `note.create`, `note.update`, `note.delete` with the note's id;
 * - `POST /v1/notes` is rate limited by `rateLimitPart` of @prod/ratelimit (`writeLimit` a
 *   minute per address and per API key);
 * - `GET /v1/notes/:id` gets a strong `ETag` and `Cache-Control: private, no-cache` from
 *   `httpCachePart` of @prod/cache: a client revalidates with `If-None-Match` and gets a `304`
 *   while the note is unchanged. Answers are not kept server-side: the note is cached below the
 *   encryption, as ciphertext (see `cachedNotesStore`).
 */
export function notesPart(store: NotesStore, options: NotesPartOptions = {}): Part {
  const { flags } = options;
  const writeLimit = options.writeLimit ?? 60;
  return definePart({
    name: 'notes',
    routes: [
      {
        method: 'POST',
        path: '/v1/notes',
        meta: {
          ...auditAction({ action: 'note.create', resource: auditedNote }),
          ...rateLimitPolicy({ policies: notesWritePolicies(writeLimit) }),
        },
        handler: async (request) => {
          const input = parseNewNote(request.body);
          if (!input.ok) throw input.error;
          const created = await store.create(input.value);
          if (!created.ok) throw created.error;
          createdNote.set(request, created.value.id);
          return json(201, created.value, { location: `/v1/notes/${created.value.id}` });
        },
      },
      {
        method: 'GET',
        path: '/v1/notes',
        handler: async (request) => {
          // Evaluated only for a search, so the flag's counts and staleness say who searched.
          const search =
            request.query.q !== undefined &&
            flags?.isEnabled('notes.search', { targetingKey: targetingKey(request) }) === true;
          const list = parseListOptions(request.query, { search });
          if (!list.ok) throw list.error;
          const listed = await store.list(list.value);
          if (!listed.ok) throw listed.error;
          return json(200, { items: listed.value, ...list.value });
        },
      },
      {
        method: 'GET',
        path: '/v1/notes/:id',
        // Private: notes will belong to their authors once @prod/security lands.
        meta: httpCacheMeta({ private: true, noCache: true }),
        handler: async (request) => {
          const id = noteId(request);
          if (id === undefined) throw notFound(request.params.id ?? '');
          const found = await store.get(id);
          if (!found.ok) throw found.error;
          if (found.value === undefined) throw notFound(id);
          return json(200, found.value);
        },
      },
      {
        method: 'PATCH',
        path: '/v1/notes/:id',
        meta: auditAction({ action: 'note.update', resource: auditedNote }),
        handler: async (request) => {
          const id = noteId(request);
          if (id === undefined) throw notFound(request.params.id ?? '');
          const patch = parseNotePatch(request.body);
          if (!patch.ok) throw patch.error;
          const updated = await store.update(id, patch.value);
          if (!updated.ok) throw updated.error;
          if (updated.value === undefined) throw notFound(id);
          return json(200, updated.value);
        },
      },
      {
        method: 'DELETE',
        path: '/v1/notes/:id',
        meta: auditAction({ action: 'note.delete', resource: auditedNote }),
        handler: async (request) => {
          const id = noteId(request);
          if (id === undefined) throw notFound(request.params.id ?? '');
          const removed = await store.remove(id);
          if (!removed.ok) throw removed.error;
          if (!removed.value) throw notFound(id);
          return { status: 204 };
        },
      },
    ],
  });
}
