import {
  DEFAULT_STRING_STEPS,
  type SanitizeStep,
  sanitizeString,
  validate,
} from '@prod/validation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';

// The walk over an input skips the Unicode steps when one scan of a string shows they have
// nothing to do; `sanitizeString` always runs every step. Both must agree on every string.

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));

const units = fc.constantFrom(
  ...range(0x20, 0x7e),
  ...range(0x00, 0x1f),
  ...range(0x7f, 0xa0),
  '\u00ad',
  '\u00e9',
  '\u00c5',
  '\u00ff',
  '\u02ff',
  '\u180e',
  ...range(0x2009, 0x2010),
  ...range(0x2028, 0x202f),
  ...range(0x205f, 0x206a),
  '\ufeff',
  '\ufffe',
  ...range(0x0300, 0x0310),
  '\u0340',
  '\u0344',
  '\u0f73',
  '\u212b',
  '\u1100',
  '\u1161',
  '\u11a8',
  '\uac00',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ud83d\ude00',
  '&',
  '<',
  '>',
  '"',
  "'",
  '<script>',
  '</b>',
);
const text = fc.oneof(
  fc.string({ unit: units, maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 8 }),
  fc.string({ maxLength: 24 }),
);
const unicodeSteps = fc.array(
  fc.constantFrom<SanitizeStep>('nfc', 'stripControl', 'stripInvisible'),
  {
    maxLength: 4,
  },
);

describe('the sanitizers\u2019 fast path', () => {
  it('leaves alone only what NFC leaves alone: every code unit below U+0300, and every pair', () => {
    const below = range(0x00, 0x2ff);
    for (const first of below) {
      expect(first.normalize('NFC')).toBe(first);
      for (const second of below) {
        const pair = first + second;
        if (pair.normalize('NFC') !== pair) expect.fail(`${escape(pair)} is not NFC-stable`);
      }
    }
  });

  it('gives what the full default pipeline gives, for any string', () => {
    fc.assert(
      fc.property(text, (value) => {
        const result = validate(z.string(), value);
        expect(result.ok && result.value).toBe(sanitizeString(value, DEFAULT_STRING_STEPS));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives what the full pipeline gives inside objects and arrays', () => {
    const Shape = z.object({ name: z.string(), tags: z.array(z.string()), extra: z.unknown() });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 3 }), text, (name, tags, extra) => {
        const result = validate(Shape, { name, tags, extra: { deep: [extra] } });
        const full = (value: string): string => sanitizeString(value, DEFAULT_STRING_STEPS);
        expect(result.ok && result.value).toEqual({
          name: full(name),
          tags: tags.map(full),
          extra: { deep: [full(extra)] },
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives what the full pipeline gives for any order of the Unicode steps', () => {
    fc.assert(
      fc.property(text, unicodeSteps, (value, steps) => {
        const result = validate(z.string(), value, { sanitize: { strings: steps } });
        expect(result.ok && result.value).toBe(sanitizeString(value, steps));
      }),
      { numRuns: 2000 },
    );
  });
});
