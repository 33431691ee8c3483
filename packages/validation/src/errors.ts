import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/validation.
 *
 * - `VALIDATION_INVALID_INPUT` (400): the request's params, query, headers or body (or the
 *   input of `validate`) do not match their schemas; every failing field is in the problem's
 *   `errors` (`{ path, code, message }`, `path` a JSON Pointer such as `/body/title`).
 * - `VALIDATION_UNSAFE_INPUT` (400): input refused before validation: a prototype-polluting key
 *   (`__proto__`, `constructor`, `prototype`), nesting deeper than `maxDepth`, more keys than
 *   `maxKeys`, an array longer than `maxItems` or a string longer than `maxStringLength`.
 * - `VALIDATION_MALFORMED_JSON` (400): `safeJsonParse` was given text that is not JSON.
 * - `VALIDATION_RESPONSE_INVALID` (500): a handler answered a body that does not match the
 *   schema declared for its status (or a status it does not declare); the body is never sent,
 *   the client gets a bare 500, the field errors go to the log only.
 * - `VALIDATION_UNSUPPORTED_VERSION` (400): the requested API version is not one of the API's.
 * - `VALIDATION_VERSION_SUNSET` (410): the requested API version is past its sunset date and
 *   the API refuses it (`refuseAfterSunset`).
 * - `VALIDATION_INVALID_OPTIONS` (500): a route, API or document definition is invalid (thrown
 *   when it is defined, never at the first request).
 */
export const ValidationErrors = defineErrors({
  VALIDATION_INVALID_INPUT: { status: 400, title: 'Invalid input' },
  VALIDATION_UNSAFE_INPUT: { status: 400, title: 'Unsafe input' },
  VALIDATION_MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  VALIDATION_RESPONSE_INVALID: { status: 500, title: 'Internal Server Error' },
  VALIDATION_UNSUPPORTED_VERSION: { status: 400, title: 'Unsupported API version' },
  VALIDATION_VERSION_SUNSET: { status: 410, title: 'API version retired' },
  VALIDATION_INVALID_OPTIONS: { status: 500, title: 'Invalid validation options' },
});
