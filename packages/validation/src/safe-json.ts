import { err, type OptionChecks, ok, optionChecks, type ProdError, type Result } from '@prod/core';
import { ValidationErrors } from './errors.js';
import { unsafeError } from './internal/check-input.js';
import { compileSanitizer, resolveLimits, sanitizeValue } from './internal/sanitize-walk.js';
import type { InputLimits } from './types.js';

/** Bounds of {@link safeJsonParse}. */
export interface SafeJsonOptions extends InputLimits {
  /** Longest text accepted, in UTF-16 code units. Default 1,000,000. */
  readonly maxLength?: number;
}

const check: OptionChecks = optionChecks(ValidationErrors.VALIDATION_INVALID_OPTIONS);
const NO_STEPS = compileSanitizer(undefined, { strings: [] });

/**
 * Parses JSON text that comes from outside (a queue message, a webhook, a file) and refuses
 * what could hurt later: `__proto__`, `constructor` and `prototype` keys at any depth (also
 * when spelled with escapes such as `\u005f_proto__`), nesting deeper than `maxDepth`, more
 * than `maxKeys` keys, arrays over `maxItems`, strings over `maxStringLength`, text over
 * `maxLength`. The parser's own message is not kept: it can quote the input.
 *
 * @returns `Ok` with the value, `Err` `VALIDATION_MALFORMED_JSON` for text that is not JSON or is
 * too long, or `Err` `VALIDATION_UNSAFE_INPUT` with the refused key's JSON Pointer.
 *
 * @example
 * const parsed = safeJsonParse('{"a":{"__proto__":{"admin":true}}}');
 * if (!parsed.ok) console.log(parsed.error.code, parsed.error.errors?.[0]?.path); // VALIDATION_UNSAFE_INPUT /a/__proto__
 */
export function safeJsonParse(
  text: string,
  options: SafeJsonOptions = {},
): Result<unknown, ProdError<'VALIDATION_MALFORMED_JSON' | 'VALIDATION_UNSAFE_INPUT'>> {
  const maxLength = check.integer('maxLength', options.maxLength, 1_000_000, { min: 1 });
  const limits = resolveLimits(options, (name, value, fallback) =>
    check.integer(name.replace('limits.', ''), value, fallback, { min: 1 }),
  );
  if (typeof text !== 'string') {
    return err(
      ValidationErrors.VALIDATION_MALFORMED_JSON({
        message: 'Expected JSON text',
        captureStack: false,
      }),
    );
  }
  if (text.length > maxLength) {
    return err(
      ValidationErrors.VALIDATION_MALFORMED_JSON({
        message: `The text is longer than ${maxLength} characters`,
        details: { maxLength },
        captureStack: false,
      }),
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err(
      ValidationErrors.VALIDATION_MALFORMED_JSON({
        message: 'The text is not valid JSON',
        captureStack: false,
      }),
    );
  }
  const walked = sanitizeValue(value, NO_STEPS, limits, '');
  return walked.ok ? ok(walked.value) : err(unsafeError(walked.refusal));
}
