import { randomBytes } from 'node:crypto';
import type { QueueDriver } from '@prod/queue';
import { bullmqDriver } from '@prod/queue/bullmq';
import { redisTestUrl } from '@prod/testing';
import { afterAll, describe } from 'vitest';
import { behaviourSuite } from './support/behaviour.js';

const redis = await redisTestUrl();
afterAll(() => redis.cleanup());

// Each driver gets a prefix of its own under the file's random one; a peer shares it.
const prefixes = new WeakMap<QueueDriver, string>();
const make = (prefix: string): QueueDriver => {
  const driver = bullmqDriver({
    connection: redis.url,
    prefix,
    // Short locks and stall checks keep the suite fast; defaults are 30 s.
    lockDurationMs: 1000,
    stalledIntervalMs: 500,
  });
  prefixes.set(driver, prefix);
  return driver;
};

describe.skipIf(!redis.available)('BullMQ (skipped: Redis not reachable)', () => {
  behaviourSuite('BullMQ driver', {
    driver: () => make(`${redis.keyPrefix}${randomBytes(4).toString('hex')}`),
    peer: (driver) => make(prefixes.get(driver) as string),
  });
});
