import { defineErrors } from '@prod/core';

/**
 * The error codes of @prod/config.
 *
 * - `CONFIG_INVALID`: the configuration does not satisfy its schema or a guard; `details.problems`
 *   lists every problem (key, source, expected, found; secrets shown as `[REDACTED]`). Thrown by
 *   `defineConfig` at startup, returned by `loadConfig`, `reload` and rejected runtime updates.
 * - `CONFIG_RESTART_REQUIRED`: a runtime update changes keys the schema does not declare
 *   reloadable; the whole update is refused (`details.keys`).
 * - `CONFIG_SOURCE_FAILED`: a runtime source (file, Redis, polling function) could not be read
 *   or parsed; the current configuration is kept.
 * - `CONFIG_LISTENER_FAILED`: an `onChange` listener threw (the change itself was applied).
 * - `CONFIG_INVALID_SCHEMA`: the schema cannot be used (not a `z.object`, two keys mapping to
 *   one environment variable, a forbidden key name).
 * - `CONFIG_INVALID_OPTIONS`: an option of `defineConfig`, a source, `createFlags` or a flag
 *   store is invalid (thrown at construction).
 * - `CONFIG_FLAG_INVALID`: a flag definition is malformed or does not fit the declared type;
 *   the flag keeps its previous definition.
 * - `CONFIG_FLAG_STORE_FAILED`: the shared flag store (Redis) could not be read or written.
 */
export const ConfigErrors = defineErrors({
  CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  CONFIG_RESTART_REQUIRED: { status: 409, title: 'Configuration change needs a restart' },
  CONFIG_SOURCE_FAILED: { status: 503, title: 'Configuration source failed', retryable: true },
  CONFIG_LISTENER_FAILED: { status: 500, title: 'Configuration listener failed' },
  CONFIG_INVALID_SCHEMA: { status: 500, title: 'Invalid configuration schema' },
  CONFIG_INVALID_OPTIONS: { status: 500, title: 'Invalid configuration options' },
  CONFIG_FLAG_INVALID: { status: 422, title: 'Invalid flag definition' },
  CONFIG_FLAG_STORE_FAILED: { status: 503, title: 'Flag store failed', retryable: true },
});
