import { CoreErrors, defineErrors, isProdError, ProdError } from '@prod/core';
import { describe, expect, it } from 'vitest';

const NoteErrors = defineErrors({
  NOTE_NOT_FOUND: { status: 404, title: 'Note not found' },
  NOTE_STORE_DOWN: { status: 503, title: 'Note store unavailable', retryable: true },
  NOTE_LOCKED: { status: 423, title: 'Note locked', expose: false, type: 'https://e.x/locked' },
});

describe('defineErrors', () => {
  it('builds a ProdError per code with the catalogue status, title and retryable', () => {
    const error = NoteErrors.NOTE_NOT_FOUND();
    expect(isProdError(error, 'NOTE_NOT_FOUND')).toBe(true);
    expect(error).toBeInstanceOf(ProdError);
    expect(error).toMatchObject({
      code: 'NOTE_NOT_FOUND',
      status: 404,
      title: 'Note not found',
      message: 'Note not found',
      retryable: false,
      expose: true,
    });
    expect(NoteErrors.NOTE_STORE_DOWN()).toMatchObject({ retryable: true, expose: false });
    expect(NoteErrors.NOTE_LOCKED()).toMatchObject({ expose: false, type: 'https://e.x/locked' });
  });

  it('takes a string as the message', () => {
    const error = NoteErrors.NOTE_NOT_FOUND('No note 42');
    expect(error.message).toBe('No note 42');
    expect(error.toProblem().detail).toBe('No note 42');
  });

  it('takes per-occurrence options, but never overrides code, status or title', () => {
    const cause = new Error('io');
    const error = NoteErrors.NOTE_STORE_DOWN({
      message: 'down',
      cause,
      details: { shard: 2 },
      retryAfterMs: 2000,
      retryable: false,
      ...({ code: 'HIJACK', status: 200, title: 'ok' } as object),
    });
    expect(error).toMatchObject({
      code: 'NOTE_STORE_DOWN',
      status: 503,
      title: 'Note store unavailable',
      message: 'down',
      details: { shard: 2 },
      retryAfterMs: 2000,
      retryable: false,
    });
    expect(error.cause).toBe(cause);
  });

  it('exposes code, status and title on each factory', () => {
    expect(NoteErrors.NOTE_NOT_FOUND.code).toBe('NOTE_NOT_FOUND');
    expect(NoteErrors.NOTE_NOT_FOUND.status).toBe(404);
    expect(NoteErrors.NOTE_NOT_FOUND.title).toBe('Note not found');
  });

  it('.is guards by code, including for errors from another factory', () => {
    expect(NoteErrors.NOTE_NOT_FOUND.is(NoteErrors.NOTE_NOT_FOUND())).toBe(true);
    expect(NoteErrors.NOTE_NOT_FOUND.is(NoteErrors.NOTE_LOCKED())).toBe(false);
    expect(NoteErrors.NOTE_NOT_FOUND.is(new ProdError({ code: 'NOTE_NOT_FOUND' }))).toBe(true);
    expect(
      NoteErrors.NOTE_NOT_FOUND.is(Object.assign(new Error(), { code: 'NOTE_NOT_FOUND' })),
    ).toBe(false);
    expect(NoteErrors.NOTE_NOT_FOUND.is(null)).toBe(false);
  });

  it('rejects codes that are not SCREAMING_SNAKE', () => {
    for (const code of [
      'notFound',
      'not_found',
      'NOT-FOUND',
      '_NOT',
      'NOT_',
      'NOT__FOUND',
      '1A',
      '',
    ]) {
      expect(() => defineErrors({ [code]: { status: 400, title: 't' } }), code).toThrow(TypeError);
    }
    expect(() => defineErrors({ A1_B2: { status: 400, title: 't' } })).not.toThrow();
  });

  it('rejects a __proto__ key given as an own property', () => {
    const hostile = JSON.parse('{"__proto__": {"status": 400, "title": "t"}}');
    expect(() => defineErrors(hostile)).toThrow(TypeError);
  });

  it('freezes the catalogue and its factories', () => {
    expect(Object.isFrozen(NoteErrors)).toBe(true);
    expect(Object.isFrozen(NoteErrors.NOTE_NOT_FOUND)).toBe(true);
    expect(() => {
      (NoteErrors as Record<string, unknown>).NOTE_NEW = () => 1;
    }).toThrow(TypeError);
    expect(() => {
      (NoteErrors.NOTE_NOT_FOUND as { status: number }).status = 200;
    }).toThrow(TypeError);
  });

  it('is not changed by later edits of the definitions object', () => {
    const definitions = { LATE_EDIT: { status: 400, title: 'Before' } };
    const catalogue = defineErrors(definitions);
    definitions.LATE_EDIT.status = 200;
    definitions.LATE_EDIT.title = 'After';
    expect(catalogue.LATE_EDIT().status).toBe(400);
    expect(catalogue.LATE_EDIT().title).toBe('Before');
  });
});

describe('CoreErrors', () => {
  it('has the shared codes with their statuses', () => {
    const statuses = Object.fromEntries(
      Object.entries(CoreErrors).map(([code, factory]) => [code, factory.status]),
    );
    expect(statuses).toEqual({
      INTERNAL: 500,
      TIMEOUT: 504,
      ABORTED: 499,
      UNAVAILABLE: 503,
      BAD_REQUEST: 400,
      MALFORMED_JSON: 400,
      FORBIDDEN_KEY: 400,
      INVALID_TEXT: 400,
      MALFORMED_ENCODING: 400,
      VALIDATION_FAILED: 422,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      METHOD_NOT_ALLOWED: 405,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
    });
  });

  it('marks only the transient ones retryable', () => {
    const retryable = Object.values(CoreErrors)
      .filter((factory) => factory().retryable)
      .map((factory) => factory.code);
    expect(retryable.sort()).toEqual(['RATE_LIMITED', 'TIMEOUT', 'UNAVAILABLE']);
  });

  it('agrees with ProdError.from on the code, status, title and retryable it produces', () => {
    const controller = new AbortController();
    controller.abort();
    const cases = [
      [controller.signal.reason, CoreErrors.ABORTED],
      [Object.assign(new Error(), { name: 'TimeoutError' }), CoreErrors.TIMEOUT],
      [Object.assign(new Error(), { code: 'ECONNRESET' }), CoreErrors.UNAVAILABLE],
      [new Error('bug'), CoreErrors.INTERNAL],
    ] as const;
    for (const [thrown, factory] of cases) {
      const fromThrown = ProdError.from(thrown);
      const reference = factory();
      expect(fromThrown.code).toBe(reference.code);
      expect(fromThrown.status).toBe(reference.status);
      expect(fromThrown.title).toBe(reference.title);
      expect(fromThrown.retryable).toBe(reference.retryable);
    }
  });
});
