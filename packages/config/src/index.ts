export type {
  ChangeListener,
  Config,
  ConfigFile,
  ConfigGuard,
  ConfigOptions,
  ConfigSchema,
} from './define-config.js';
export { defineConfig, loadConfig } from './define-config.js';
export { ConfigErrors } from './errors.js';
export { fromEnv, reloadable } from './schema-helpers.js';
export { isSecret, Secret, secret } from './secret.js';
export type {
  ConfigChange,
  ConfigEntry,
  ConfigPath,
  ConfigProblem,
  DeepPartial,
  DeepReadonly,
  PathValue,
  RuntimeSink,
  RuntimeSource,
} from './types.js';
