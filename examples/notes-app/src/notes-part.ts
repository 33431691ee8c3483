import { type AuditResource, auditAction } from '@prod/audit';
import { httpCacheMeta } from '@prod/cache';
import {
  currentContext,
  type HttpRequest,
  type Part,
  type ProdError,
  RequestSlot,
} from '@prod/core';
import { rateLimitPolicy } from '@prod/ratelimit';
import { routeAuth } from '@prod/security';
import {
  apiPart,
  defineRoute,
  type OpenApiInfo,
  problemResponse,
  type SecurityScheme,
} from '@prod/validation';
import * as z from 'zod';
import { NotesErrors } from './notes-errors.js';
import type { NotesFlagReader } from './notes-flags.js';
import { notesWritePolicies } from './notes-limits.js';
import type { NotesStore } from './notes-store.js';
import {
  ListQuery,
  MAX_FIELD_ERRORS,
  NewNoteBody,
  NotePage,
  NotePatchBody,
  NoteSchema,
  parseSearch,
} from './validate-note.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The scope an API key needs for `POST`, `PATCH` and `DELETE` (the demo key has it). */
export const WRITE_SCOPE = 'notes:write';
/** The scope of `GET /v1/queues`, the background jobs' listing (an operator's key). */
export const QUEUES_SCOPE = 'queues:read';

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

/**
 * The security schemes of the document: an API key (`notes_...`, from `NOTES_API_KEY` or the
 * demo key of the start banner) in `X-API-Key`, or the same key as a bearer token.
 */
export const NOTES_SECURITY_SCHEMES: Readonly<Record<string, SecurityScheme>> = {
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: `An API key with the ${WRITE_SCOPE} scope (\`notes_\` and 38 characters)`,
  },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The same API key, as `Authorization: Bearer <key>`',
  },
};

/** The document's `info`. */
export const NOTES_API_INFO: OpenApiInfo = {
  title: 'Notes API',
  version: '1.0.0',
  description:
    'The notes API of the @prod examples. Reads are public; writes need an API key with the notes:write scope. Errors are RFC 9457 problem details.',
  license: { name: 'MIT', identifier: 'MIT' },
};

const writes = [{ apiKey: [WRITE_SCOPE] }, { bearer: [WRITE_SCOPE] }] as const;
const reads = [{}, { apiKey: [] }, { bearer: [] }] as const;

const idParams = z.object({
  id: z.string().meta({ description: 'The note id (a UUID)', format: 'uuid' }),
});

const responseHeader = (description: string) => ({ schema: z.string(), description });
const rateLimitHeaders = {
  ratelimit: responseHeader('What is left of each write limit (IETF draft)'),
  'ratelimit-policy': responseHeader('The write limits of this key (IETF draft)'),
};
// Every route may answer these: credentials sent but refused (even on a public read), and a
// storage failure.
const common = {
  401: {
    ...problemResponse('The API key is missing (writes), unknown, expired or revoked'),
    headers: {
      'www-authenticate': responseHeader('The challenge (RFC 6750): `Bearer realm="api"`'),
    },
  },
  503: problemResponse('The database or the API key store cannot answer; retry later'),
} as const;
const forbidden = { 403: problemResponse(`The API key lacks the ${WRITE_SCOPE} scope`) } as const;
const missing = { 404: problemResponse('No such note') } as const;

/** What {@link notesPart} may be given beyond the store. */
export interface NotesPartOptions {
  /** The flags (`notes.search` gates `?q=`). Default none: every flag at its default, off. */
  readonly flags?: NotesFlagReader;
  /**
   * `POST /v1/notes` a minute per API key (`NOTES_WRITE_LIMIT`): the policies `notes-write` and
   * `notes-write-ip` (five times it per address) of {@link notesWritePolicies}, counted by the
   * rate-limit part. Default 60.
   */
  readonly writeLimit?: number;
}

/**
 * The notes API as one framework-neutral part of @prod/validation (`apiPart`), mounted by
 * @prod/express, @prod/fastify or @prod/koa. Every route is a `defineRoute`: its params, query
 * and body parsed by zod schemas (sanitized, coerced, every failure listed), its handler typed
 * by them, its answers checked against the declared responses, and the whole API described by
 * an OpenAPI 3.1 document:
 *
 * | route | answer |
 * | --- | --- |
 * | `POST /v1/notes` `{ title, body? }` | 201, the note, `Location` |
 * | `GET /v1/notes?limit=&offset=&q=` | 200, `{ items, limit, offset, q? }` |
 * | `GET /v1/notes/:id` | 200, the note |
 * | `PATCH /v1/notes/:id` `{ title?, body? }` | 200, the changed note |
 * | `DELETE /v1/notes/:id` | 204 |
 * | `GET /openapi.json`, `GET /docs` | the document, and its HTML reference page |
 *
 * Bad input is `400 VALIDATION_INVALID_INPUT` with field `errors` (`/body/title`,
 * `/query/limit`; at most 20); a missing note `404 NOTE_NOT_FOUND` (an id that is not a UUID
 * included, without a query); a storage failure the store's error (`503 UNAVAILABLE` when the
 * database is down). Handlers throw the error and the adapter answers it as problem+json.
 *
 * `q` (search in titles) is read only while the `notes.search` flag is on for the caller (the
 * actor, `x-user-id` or the IP); otherwise it is ignored, whatever it holds, and the answer has
 * no `q`.
 *
 * The routes carry metadata for the cross-cutting parts (they do nothing without them):
 *
 * - writes need an API key with the `notes:write` scope, reads are public (`routeAuth` of
 *   @prod/security, enforced by `authPart`, which sets the actor that audit and limits read);
 * - every write (`POST`, `PATCH`, `DELETE`) is audited by `auditPart` of @prod/audit, as
 *   `note.create`, `note.update`, `note.delete` with the note's id and the actor;
 * - `POST /v1/notes` is rate limited by `rateLimitPart` of @prod/ratelimit (`writeLimit` a
 *   minute per verified API key, times its tier);
 * - `GET /v1/notes/:id` gets a strong `ETag` and `Cache-Control: private, no-cache` from
 *   `httpCachePart` of @prod/cache: a client revalidates with `If-None-Match` and gets a `304`
 *   while the note is unchanged. Answers are not kept server-side: the note is cached below the
 *   encryption, as ciphertext (see `cachedNotesStore`).
 */
export function notesPart(store: NotesStore, options: NotesPartOptions = {}): Part {
  const { flags } = options;
  const writeLimit = options.writeLimit ?? 60;
  const writeAuth = routeAuth({ scopes: [WRITE_SCOPE] });
  const readAuth = routeAuth({ auth: 'optional' });

  const createNote = defineRoute({
    method: 'POST',
    path: '/v1/notes',
    operationId: 'createNote',
    summary: 'Create a note',
    tags: ['notes'],
    security: writes,
    maxErrors: MAX_FIELD_ERRORS,
    meta: {
      ...writeAuth,
      ...auditAction({ action: 'note.create', resource: auditedNote }),
      ...rateLimitPolicy({ policies: notesWritePolicies(writeLimit) }),
    },
    request: {
      body: NewNoteBody,
      examples: { hello: { title: 'Hello', body: 'My first note' } },
    },
    responses: {
      201: {
        schema: NoteSchema,
        description: 'The note, created',
        headers: { location: responseHeader('The path of the note'), ...rateLimitHeaders },
      },
      ...common,
      ...forbidden,
      429: {
        ...problemResponse('Over the write limit of this key; `Retry-After` says when to retry'),
        headers: { 'retry-after': responseHeader('Seconds to wait'), ...rateLimitHeaders },
      },
    },
    handler: async ({ body, request, reply }) => {
      const created = await store.create(body);
      if (!created.ok) throw created.error;
      createdNote.set(request, created.value.id);
      return reply(201, created.value, { location: `/v1/notes/${created.value.id}` });
    },
  });

  const listNotes = defineRoute({
    method: 'GET',
    path: '/v1/notes',
    operationId: 'listNotes',
    summary: 'List notes',
    description:
      'In creation order. `q` filters by title only while the notes.search feature flag is on for the caller; otherwise it is ignored and the answer has no `q`.',
    tags: ['notes'],
    security: reads,
    maxErrors: MAX_FIELD_ERRORS,
    meta: readAuth,
    request: { query: ListQuery },
    responses: { 200: NotePage, ...common },
    handler: async ({ query, request, reply }) => {
      const raw = request.query.q;
      // Evaluated only for a search, so the flag's counts and staleness say who searched.
      const search =
        raw !== undefined &&
        flags?.isEnabled('notes.search', { targetingKey: targetingKey(request) }) === true;
      let q: string | undefined;
      if (search) {
        const parsed = parseSearch(raw);
        if (!parsed.ok) throw parsed.error;
        q = parsed.value;
      }
      const options = {
        limit: query.limit,
        offset: query.offset,
        ...(q === undefined ? {} : { q }),
      };
      const listed = await store.list(options);
      if (!listed.ok) throw listed.error;
      return reply(200, { items: listed.value, ...options });
    },
  });

  const getNote = defineRoute({
    method: 'GET',
    path: '/v1/notes/:id',
    operationId: 'getNote',
    summary: 'Get a note',
    tags: ['notes'],
    security: reads,
    // Private: notes will belong to their authors once keys have owners of their own.
    meta: { ...readAuth, ...httpCacheMeta({ private: true, noCache: true }) },
    request: { params: idParams },
    responses: {
      200: {
        schema: NoteSchema,
        description: 'The note',
        headers: {
          etag: responseHeader('A strong validator: send it back in If-None-Match'),
          'cache-control': responseHeader('`private, no-cache`'),
        },
      },
      304: { schema: null, description: 'Unchanged since the ETag of If-None-Match' },
      ...common,
      ...missing,
    },
    handler: async ({ request, reply }) => {
      const id = noteId(request);
      if (id === undefined) throw notFound(request.params.id ?? '');
      const found = await store.get(id);
      if (!found.ok) throw found.error;
      if (found.value === undefined) throw notFound(id);
      return reply(200, found.value);
    },
  });

  const patchNote = defineRoute({
    method: 'PATCH',
    path: '/v1/notes/:id',
    operationId: 'updateNote',
    summary: 'Change a note',
    tags: ['notes'],
    security: writes,
    maxErrors: MAX_FIELD_ERRORS,
    meta: { ...writeAuth, ...auditAction({ action: 'note.update', resource: auditedNote }) },
    request: { params: idParams, body: NotePatchBody },
    responses: { 200: NoteSchema, ...common, ...forbidden, ...missing },
    handler: async ({ body, request, reply }) => {
      const id = noteId(request);
      if (id === undefined) throw notFound(request.params.id ?? '');
      const patch = {
        ...(body.title === undefined ? {} : { title: body.title }),
        ...(body.body === undefined ? {} : { body: body.body }),
      };
      const updated = await store.update(id, patch);
      if (!updated.ok) throw updated.error;
      if (updated.value === undefined) throw notFound(id);
      return reply(200, updated.value);
    },
  });

  const deleteNote = defineRoute({
    method: 'DELETE',
    path: '/v1/notes/:id',
    operationId: 'deleteNote',
    summary: 'Delete a note',
    tags: ['notes'],
    security: writes,
    meta: { ...writeAuth, ...auditAction({ action: 'note.delete', resource: auditedNote }) },
    request: { params: idParams },
    responses: {
      204: { schema: null, description: 'Deleted' },
      ...common,
      ...forbidden,
      ...missing,
    },
    handler: async ({ request, reply }) => {
      const id = noteId(request);
      if (id === undefined) throw notFound(request.params.id ?? '');
      const removed = await store.remove(id);
      if (!removed.ok) throw removed.error;
      if (!removed.value) throw notFound(id);
      return reply(204);
    },
  });

  return apiPart({
    name: 'notes',
    routes: [createNote, listNotes, getNote, patchNote, deleteNote],
    openapi: {
      info: NOTES_API_INFO,
      securitySchemes: NOTES_SECURITY_SCHEMES,
      tags: [{ name: 'notes', description: 'Notes: titles in clear, bodies encrypted at rest' }],
    },
  });
}
