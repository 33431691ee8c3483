import type { Result } from '@prod/core';
import { sanitized, type ValidationError, validate } from '@prod/validation';
import * as z from 'zod';
import {
  MAX_BODY_LENGTH,
  MAX_SEARCH_LENGTH,
  MAX_TITLE_LENGTH,
  type NewNote,
  type NotePatch,
} from './note.js';

/**
 * The most field errors a `400 VALIDATION_INVALID_INPUT` lists (`details.errorCount` has the
 * total): a hostile body of a thousand unknown keys gets a short answer.
 */
export const MAX_FIELD_ERRORS = 20;

// Strings arrive with control and invisible characters removed and in NFC (the routes' default
// sanitization), then trimmed here. A NUL never gets this far: the adapters refuse it in a body
// (`400 INVALID_TEXT`), since PostgreSQL text cannot hold one.
const text = (max: number, min: number) =>
  sanitized(
    z
      .string()
      .min(min, { error: 'must not be empty' })
      .max(max, { error: `must be at most ${max} characters` }),
    ['trim'],
  );
const title = text(MAX_TITLE_LENGTH, 1);
const body = text(MAX_BODY_LENGTH, 0);

/** A stored note, as every answer carries it (component `Note` of the OpenAPI document). */
export const NoteSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    body: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({
    id: 'Note',
    description: 'A note; `body` is stored encrypted and answered in clear',
    examples: [
      {
        id: '0b7c6f1e-8a57-4f5b-a3f4-8f3d7e2b9c10',
        title: 'Groceries',
        body: 'milk, eggs',
        createdAt: '2025-03-01T09:30:00.000Z',
        updatedAt: '2025-03-01T09:30:00.000Z',
      },
    ],
  });

/** The body of `POST /v1/notes`: a title (1-200 characters once trimmed), a body, nothing else. */
export const NewNoteBody = z
  .strictObject({ title, body: body.default('') })
  .meta({ id: 'NewNote', description: 'A note to create' });

/** The body of `PATCH /v1/notes/:id`: the same fields, each optional, at least one. */
export const NotePatchBody = z
  .strictObject({ title: title.optional(), body: body.optional() })
  .refine((patch) => patch.title !== undefined || patch.body !== undefined, {
    error: 'must change title or body',
  })
  .meta({ id: 'NotePatch', description: 'The fields of a note to change' });

/**
 * The query of `GET /v1/notes`. `q` is declared for the document, but parsed by the route only
 * while the `notes.search` flag is on (see {@link parseSearch}): with the flag off it is
 * ignored whatever it holds (`catch`), repeated, 10 kB or a NUL included.
 */
export const ListQuery = z.object({
  limit: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .meta({ description: 'Notes on the page, 1 to 100' }),
  offset: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(0)
    .meta({ description: 'Notes skipped, in creation order' }),
  q: z
    .string()
    .optional()
    .catch(undefined)
    .meta({
      description: `Only notes whose title holds this text, any case (1-${MAX_SEARCH_LENGTH} characters once trimmed; % and _ are plain characters); read only while the notes.search flag is on for the caller`,
    }),
});

/** A page of `GET /v1/notes` (component `NotePage`). */
export const NotePage = z
  .object({
    items: z.array(NoteSchema),
    limit: z.number().int(),
    offset: z.number().int(),
    q: z.string().optional().meta({ description: 'The search, when one was made' }),
  })
  .meta({ id: 'NotePage', description: 'A page of notes, in creation order' });

// `isWellFormed` is ES2024 (Node 20 has it; the ES2022 lib types do not).
type WellFormedString = string & { isWellFormed(): boolean };

const searchText = z
  .string({ error: 'must be given once' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(MAX_SEARCH_LENGTH, { error: `must be at most ${MAX_SEARCH_LENGTH} characters` })
  // PostgreSQL text cannot hold a NUL; a lone surrogate would be replaced on its way there.
  .refine((value) => !value.includes('\u0000') && (value as WellFormedString).isWellFormed(), {
    error: 'must not hold a NUL character or an unpaired surrogate',
  });

/**
 * Checks the body of `POST /v1/notes` outside HTTP (the route validates the same schema):
 * sanitized, trimmed, a title of 1-200 characters, a body of at most 10,000 (default empty),
 * nothing else.
 *
 * @returns `Ok(NewNote)`, or `Err` `VALIDATION_INVALID_INPUT` listing each bad field in
 * `errors` (`/title`, `/extra`...), at most 20; `VALIDATION_UNSAFE_INPUT` for a prototype key.
 */
export function parseNewNote(input: unknown): Result<NewNote, ValidationError> {
  return validate(NewNoteBody, input, { maxErrors: MAX_FIELD_ERRORS });
}

/**
 * Checks the body of `PATCH /v1/notes/:id` outside HTTP: like {@link parseNewNote}, every
 * field optional, at least one present.
 *
 * @returns `Ok(NotePatch)`, or `Err` `VALIDATION_INVALID_INPUT` with field `errors`.
 */
export function parseNotePatch(input: unknown): Result<NotePatch, ValidationError> {
  return validate(NotePatchBody, input, { maxErrors: MAX_FIELD_ERRORS }) as Result<
    NotePatch,
    ValidationError
  >;
}

/**
 * Checks a search text (`?q=`, as it arrived) for `GET /v1/notes` while the `notes.search`
 * flag is on: given once, 1-200 characters once trimmed, invisible characters removed and NFC
 * (as titles are stored), no NUL character and no unpaired surrogate. A NUL is refused rather
 * than removed: the search would otherwise be for another text than the one sent.
 *
 * @returns `Ok(text)`, or `Err` `VALIDATION_INVALID_INPUT` with one error on `path` (default
 * `/query/q`).
 */
export function parseSearch(q: unknown, path = '/query/q'): Result<string, ValidationError> {
  return validate(searchText, q, {
    path,
    maxErrors: MAX_FIELD_ERRORS,
    sanitize: { strings: ['stripInvisible', 'nfc'] },
  });
}
