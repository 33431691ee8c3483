import { CoreErrors, err, type FieldError, ok, type ProdError, type Result } from '@prod/core';
import { type ZodError, type ZodType, z } from 'zod';
import {
  type ListOptions,
  MAX_BODY_LENGTH,
  MAX_SEARCH_LENGTH,
  MAX_TITLE_LENGTH,
  type NewNote,
  type NotePatch,
} from './note.js';

// A hostile body with thousands of unknown keys must not produce a thousand-entry answer.
const MAX_FIELD_ERRORS = 20;

const text = (max: number, required: boolean) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(required ? 1 : 0, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` });

const newNoteSchema = z.strictObject(
  { title: text(MAX_TITLE_LENGTH, true), body: text(MAX_BODY_LENGTH, false).default('') },
  { error: 'must be a JSON object' },
);

const notePatchSchema = z
  .strictObject(
    {
      title: text(MAX_TITLE_LENGTH, true).optional(),
      body: text(MAX_BODY_LENGTH, false).optional(),
    },
    { error: 'must be a JSON object' },
  )
  .refine((patch) => patch.title !== undefined || patch.body !== undefined, {
    error: 'must change title or body',
  });

const count = (max: number, fallback: number) =>
  z
    .string({ error: 'must be given once' })
    .regex(/^\d{1,6}$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().max(max, { error: `must be at most ${max}` }))
    .default(fallback);

// `isWellFormed` is ES2024 (Node 20 has it; the ES2022 lib types do not).
type WellFormedString = string & { isWellFormed(): boolean };

const listSchema = z.object({
  limit: count(100, 50).pipe(z.number().min(1, { error: 'must be at least 1' })),
  offset: count(100_000, 0),
  q: z
    .string({ error: 'must be given once' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_SEARCH_LENGTH, { error: `must be at most ${MAX_SEARCH_LENGTH} characters` })
    // PostgreSQL text cannot hold a NUL; a lone surrogate would be replaced on its way there.
    .refine((text) => !text.includes('\u0000') && (text as WellFormedString).isWellFormed(), {
      error: 'must not hold a NUL character or an unpaired surrogate',
    })
    .optional(),
});

function fieldErrors(error: ZodError): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: `/${[...base, key].join('/')}`, message: 'is not a known field' });
      }
    } else {
      errors.push({
        path: base.length === 0 ? '' : `/${base.join('/')}`,
        message: issue.message,
      });
    }
  }
  return errors.slice(0, MAX_FIELD_ERRORS);
}

function validate<TValue>(
  schema: ZodType<TValue>,
  input: unknown,
  what: string,
): Result<TValue, ProdError<'VALIDATION_FAILED'>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  return err(
    CoreErrors.VALIDATION_FAILED({
      message: `The ${what} is not valid`,
      errors: fieldErrors(parsed.error),
      captureStack: false,
    }),
  );
}

/**
 * Checks the body of `POST /v1/notes`: a JSON object with a `title` (1-200 characters after
 * trimming) and an optional `body` (at most 10,000), nothing else.
 *
 * @returns `Ok(NewNote)`, or `Err` `VALIDATION_FAILED` listing each bad field as `errors`
 * (`/title`, `/extra`...), at most 20 of them.
 */
export function parseNewNote(input: unknown): Result<NewNote, ProdError<'VALIDATION_FAILED'>> {
  return validate(newNoteSchema, input, 'note');
}

/**
 * Checks the body of `PATCH /v1/notes/:id`: like {@link parseNewNote}, every field optional,
 * at least one present.
 *
 * @returns `Ok(NotePatch)`, or `Err` `VALIDATION_FAILED` with field `errors`.
 */
export function parseNotePatch(input: unknown): Result<NotePatch, ProdError<'VALIDATION_FAILED'>> {
  return validate(notePatchSchema, input, 'change') as Result<
    NotePatch,
    ProdError<'VALIDATION_FAILED'>
  >;
}

/** What {@link parseListOptions} reads beyond paging. */
export interface ListQueryOptions {
  /** Read `q` (the `notes.search` flag is on for this caller). Default false: `q` is ignored. */
  readonly search?: boolean;
}

/**
 * Checks the query of `GET /v1/notes`: `limit` (1-100, default 50), `offset` (default 0) and,
 * with `search`, `q` (1-200 characters after trimming, given once, no NUL character). Without
 * `search`, `q` is not looked at, whatever it holds.
 *
 * @returns `Ok(ListOptions)`, or `Err` `VALIDATION_FAILED` with field `errors`.
 */
export function parseListOptions(
  query: Readonly<Record<string, string | readonly string[] | undefined>>,
  options: ListQueryOptions = {},
): Result<ListOptions, ProdError<'VALIDATION_FAILED'>> {
  const input = {
    limit: query.limit,
    offset: query.offset,
    ...(options.search === true && query.q !== undefined ? { q: query.q } : {}),
  };
  return validate(listSchema, input, 'query') as Result<
    ListOptions,
    ProdError<'VALIDATION_FAILED'>
  >;
}
