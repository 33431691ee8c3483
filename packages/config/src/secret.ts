import { inspect } from 'node:util';
import type { z } from 'zod';
import { withMeta } from './internal/meta.js';

const REDACTED = '[REDACTED]';
const SECRET_BRAND = Symbol.for('@prod/config/secret');

/**
 * A secret value: redacted everywhere it could leak (`String()`, template literals,
 * `JSON.stringify`, `util.inspect`, `console.log`, loggers that call `toJSON`), readable only
 * through {@link Secret.reveal}.
 *
 * The value sits in a private field: `Object.keys`, spreading and `structuredClone` see nothing.
 *
 * @example
 * const password = new Secret('hunter2');
 * console.log(`${password}`); // [REDACTED]
 * console.log(JSON.stringify({ password })); // {"password":"[REDACTED]"}
 * password.reveal(); // 'hunter2'
 */
export class Secret<TValue = string> {
  readonly #value: TValue;
  /** Marks the instance for {@link isSecret} across module copies. */
  readonly [SECRET_BRAND] = true;

  constructor(value: TValue) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The value itself. Call it where the value is used, never where it is logged. */
  reveal(): TValue {
    return this.#value;
  }

  /** `[REDACTED]`. */
  toString(): string {
    return REDACTED;
  }

  /** `[REDACTED]`, so `JSON.stringify` and JSON loggers never print the value. */
  toJSON(): string {
    return REDACTED;
  }

  /** `[REDACTED]` for string and number conversions. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /** `Secret([REDACTED])` in `util.inspect` and `console.log`. */
  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** Whether `value` is a {@link Secret} (from any copy of this package). */
export function isSecret(value: unknown): value is Secret<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [SECRET_BRAND]?: unknown })[SECRET_BRAND] === true
  );
}

/**
 * Marks a schema key as a secret: its value is validated by `schema`, then wrapped in a
 * {@link Secret}, shown as `[REDACTED]` in errors, `describe()` and logs, and refused in
 * production when it comes from a default. Like every key, it is read also from
 * `<NAME>_FILE` (a Docker or Kubernetes secret file).
 *
 * Put defaults inside: `secret(z.string().default('dev-only'))`.
 *
 * @example
 * import { z } from 'zod';
 * const schema = z.object({ db: z.object({ password: secret(z.string().min(8)) }) });
 */
export function secret<TSchema extends z.ZodType>(
  schema: TSchema,
): z.ZodPipe<TSchema, z.ZodTransform<Secret<z.output<TSchema>>, z.output<TSchema>>> {
  return withMeta(
    schema.transform((value) => new Secret(value)),
    { secret: true },
  );
}

/** The text shown in place of a secret. */
export const REDACTED_TEXT: string = REDACTED;
