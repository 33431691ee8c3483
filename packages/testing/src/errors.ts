import { defineErrors } from '@prod/core';

/** The codes @prod/testing's helpers throw. */
export const TestingErrors = defineErrors({
  TESTING_INVALID_OPTIONS: { status: 500, title: 'Invalid test helper options' },
  TESTING_FIXTURE_FAILED: { status: 500, title: 'A fixture process ended or fell silent' },
});
