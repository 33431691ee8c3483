import {
  currentContext,
  definePart,
  type HttpRequest,
  json,
  type Part,
  type ProdError,
} from '@prod/core';
import { NotesErrors } from './notes-errors.js';
import type { NotesFlagReader } from './notes-flags.js';
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

/** What {@link notesPart} may be given beyond the store. */
export interface NotesPartOptions {
  /** The flags (`notes.search` gates `?q=`). Default none: every flag at its default, off. */
  readonly flags?: NotesFlagReader;
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
 * `q` (search in titles and bodies) is read only while the `notes.search` flag is on for the
 * caller (the actor, `x-user-id` or the IP); otherwise it is ignored, whatever it holds, and the
 * answer has no `q`.
 */
export function notesPart(store: NotesStore, options: NotesPartOptions = {}): Part {
  const { flags } = options;
  return definePart({
    name: 'notes',
    routes: [
      {
        method: 'POST',
        path: '/v1/notes',
        handler: async (request) => {
          const input = parseNewNote(request.body);
          if (!input.ok) throw input.error;
          const created = await store.create(input.value);
          if (!created.ok) throw created.error;
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
