import { PROBLEM_CONTENT_TYPE } from '@prod/core';
import * as z from 'zod';
import type { ResponseObject } from './types.js';

/** One field error of a problem's `errors` list, as a zod schema (component `FieldError`). */
export const FieldErrorSchema = z
  .object({
    path: z.string().meta({ description: 'JSON Pointer of the field (`/body/title`)' }),
    code: z
      .string()
      .optional()
      .meta({ description: 'What is wrong (`invalid_type`, `too_big`...)' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError', description: 'One failing field' });

/**
 * An RFC 9457 problem details body as @prod answers it (component `Problem`): the standard
 * members, the stable `code`, the request id, and field `errors` for validation failures.
 */
export const ProblemSchema = z
  .looseObject({
    type: z
      .string()
      .meta({ description: 'A URI naming the problem type (`urn:prod:problem:<CODE>`)' }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().meta({ description: 'The stable error code' }),
    requestId: z.string().optional(),
    traceId: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    retryAfter: z.number().int().min(0).optional(),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details',
    examples: [
      {
        type: 'urn:prod:problem:VALIDATION_INVALID_INPUT',
        title: 'Invalid input',
        status: 400,
        code: 'VALIDATION_INVALID_INPUT',
        detail: 'The request does not match the route\u2019s schemas',
        errors: [
          {
            path: '/body/title',
            code: 'too_small',
            message: 'Too small: expected string to have >=1 characters',
          },
        ],
        requestId: '0b7c6f1e-8a57-4f5b-a3f4-8f3d7e2b9c10',
      },
    ],
  });

/**
 * A response declaration for an error a handler throws (`404: problemResponse('No such
 * note')`): documented as `application/problem+json` with the {@link ProblemSchema}.
 *
 * @example
 * const responses = { 404: problemResponse('No such note'), 409: problemResponse('The title is taken') };
 */
export function problemResponse(description?: string): ResponseObject<typeof ProblemSchema> {
  return description === undefined
    ? { schema: ProblemSchema, contentType: PROBLEM_CONTENT_TYPE }
    : { schema: ProblemSchema, contentType: PROBLEM_CONTENT_TYPE, description };
}
