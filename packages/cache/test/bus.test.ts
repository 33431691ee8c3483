import { type BusListener, type CacheStore, createCache, memoryStore } from '@prod/cache';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory store whose bus the test drives: connection state and raw messages. */
function drivenStore(): { store: CacheStore; listeners: Set<BusListener> } {
  const inner = memoryStore();
  const listeners = new Set<BusListener>();
  const store: CacheStore = Object.assign(Object.create(inner) as CacheStore, {
    subscribe(listener: BusListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
  return { store, listeners };
}

const broadcast = (listeners: Set<BusListener>, event: (listener: BusListener) => void): void => {
  for (const listener of listeners) event(listener);
};

describe('the invalidation bus', () => {
  it('caps L1 lifetimes while disconnected, and starts L1 afresh on reconnect', async () => {
    const { store, listeners } = drivenStore();
    const cache = createCache({ l2: store, jitter: 0, ttl: 60_000, l1: { disconnectedTtl: 150 } });
    const states: boolean[] = [];
    cache.on('bus', ({ connected }) => states.push(connected));
    broadcast(listeners, (l) => l.state(true));
    await cache.set('before', 1);
    broadcast(listeners, (l) => l.state(false));
    expect(cache.stats().bus.connected).toBe(false);
    await store.delete(['before']); // an invalidation this instance never hears of
    expect(await cache.get('before')).toBe(1); // L1, for now
    await sleep(250);
    expect(await cache.get('before')).toBeUndefined(); // capped: gone after 150 ms

    await cache.set('during', 2);
    broadcast(listeners, (l) => l.state(true));
    // Reconnected: invalidations sent meanwhile were lost, so L1 was emptied.
    expect(cache.stats().l1.size).toBe(0);
    expect(await cache.get('during')).toBe(2); // from L2
    expect(states).toEqual([true, false, true]);
  });

  it("drops a key on another instance's message, ignores its own and malformed ones", async () => {
    const { store, listeners } = drivenStore();
    const cache = createCache({ l2: store, jitter: 0 });
    broadcast(listeners, (l) => l.state(true));
    await cache.set('a', 1);
    await cache.set('b', 2);
    for (const junk of [
      'not json',
      '42',
      'null',
      '{"o":"d","k":"a"}',
      '{"o":"d","k":[1,{},null]}',
      '{"o":"x","k":["a"]}',
      '{"o":"c","p":5}',
      '{"__proto__":{"o":"c","p":""}}',
    ]) {
      broadcast(listeners, (l) => l.message(junk));
    }
    expect(await cache.getMany(['a', 'b'])).toEqual([1, 2]);
    expect(cache.stats().l1.size).toBe(2);
    broadcast(listeners, (l) =>
      l.message(JSON.stringify({ i: 'another-instance', o: 'd', k: ['a'] })),
    );
    expect(cache.stats().l1.size).toBe(1);
    broadcast(listeners, (l) =>
      l.message(JSON.stringify({ i: 'another-instance', o: 'c', p: '' })),
    );
    expect(cache.stats().l1.size).toBe(0);
  });

  it('does not keep an L2 read that an invalidation overtook', async () => {
    const { store, listeners } = drivenStore();
    const writer = createCache({ l2: store, jitter: 0 });
    await writer.set('k', 'old');
    const slow: CacheStore = Object.assign(Object.create(store) as CacheStore, {
      async get(key: string) {
        const value = await store.get(key);
        await sleep(40); // the read's answer is on its way...
        return value;
      },
    });
    const reader = createCache({ l2: slow, jitter: 0 });
    broadcast(listeners, (l) => l.state(true));
    const reading = reader.get('k');
    await sleep(10);
    // ...when another instance publishes that the key changed.
    broadcast(listeners, (l) => l.message(JSON.stringify({ i: 'other', o: 'd', k: ['k'] })));
    expect(await reading).toBe('old');
    expect(reader.stats().l1.size).toBe(0);
  });

  it('publishes nothing and caps nothing with bus: false', async () => {
    const { store, listeners } = drivenStore();
    const cache = createCache({ l2: store, bus: false, l1: { disconnectedTtl: 10 } });
    expect(listeners.size).toBe(0);
    expect(cache.stats().bus.enabled).toBe(false);
    await cache.set('k', 1);
    await sleep(30);
    expect(await cache.get('k')).toBe(1);
    expect(cache.stats().l1.hits).toBe(1);
  });

  it('unsubscribes on close', async () => {
    const { store, listeners } = drivenStore();
    const cache = createCache({ l2: store });
    expect(listeners.size).toBe(1);
    await cache.close();
    expect(listeners.size).toBe(0);
  });
});

describe('the bus across namespaces', () => {
  it("drops only its own namespace's keys, and all of them on a clear above it", async () => {
    const shared = memoryStore();
    const notes = createCache({ namespace: 'notes', l2: shared });
    const http = createCache({ namespace: 'http', l2: shared });
    const root = createCache({ l2: shared });
    await sleep(5);
    await notes.set('k', 'note');
    await http.set('k', 'page');
    await http.namespace('v1').set('k', 'nested');
    await notes.delete('k');
    await sleep(5);
    // http:k is another key: its L1 copy stays.
    expect(http.stats().l1.size).toBe(2);
    await root.clear('http');
    await sleep(5);
    expect(http.stats().l1.size).toBe(0);
    expect(await http.get('k')).toBeUndefined();
    await notes.set('again', 1);
    await root.clear();
    await sleep(5);
    expect(notes.stats().l1.size).toBe(0);
  });
});

describe('tags', () => {
  it('invalidates tagged entries in L1 and L2, on every instance, and nothing else', async () => {
    const shared = memoryStore();
    const a = createCache({ namespace: 'notes', l2: shared, jitter: 0 });
    const b = createCache({ namespace: 'notes', l2: shared, jitter: 0 });
    const http = createCache({ namespace: 'http', l2: shared, jitter: 0 });
    await a.set('1', { title: 'one' }, { tags: ['note:1', 'notes'] });
    await a.set('2', { title: 'two' }, { tags: ['note:2', 'notes'] });
    await http.set('GET /notes/1', 'response', { tags: ['note:1'] });
    expect(await b.getMany(['1', '2'])).toEqual([{ title: 'one' }, { title: 'two' }]);
    expect(await a.invalidateTags(['note:1'])).toEqual({ ok: true, value: undefined });
    await sleep(5);
    expect(await a.get('1')).toBeUndefined();
    expect(await b.get('1')).toBeUndefined();
    // Tags cross namespaces: the HTTP response filed under note:1 went too.
    expect(await http.get('GET /notes/1')).toBeUndefined();
    expect(await b.get('2')).toEqual({ title: 'two' });
    await b.invalidateTags(['notes']);
    await sleep(5);
    expect(await a.get('2')).toBeUndefined();
  });

  it('keeps an entry written after the invalidation', async () => {
    const cache = createCache({ jitter: 0 });
    await cache.set('k', 'old', { tags: ['t'] });
    await cache.invalidateTags(['t']);
    await cache.set('k', 'new', { tags: ['t'] });
    expect(await cache.get('k')).toBe('new');
  });

  it('refuses bad tags with CACHE_INVALID_OPTIONS', async () => {
    const cache = createCache();
    expect(await cache.invalidateTags('t' as never)).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.invalidateTags([''])).toMatchObject({
      ok: false,
      error: { code: 'CACHE_INVALID_OPTIONS' },
    });
    expect(await cache.invalidateTags([])).toEqual({ ok: true, value: undefined });
  });
});
