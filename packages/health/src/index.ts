export type { Beacon } from './beacons.js';
export { Beacons } from './beacons.js';
export type {
  CheckContext,
  CheckFunction,
  CheckKind,
  CheckOptions,
  CheckResult,
  ComponentType,
  HealthCheck,
  HealthLogger,
  HealthReport,
  HealthStatus,
  Observation,
} from './check.js';
export type { CustomCheckOptions, CustomCheckOutcome } from './checks/custom.js';
export { customCheck } from './checks/custom.js';
export type { DiskCheckOptions } from './checks/disk.js';
export { diskCheck } from './checks/disk.js';
export type { EventLoopLagCheckOptions } from './checks/event-loop-lag.js';
export { eventLoopLagCheck } from './checks/event-loop-lag.js';
export type { HeapCheckOptions } from './checks/heap.js';
export { heapCheck } from './checks/heap.js';
export type { HttpCheckOptions } from './checks/http.js';
export { httpCheck } from './checks/http.js';
export type { PoolUsage, PostgresCheckOptions, PostgresQueryable } from './checks/postgres.js';
export { poolUsage, postgresCheck } from './checks/postgres.js';
export type { PostgresPoolCheckOptions } from './checks/postgres-pool.js';
export { postgresPoolCheck } from './checks/postgres-pool.js';
export type { RedisCheckOptions, RedisPingClient } from './checks/redis.js';
export { redisCheck } from './checks/redis.js';
export type { Health, HealthOptions, RegisterError } from './create-health.js';
export { createHealth } from './create-health.js';
export { HealthErrors } from './errors.js';
export type { HealthPartOptions, HealthPaths } from './health-part.js';
export { bearerToken, healthPart } from './health-part.js';
export type { HealthJson, HealthJsonCheck, RenderOptions, ServiceInfo } from './health-response.js';
export { HEALTH_CONTENT_TYPE, healthResponse, renderHealth } from './health-response.js';
export type { ServerTimeouts, TimeoutServer } from './server-timeouts.js';
export { applyServerTimeouts, serverTimeouts } from './server-timeouts.js';
export type {
  ConnectionsReport,
  DrainableServer,
  HookReport,
  ShutdownController,
  ShutdownHook,
  ShutdownLogger,
  ShutdownOptions,
  ShutdownPhase,
  ShutdownReport,
} from './shutdown.js';
export { onShutdown } from './shutdown.js';
