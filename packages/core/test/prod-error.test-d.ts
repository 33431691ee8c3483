import {
  type CoreErrors,
  currentContext,
  defineErrors,
  type ErrorFactory,
  type ErrorOf,
  isProdError,
  type ProblemDetails,
  ProdError,
  type SerializedError,
} from '@prod/core';
import { describe, expectTypeOf, it } from 'vitest';

const NoteErrors = defineErrors({
  NOTE_NOT_FOUND: { status: 404, title: 'Note not found' },
  NOTE_LOCKED: { status: 423, title: 'Note locked' },
});

describe('ProdError', () => {
  it('carries its code as a literal type', () => {
    const error = new ProdError({ code: 'NOTE_NOT_FOUND', status: 404 });
    expectTypeOf(error).toEqualTypeOf<ProdError<'NOTE_NOT_FOUND'>>();
    expectTypeOf(error.code).toEqualTypeOf<'NOTE_NOT_FOUND'>();
    expectTypeOf(error).toExtend<Error>();
    expectTypeOf(ProdError.from('x')).toEqualTypeOf<ProdError>();
  });

  it('serializes to typed shapes', () => {
    const error = new ProdError({ code: 'X' });
    expectTypeOf(error.toJSON()).toEqualTypeOf<SerializedError>();
    expectTypeOf(error.toProblem()).toEqualTypeOf<ProblemDetails>();
  });

  it('toProblem takes optional values straight from the request context', () => {
    const context = currentContext();
    const problem = new ProdError({ code: 'X' }).toProblem({
      requestId: context?.requestId,
      traceId: context?.traceId,
      instance: undefined,
    });
    expectTypeOf(problem).toEqualTypeOf<ProblemDetails>();
  });

  it('requires a code and rejects unknown options', () => {
    // @ts-expect-error code is required
    new ProdError({ status: 500 });
    // @ts-expect-error no such option
    new ProdError({ code: 'X', stack: 'x' });
  });
});

describe('defineErrors', () => {
  it('gives one factory per code, returning ProdError<CODE>', () => {
    expectTypeOf(NoteErrors.NOTE_NOT_FOUND).toEqualTypeOf<ErrorFactory<'NOTE_NOT_FOUND'>>();
    expectTypeOf(NoteErrors.NOTE_NOT_FOUND()).toEqualTypeOf<ProdError<'NOTE_NOT_FOUND'>>();
    expectTypeOf(NoteErrors.NOTE_LOCKED('msg')).toEqualTypeOf<ProdError<'NOTE_LOCKED'>>();
    expectTypeOf(NoteErrors.NOTE_NOT_FOUND.code).toEqualTypeOf<'NOTE_NOT_FOUND'>();
    // @ts-expect-error not in the catalogue
    void NoteErrors.NOTE_MISSING;
  });

  it('does not let an occurrence override code, status or title', () => {
    // @ts-expect-error code comes from the catalogue
    NoteErrors.NOTE_NOT_FOUND({ code: 'OTHER' });
    // @ts-expect-error status comes from the catalogue
    NoteErrors.NOTE_NOT_FOUND({ status: 200 });
    NoteErrors.NOTE_NOT_FOUND({ message: 'm', details: { id: 1 }, cause: new Error() });
  });

  it('ErrorOf is the ProdError over the union of the codes', () => {
    expectTypeOf<ErrorOf<typeof NoteErrors>>().toEqualTypeOf<
      ProdError<'NOTE_NOT_FOUND' | 'NOTE_LOCKED'>
    >();
    expectTypeOf<ErrorOf<typeof CoreErrors>['code']>().toEqualTypeOf<
      | 'INTERNAL'
      | 'TIMEOUT'
      | 'ABORTED'
      | 'UNAVAILABLE'
      | 'BAD_REQUEST'
      | 'MALFORMED_JSON'
      | 'FORBIDDEN_KEY'
      | 'INVALID_TEXT'
      | 'MALFORMED_ENCODING'
      | 'VALIDATION_FAILED'
      | 'UNAUTHORIZED'
      | 'FORBIDDEN'
      | 'NOT_FOUND'
      | 'METHOD_NOT_ALLOWED'
      | 'CONFLICT'
      | 'PAYLOAD_TOO_LARGE'
      | 'UNSUPPORTED_MEDIA_TYPE'
      | 'RATE_LIMITED'
    >();
  });

  it('a factory error fits ErrorOf of its catalogue', () => {
    expectTypeOf(NoteErrors.NOTE_LOCKED()).toExtend<ErrorOf<typeof NoteErrors>>();
  });
});

describe('guards', () => {
  it('isProdError narrows unknown, and by code', () => {
    const thrown: unknown = null;
    if (isProdError(thrown)) expectTypeOf(thrown).toEqualTypeOf<ProdError>();
    if (isProdError(thrown, 'NOTE_LOCKED')) {
      expectTypeOf(thrown).toEqualTypeOf<ProdError<'NOTE_LOCKED'>>();
      expectTypeOf(thrown.code).toEqualTypeOf<'NOTE_LOCKED'>();
    }
  });

  it('a factory .is narrows to its code', () => {
    const thrown: unknown = null;
    if (NoteErrors.NOTE_NOT_FOUND.is(thrown)) {
      expectTypeOf(thrown).toEqualTypeOf<ProdError<'NOTE_NOT_FOUND'>>();
    }
  });
});
