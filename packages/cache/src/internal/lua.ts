import { createHash } from 'node:crypto';

/** A Lua script, sent by its SHA1 (`EVALSHA`) and loaded with `EVAL` when Redis lacks it. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

const script = (keys: number, source: string): LuaScript => ({
  source,
  keys,
  sha: createHash('sha1').update(source).digest('hex'),
});

// Every script touches one key and the keys derived from it (`{key}`, `{key}:l`, `{key}:f`),
// which share a hash tag: one slot, so each runs as is on a Redis Cluster.

/**
 * KEYS value, lock, fence; ARGV leaseMs, fenceTtlMs. The value if there is one; else, when
 * leaseMs > 0, the lock with a new fencing token; else nothing.
 * Returns {1, value} | {2, token} | {0}.
 */
export const GET_OR_LOCK = script(
  3,
  `local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if tonumber(ARGV[1]) <= 0 then return {0} end
if redis.call('SET', KEYS[2], '0', 'NX', 'PX', ARGV[1]) then
  local t = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
  redis.call('SET', KEYS[2], t, 'PX', ARGV[1])
  return {2, t}
end
return {0}`,
);

/** KEYS lock, fence; ARGV leaseMs, fenceTtlMs. The new token, or 0 when someone holds the lock. */
export const LOCK = script(
  2,
  `if redis.call('SET', KEYS[1], '0', 'NX', 'PX', ARGV[1]) then
  local t = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  redis.call('SET', KEYS[1], t, 'PX', ARGV[1])
  return t
end
return 0`,
);

/** KEYS lock; ARGV token, leaseMs. 1 when the token still held the lock and it was extended. */
export const RENEW = script(
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
);

/**
 * KEYS value, lock, fence; ARGV token, data, ttlMs (0: none), channel, message ('' : none).
 * Writes and releases only when no later lock was taken (the fence is still this token, or
 * has expired); publishes after the write. 1 when written, 0 when fenced off.
 */
export const COMMIT = script(
  3,
  `local f = redis.call('GET', KEYS[3])
if f and f ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1`,
);

/** KEYS lock; ARGV token. Releases the lock if the token holds it. */
export const UNLOCK = script(
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

/**
 * KEYS tag set; ARGV member, ttlMs (0: none). Files a key under a tag; the set lives as long
 * as its longest-lived member (never shortened by a shorter one).
 */
export const FILE_TAG = script(
  1,
  `local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl == 0 then redis.call('PERSIST', KEYS[1]) return 1 end
local current = redis.call('PTTL', KEYS[1])
if existed == 0 or (current >= 0 and current < ttl) then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
);
