import { defineErrors, isProdError, MAX_TIMER_MS, optionChecks } from '@prod/core';
import { describe, expect, it } from 'vitest';

const TestErrors = defineErrors({
  TEST_INVALID_OPTIONS: { status: 500, title: 'Invalid test options' },
});
const check = optionChecks(TestErrors.TEST_INVALID_OPTIONS);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('optionChecks', () => {
  it('returns the value, or the default for undefined', () => {
    expect(check.number('ratio', 0.5, 1)).toBe(0.5);
    expect(check.number('ratio', undefined, 1)).toBe(1);
    expect(check.integer('size', 3, 1, { min: 1 })).toBe(3);
    expect(check.duration('ttl', 0, 10)).toBe(0);
    expect(check.boolean('on', false, true)).toBe(false);
    expect(check.string('name', undefined, 'x')).toBe('x');
    expect(check.oneOf('mode', 'b', ['a', 'b'], 'a')).toBe('b');
    expect(check.fn('cb', undefined)).toBeUndefined();
    expect(check.object('nested', undefined)).toEqual({});
  });

  it('throws the package error naming the option, what was expected and what was found', () => {
    const error = thrown(() => check.integer('maxSize', -1, 10, { min: 1 }));
    expect(isProdError(error, 'TEST_INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe('option maxSize must be an integer >= 1, got -1');
    expect((error as { details?: unknown }).details).toEqual({
      option: 'maxSize',
      expected: 'an integer >= 1',
      received: '-1',
    });
  });

  it.each([
    ['NaN', Number.NaN],
    ['a string', '10'],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['below the minimum', -0.1],
  ])('refuses %s as a number', (_label, value) => {
    expect(isProdError(thrown(() => check.number('n', value, 1)))).toBe(true);
  });

  it('accepts Infinity only where allowed', () => {
    expect(check.duration('timeout', Number.POSITIVE_INFINITY, 1, { allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(isProdError(thrown(() => check.duration('timeout', Number.POSITIVE_INFINITY, 1)))).toBe(
      true,
    );
  });

  it('bounds durations by what setTimeout honours, and respects exclusive minimums', () => {
    expect(check.duration('d', MAX_TIMER_MS, 1)).toBe(MAX_TIMER_MS);
    expect(isProdError(thrown(() => check.duration('d', MAX_TIMER_MS + 1, 1)))).toBe(true);
    expect(isProdError(thrown(() => check.number('p', 0, 1, { exclusiveMin: true })))).toBe(true);
    expect(check.number('p', 0.001, 1, { exclusiveMin: true })).toBe(0.001);
    expect(isProdError(thrown(() => check.integer('i', 1.5, 1)))).toBe(true);
  });

  it('checks booleans, strings, choices, functions and objects', () => {
    expect(isProdError(thrown(() => check.boolean('b', 'true', false)))).toBe(true);
    expect(isProdError(thrown(() => check.string('s', '', 'x', { nonEmpty: true })))).toBe(true);
    const choice = thrown(() => check.oneOf('mode', 'c', ['a', 'b'], 'a')) as Error;
    expect(choice.message).toBe('option mode must be one of "a", "b", got the string "c"');
    expect(isProdError(thrown(() => check.fn('cb', 'not a function')))).toBe(true);
    expect(isProdError(thrown(() => check.object('o', [])))).toBe(true);
    expect(isProdError(thrown(() => check.object('o', null)))).toBe(true);
  });

  it('cuts long strings out of the message', () => {
    const error = thrown(() => check.integer('n', 'x'.repeat(500), 1)) as Error;
    expect(error.message.length).toBeLessThan(120);
  });

  it('fail throws the same error for checks of your own', () => {
    const error = thrown(() => check.fail('sinks', 'a non-empty list', [])) as Error;
    expect(error.message).toBe('option sinks must be a non-empty list, got an array');
  });
});
