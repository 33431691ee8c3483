// The contract every CacheStore passes: memory, Redis (single server, Sentinel) and Redis
// Cluster run this same suite. Each test uses keys of its own, so one store serves them all.
import { randomBytes } from 'node:crypto';
import type { BusListener, CacheStore } from '@prod/cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A store under test, and a second store on the same backend (another "instance"). */
export interface StoreFixture {
  readonly store: CacheStore;
  readonly peer: CacheStore;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the next message a listener subscribed to `store` receives. */
function nextMessage(store: CacheStore): {
  message: Promise<string>;
  connected: Promise<void>;
  stop: () => void;
} {
  let stop = (): void => {};
  let connectedResolve = (): void => {};
  const connected = new Promise<void>((resolve) => {
    connectedResolve = resolve;
  });
  const message = new Promise<string>((resolve) => {
    const listener: BusListener = {
      message: (text) => resolve(text),
      state: (up) => {
        if (up) connectedResolve();
      },
    };
    stop = store.subscribe(listener) ?? stop;
  });
  return { message, connected, stop: () => stop() };
}

export function runStoreSuite(name: string, make: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: CacheStore;
    const key = (label: string): string => `suite:${label}:${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('reads what it wrote, and undefined for a missing key', async () => {
      const k = key('rw');
      expect(await store.get(k)).toBeUndefined();
      await store.set([{ key: k, value: 'hello, wörld ✓', ttlMs: 10_000 }]);
      expect(await store.get(k)).toBe('hello, wörld ✓');
    });

    it('keeps bytes as bytes when read as binary', async () => {
      const k = key('bin');
      const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x80]);
      await store.set([{ key: k, value: bytes, ttlMs: 10_000 }]);
      const back = await store.get(k, { binary: true });
      expect(Buffer.isBuffer(back) || back instanceof Uint8Array).toBe(true);
      expect(Buffer.from(back as Uint8Array).equals(bytes)).toBe(true);
    });

    it('reads many keys in order, misses as undefined', async () => {
      const a = key('many-a');
      const b = key('many-b');
      const missing = key('many-missing');
      await store.set([
        { key: a, value: 'A', ttlMs: 10_000 },
        { key: b, value: 'B', ttlMs: 10_000 },
      ]);
      expect(await store.getMany([b, missing, a])).toEqual(['B', undefined, 'A']);
      expect(await store.getMany([])).toEqual([]);
    });

    it('expires entries after their ttl, and keeps Infinity ones', async () => {
      const short = key('ttl');
      const forever = key('forever');
      await store.set([
        { key: short, value: 'x', ttlMs: 200 },
        { key: forever, value: 'y', ttlMs: Number.POSITIVE_INFINITY },
      ]);
      expect(await store.get(short)).toBe('x');
      await sleep(350);
      expect(await store.get(short)).toBeUndefined();
      expect(await store.get(forever)).toBe('y');
      await store.delete([forever]);
    });

    it('deletes keys', async () => {
      const a = key('del-a');
      const b = key('del-b');
      await store.set([
        { key: a, value: '1', ttlMs: 10_000 },
        { key: b, value: '2', ttlMs: 10_000 },
      ]);
      await store.delete([a]);
      expect(await store.getMany([a, b])).toEqual([undefined, '2']);
      await store.delete([]);
    });

    it('deletes by tag what was filed under it, and nothing else', async () => {
      const tag = `tag-${randomBytes(4).toString('hex')}`;
      const other = `tag-${randomBytes(4).toString('hex')}`;
      const a = key('tag-a');
      const b = key('tag-b');
      const c = key('tag-c');
      await store.set([
        { key: a, value: 'a', ttlMs: 10_000, tags: [tag] },
        { key: b, value: 'b', ttlMs: 10_000, tags: [tag, other] },
        { key: c, value: 'c', ttlMs: 10_000, tags: [other] },
      ]);
      await store.deleteTags([tag]);
      expect(await store.getMany([a, b, c])).toEqual([undefined, undefined, 'c']);
      await store.deleteTags([other, 'never-used']);
      expect(await store.get(c)).toBeUndefined();
    });

    it('clears a prefix and only that prefix', async () => {
      const ns = `clear${randomBytes(4).toString('hex')}`;
      await store.set([
        { key: `${ns}:a`, value: '1', ttlMs: 10_000 },
        { key: `${ns}:sub:b`, value: '2', ttlMs: 10_000 },
        { key: `${ns}x:c`, value: '3', ttlMs: 10_000 },
      ]);
      await store.clear(`${ns}:`);
      expect(await store.getMany([`${ns}:a`, `${ns}:sub:b`, `${ns}x:c`])).toEqual([
        undefined,
        undefined,
        '3',
      ]);
      await store.delete([`${ns}x:c`]);
    });

    it('treats glob characters in a prefix literally', async () => {
      const ns = `g*[?]\\${randomBytes(3).toString('hex')}`;
      const near = `g-${randomBytes(3).toString('hex')}`;
      await store.set([
        { key: `${ns}:a`, value: '1', ttlMs: 10_000 },
        { key: `${near}:a`, value: '2', ttlMs: 10_000 },
      ]);
      await store.clear(`${ns}:`);
      expect(await store.getMany([`${ns}:a`, `${near}:a`])).toEqual([undefined, '2']);
      await store.delete([`${near}:a`]);
    });

    it('locks a missing key once: the value, the token, or neither', async () => {
      const k = key('lock');
      const first = await store.getOrLock(k, 2_000);
      expect(first.token).toBeGreaterThan(0);
      expect(await store.getOrLock(k, 2_000)).toEqual({});
      expect(await store.getOrLock(k, 0)).toEqual({});
      const token = first.token as number;
      expect(await store.renewLock(k, token, 2_000)).toBe(true);
      expect(await store.commit(k, token, { key: k, value: 'loaded', ttlMs: 10_000 })).toBe(true);
      expect(await store.getOrLock(k, 2_000)).toEqual({ value: 'loaded' });
      // Committed: the lock is gone, so it can be taken again (to refresh), with a newer token.
      const again = await store.lock(k, 2_000);
      expect(again).toBeGreaterThan(token);
      expect(await store.lock(k, 2_000)).toBeUndefined();
      await store.unlock(k, again as number);
      expect(await store.renewLock(k, again as number, 2_000)).toBe(false);
    });

    it('fences off a holder whose lease ran out once another took the lock', async () => {
      const k = key('fence');
      const late = (await store.getOrLock(k, 60)).token as number;
      await sleep(150);
      const current = (await store.getOrLock(k, 2_000)).token as number;
      expect(current).toBeGreaterThan(late);
      expect(await store.commit(k, late, { key: k, value: 'old', ttlMs: 10_000 })).toBe(false);
      expect(await store.get(k)).toBeUndefined();
      expect(await store.commit(k, current, { key: k, value: 'new', ttlMs: 10_000 })).toBe(true);
      expect(await store.get(k)).toBe('new');
      expect(await store.commit(k, late, { key: k, value: 'old', ttlMs: 10_000 })).toBe(false);
      expect(await store.get(k)).toBe('new');
    });

    it('unlocks only with the token that holds the lock', async () => {
      const k = key('unlock');
      const token = (await store.getOrLock(k, 2_000)).token as number;
      await store.unlock(k, token + 1000);
      expect(await store.getOrLock(k, 2_000)).toEqual({});
      await store.unlock(k, token);
      expect((await store.getOrLock(k, 2_000)).token).toBeGreaterThan(token);
    });

    it('lets a lock expire after its lease', async () => {
      const k = key('lease');
      expect((await store.getOrLock(k, 60)).token).toBeGreaterThan(0);
      await sleep(150);
      expect((await store.getOrLock(k, 60)).token).toBeGreaterThan(0);
    });

    it('files a committed entry under its tags', async () => {
      const k = key('commit-tag');
      const tag = `ct-${randomBytes(4).toString('hex')}`;
      const token = (await store.getOrLock(k, 2_000)).token as number;
      await store.commit(k, token, { key: k, value: 'v', ttlMs: 10_000, tags: [tag] });
      await store.deleteTags([tag]);
      expect(await store.get(k)).toBeUndefined();
    });

    it('publishes a write to the other instances only once it is readable', async () => {
      const k = key('bus');
      const listening = nextMessage(fixture.peer);
      await listening.connected;
      let seen: string | undefined;
      const read = listening.message.then(async (text) => {
        seen = text;
        return fixture.peer.get(k);
      });
      await store.set([{ key: k, value: 'fresh', ttlMs: 10_000 }], 'message-1');
      expect(await read).toBe('fresh');
      expect(seen).toBe('message-1');
      listening.stop();
    });

    it('publishes deletes, tag deletes, clears and commits', async () => {
      const k = key('bus-ops');
      for (const write of [
        () => store.delete([k], 'deleted'),
        () => store.deleteTags(['bus-tag'], 'tags'),
        () => store.clear(`${k}:`, 'cleared'),
        async () => {
          const token = (await store.getOrLock(k, 2_000)).token as number;
          await store.commit(k, token, { key: k, value: 'v', ttlMs: 1_000 }, 'committed');
        },
      ]) {
        const listening = nextMessage(fixture.peer);
        await listening.connected;
        await write();
        expect(['deleted', 'tags', 'cleared', 'committed']).toContain(await listening.message);
        listening.stop();
      }
    });

    it('keeps a value of 1 MB whole', async () => {
      const k = key('big');
      const big = `${'x'.repeat(1_000_000)}é`;
      await store.set([{ key: k, value: big, ttlMs: 10_000 }]);
      expect(await store.get(k)).toBe(big);
      await store.delete([k]);
    });
  });
}
