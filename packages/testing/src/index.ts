export type { AdapterBoot, BootedServer } from './conformance/run-adapter-conformance.js';
export { runAdapterConformance } from './conformance/run-adapter-conformance.js';
export type {
  ObservabilityBoot,
  ObservedServer,
} from './conformance/run-observability-conformance.js';
export { runObservabilityConformance } from './conformance/run-observability-conformance.js';
export type { FakeClock, FakeClockOptions } from './fake-clock.js';
export { useFakeClock } from './fake-clock.js';
export { installMatchers, resultMatchers } from './matchers.js';
export type { PostgresTestDatabase, PostgresTestOptions } from './postgres-test.js';
export { postgresTestDatabase } from './postgres-test.js';
export type { RedisTestOptions, RedisTestTarget } from './redis-test.js';
export { redisTestUrl } from './redis-test.js';
