export type { FakeClock, FakeClockOptions } from './fake-clock.js';
export { useFakeClock } from './fake-clock.js';
export { installMatchers, resultMatchers } from './matchers.js';
export type { PostgresTestDatabase, PostgresTestOptions } from './postgres-test.js';
export { postgresTestDatabase } from './postgres-test.js';
export type { RedisTestOptions, RedisTestTarget } from './redis-test.js';
export { redisTestUrl } from './redis-test.js';
