// Revocation notices over the real Redis: an instance that cached a key drops it as soon as
// another instance revokes it, well within its cache TTL.
import { createApiKeys, memoryKeyStore, redisRevocationChannel } from '@prod/security';
import { redisTestUrl } from '@prod/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';

const redis = await redisTestUrl();
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  await redis.cleanup();
});

function connect(): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

describe.skipIf(!redis.available)('redisRevocationChannel (skipped: Redis not reachable)', () => {
  it('evicts the revoked key on every instance at once', async () => {
    const channel = `${redis.keyPrefix}api-key-revoked`;
    const store = memoryKeyStore();
    const secret = 'a-server-secret-of-at-least-32-bytes!!';
    const errors: unknown[] = [];
    const instance = () => {
      const publisher = connect();
      return createApiKeys({
        secret,
        store,
        cacheTtl: 60_000,
        revocations: redisRevocationChannel({
          publisher,
          subscriber: connect(),
          channel,
          onError: (e) => errors.push(e),
        }),
      });
    };
    const probe = connect();
    const a = instance();
    const b = instance();
    const issued = await a.issue({ owner: 'svc', scopes: ['x'] });
    if (!issued.ok) throw issued.error;
    // Both subscriptions must be live before the notice is sent.
    await vi.waitFor(async () => {
      const [, count] = (await probe.pubsub('NUMSUB', channel)) as [string, number];
      expect(count).toBe(2);
    });
    expect((await b.verify(issued.value.token)).ok).toBe(true);
    expect((await a.revoke(issued.value.key.id)).ok).toBe(true);
    await vi.waitFor(async () => {
      const result = await b.verify(issued.value.token);
      expect(!result.ok && result.error.code).toBe('SECURITY_TOKEN_REVOKED');
    });
    expect(errors).toEqual([]);
    a.close();
    b.close();
  });

  it('ignores messages on the channel that are not key ids', async () => {
    const channel = `${redis.keyPrefix}noise`;
    const seen: string[] = [];
    const probe = connect();
    const subscriber = connect();
    const revocations = redisRevocationChannel({ publisher: connect(), subscriber, channel });
    const stop = revocations.subscribe((id) => seen.push(id));
    await vi.waitFor(async () => {
      const [, count] = (await probe.pubsub('NUMSUB', channel)) as [string, number];
      expect(count).toBe(1);
    });
    const publisher = connect();
    await publisher.publish(channel, 'x'.repeat(500));
    await publisher.publish(channel, 'has space');
    await revocations.publish('key-1');
    await vi.waitFor(() => expect(seen).toEqual(['key-1']));
    stop();
  });
});
