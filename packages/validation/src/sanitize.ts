import { domainToASCII } from 'node:url';
import * as z from 'zod';
import { ValidationErrors } from './errors.js';
import type { SanitizeStep, Schema } from './types.js';

/** The steps every string goes through unless told otherwise. */
// Removal first: taking out a character between a letter and a combining mark can make text
// that is no longer in NFC.
export const DEFAULT_STRING_STEPS: readonly SanitizeStep[] = Object.freeze([
  'stripControl',
  'stripInvisible',
  'nfc',
]);

// C0 controls but tab, LF and CR; DEL; C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const INVISIBLE = /[\u00ad\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const HTML_SPECIAL = /[&<>"']/g;
const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const SCRIPT_OR_STYLE = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const TAG = /<\/?[a-z!?][^>]*>/gi;
const ANGLE = /[<>]/g;

/** The built-in steps, as functions. */
export const sanitizers: {
  readonly trim: (value: string) => string;
  readonly nfc: (value: string) => string;
  readonly stripControl: (value: string) => string;
  readonly stripInvisible: (value: string) => string;
  readonly escapeHtml: (value: string) => string;
  readonly stripHtml: (value: string) => string;
  readonly lowercase: (value: string) => string;
  readonly email: (value: string) => string;
  readonly url: (value: string) => string;
} = Object.freeze({
  trim: (value: string): string => value.trim(),
  nfc: (value: string): string => value.normalize('NFC'),
  stripControl: (value: string): string => value.replace(CONTROL, ''),
  stripInvisible: (value: string): string => value.replace(INVISIBLE, ''),
  escapeHtml: (value: string): string =>
    value.replace(HTML_SPECIAL, (char) => HTML_ENTITIES[char] ?? char),
  stripHtml: (value: string): string =>
    value.replace(SCRIPT_OR_STYLE, '').replace(TAG, '').replace(ANGLE, ''),
  lowercase: (value: string): string => value.toLowerCase(),
  email: normalizeEmail,
  url: normalizeUrl,
});

function normalizeEmail(value: string): string {
  const trimmed = value.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return trimmed;
  const domain = trimmed.slice(at + 1).toLowerCase();
  const ascii = domainToASCII(domain);
  return `${trimmed.slice(0, at)}@${ascii === '' ? domain : ascii}`;
}

function normalizeUrl(value: string): string {
  const trimmed = value.trim();
  if (!URL.canParse(trimmed)) return trimmed;
  return new URL(trimmed).href;
}

/** A step as a function; throws `VALIDATION_INVALID_OPTIONS` for an unknown name. */
export function stepFunction(step: SanitizeStep): (value: string) => string {
  if (typeof step === 'function') return step;
  const known = Object.hasOwn(sanitizers, step)
    ? sanitizers[step as keyof typeof sanitizers]
    : undefined;
  if (known === undefined) {
    throw ValidationErrors.VALIDATION_INVALID_OPTIONS({
      message: `Unknown sanitize step "${String(step).slice(0, 40)}"`,
      details: {
        option: 'sanitize',
        expected: `one of ${Object.keys(sanitizers).join(', ')} or a function`,
        received: String(step).slice(0, 40),
      },
    });
  }
  return known;
}

/**
 * Applies `steps` to `value`, in order. A cheap path skips the Unicode steps (`nfc`,
 * `stripControl`, `stripInvisible`) for printable ASCII, which they leave unchanged.
 *
 * @example
 * sanitizeString('  <b>Ｈello</b>\u200b ', ['trim', 'stripHtml', 'stripInvisible']); // 'Ｈello'
 */
export function sanitizeString(value: string, steps: readonly SanitizeStep[]): string {
  let out = value;
  for (const step of steps) out = stepFunction(step)(out);
  return out;
}

/** What {@link sanitized} records about a field. */
export interface FieldSanitizer {
  readonly steps: readonly SanitizeStep[];
  /** Whether the route's default string steps run first. */
  readonly defaults: boolean;
}

/** Where {@link sanitized} records fields' steps (keyed by the schema instance it returns). */
export const sanitizeRegistry: z.core.$ZodRegistry<FieldSanitizer> = z.registry<FieldSanitizer>();

/**
 * A copy of `schema` whose strings go through `steps` before validation, when it is a field
 * of a route's (or {@link validate}'s) input: per-field sanitization that leaves the schema
 * itself, and so the OpenAPI document, unchanged. The route's default string steps run first
 * unless `defaults` is false (a password field that must stay byte for byte).
 *
 * @example
 * import * as z from 'zod';
 * const signup = z.object({
 *   email: sanitized(z.email(), ['email']),
 *   name: sanitized(z.string().min(1).max(80), ['trim', 'stripHtml']),
 *   password: sanitized(z.string().min(12), [], { defaults: false }),
 * });
 */
export function sanitized<TSchema extends Schema>(
  schema: TSchema,
  steps: readonly SanitizeStep[],
  options: { readonly defaults?: boolean } = {},
): TSchema {
  for (const step of steps) stepFunction(step);
  const checked = Object.freeze([...steps]);
  const copy = z.core.clone(schema, schema._zod.def) as TSchema;
  const meta = z.globalRegistry.get(schema);
  if (meta !== undefined) z.globalRegistry.add(copy, meta);
  sanitizeRegistry.add(copy, { steps: checked, defaults: options.defaults !== false });
  return copy;
}
