import { definePart, type HttpRequest, json, type Part, type ProdError } from '@prod/core';
import { NotesErrors } from './notes-errors.js';
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

/**
 * The notes API as a framework-neutral part, mounted by @prod/express, @prod/fastify or
 * @prod/koa:
 *
 * | route | answer |
 * | --- | --- |
 * | `POST /v1/notes` `{ title, body? }` | 201, the note, `Location` |
 * | `GET /v1/notes?limit=&offset=` | 200, `{ items, limit, offset }` |
 * | `GET /v1/notes/:id` | 200, the note |
 * | `PATCH /v1/notes/:id` `{ title?, body? }` | 200, the changed note |
 * | `DELETE /v1/notes/:id` | 204 |
 *
 * Bad input is `422 VALIDATION_FAILED` with field `errors`; a missing note `404 NOTE_NOT_FOUND`;
 * a storage failure the store's error (`503 UNAVAILABLE` when the database is down). Handlers
 * throw the error and the adapter answers it as problem+json.
 */
export function notesPart(store: NotesStore): Part {
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
          const options = parseListOptions(request.query);
          if (!options.ok) throw options.error;
          const listed = await store.list(options.value);
          if (!listed.ok) throw listed.error;
          return json(200, { items: listed.value, ...options.value });
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
