export { runAdapterConformance } from './conformance/run-adapter-conformance.js';
export type {
  ObservabilityBoot,
  ObservedServer,
} from './conformance/run-observability-conformance.js';
export { runObservabilityConformance } from './conformance/run-observability-conformance.js';
export type { AdapterBoot, BootedServer, NativeRoutes } from './conformance/types.js';
export { TestingErrors } from './errors.js';
export type { FakeClock, FakeClockOptions } from './fake-clock.js';
export { useFakeClock } from './fake-clock.js';
export { fakeRequest } from './fake-request.js';
export type { Listenable } from './listen.js';
export { listen } from './listen.js';
export { installMatchers, resultMatchers } from './matchers.js';
export type { PostgresTestDatabase, PostgresTestOptions } from './postgres-test.js';
export { postgresTestDatabase } from './postgres-test.js';
export type { RecordedResponse, RecordingPart } from './recording-part.js';
export { recordingPart } from './recording-part.js';
export type {
  RedisClusterOptions,
  RedisClusterServers,
  RedisSentinelOptions,
  RedisSentinelServers,
  RedisServer,
  RedisServerOptions,
} from './redis-servers.js';
export {
  redisCommand,
  redisCommandStats,
  redisServerAvailable,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
} from './redis-servers.js';
export type { RedisTestOptions, RedisTestTarget } from './redis-test.js';
export { redisTestUrl } from './redis-test.js';
export type { FixtureExit, FixtureOptions, FixtureProcess, LineMatcher } from './spawn-fixture.js';
export { spawnFixture, stopFixtures } from './spawn-fixture.js';
