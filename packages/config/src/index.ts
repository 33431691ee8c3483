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
export { configFlagSource } from './flags/config-flag-source.js';
export type { Flags, FlagsOptions } from './flags/create-flags.js';
export { createFlags } from './flags/create-flags.js';
export type {
  BooleanFlagKeys,
  FlagDeclaration,
  FlagDeclarations,
  FlagOptions,
  FlagType,
  FlagValueOf,
} from './flags/flag.js';
export { flag } from './flags/flag.js';
export type {
  FlagCondition,
  FlagDefinition,
  FlagOperator,
  FlagRule,
  JsonValue,
} from './flags/flag-definition.js';
export {
  FLAG_OPERATORS,
  flagConditionSchema,
  flagDefinitionSchema,
  flagDefinitions,
  flagRuleSchema,
} from './flags/flag-definition.js';
export type { MemoryFlagSource } from './flags/memory-flag-source.js';
export { memoryFlagSource } from './flags/memory-flag-source.js';
export type { RedisFlagStore, RedisFlagStoreOptions } from './flags/redis-flag-store.js';
export { redisFlagStore } from './flags/redis-flag-store.js';
export { inRollout, ROLLOUT_BUCKETS, rolloutBucket } from './flags/rollout.js';
export type {
  FlagContext,
  FlagErrorCode,
  FlagEvaluation,
  FlagEvaluationCounter,
  FlagReason,
  FlagSource,
  FlagUsageStore,
  StaleFlag,
} from './flags/types.js';
export type { RedisCommandClient, RedisSubscriberClient } from './internal/redis.js';
export { fromEnv, reloadable } from './schema-helpers.js';
export { isSecret, Secret, secret } from './secret.js';
export type { FileSourceOptions } from './sources/file-source.js';
export { fileSource } from './sources/file-source.js';
export type { PollingSourceOptions } from './sources/polling-source.js';
export { pollingSource } from './sources/polling-source.js';
export type { RedisSource, RedisSourceOptions } from './sources/redis-source.js';
export { redisSource } from './sources/redis-source.js';
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
