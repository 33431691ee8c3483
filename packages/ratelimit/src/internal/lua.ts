// Atomic scripts of the Redis store. Each touches exactly one key (so each runs on Redis Cluster,
// where a script's keys must share a slot) and reads the time from Redis (`TIME`), so instances
// whose clocks disagree still share one timeline. The arithmetic is that of algorithms.ts.
import { createHash } from 'node:crypto';

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * ARGV: limit, window, cost, blockMs, op ('c' consume, 'r' refund). Reply: allowed, remaining,
 * resetMs (allowed: when a request passes again once `remaining` are spent), retryMs.
 */
export const SLIDING_WINDOW = `local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local block = tonumber(ARGV[4])
${NOW}
local start = now - (now % window)
local v = redis.call('HMGET', key, 's', 'c', 'p', 'b')
local s = tonumber(v[1])
local cur = tonumber(v[2]) or 0
local prev = tonumber(v[3]) or 0
local blocked = tonumber(v[4]) or 0
if ARGV[5] == 'r' then
  if s == start or s == start - window then
    redis.call('HSET', key, 'c', math.max(0, cur - cost))
  end
  return 0
end
if s ~= start then
  if s == start - window then prev = cur else prev = 0 end
  cur = 0
end
local elapsed = now - start
local EPS = 1e-9
local function estimate_in(c, d)
  local at = elapsed + d
  if at < window then return prev * (1 - at / window) + c end
  if at < window * 2 then return c * (1 - (at - window) / window) end
  return 0
end
local function wait_for(c, n)
  if n > limit then return window * 2 end
  local function fits(d) return estimate_in(c, d) + n <= limit + EPS end
  if fits(0) then return 0 end
  local room = limit - c - n
  local w
  if room >= 0 and prev > 0 then
    w = window * (1 - room / prev) - elapsed
  else
    local nxt = 0
    if c > 0 then nxt = window * (1 - (limit - n) / c) end
    w = window - elapsed + math.max(0, nxt)
  end
  local whole = math.max(1, math.ceil(w))
  local step = 0
  while step < 4 and whole > 1 and fits(whole - 1) do
    whole = whole - 1
    step = step + 1
  end
  step = 0
  while step < 4 and not fits(whole) do
    whole = whole + 1
    step = step + 1
  end
  return whole
end
if blocked > now then
  local w = math.max(blocked - now, wait_for(cur, cost))
  return {0, 0, w, w}
end
local estimate = estimate_in(cur, 0)
if estimate + cost <= limit + EPS then
  cur = cur + cost
  redis.call('HSET', key, 's', start, 'c', cur, 'p', prev)
  redis.call('PEXPIRE', key, window * 2 - elapsed)
  local remaining = math.max(0, math.floor(limit - estimate_in(cur, 0) + EPS))
  return {1, remaining, wait_for(cur + remaining, 1), 0}
end
local w = wait_for(cur, cost)
if block > 0 then
  redis.call('HSET', key, 's', start, 'c', cur, 'p', prev, 'b', now + block)
  redis.call('PEXPIRE', key, math.max(block, window * 2 - elapsed))
  w = math.max(block, w)
  return {0, 0, w, w}
end
return {0, math.max(0, math.floor(limit - estimate + EPS)), w, w}`;

/**
 * ARGV: limit, window, burst, cost, blockMs, op ('c' consume, 'r' refund). Reply: allowed,
 * remaining, resetMs (allowed: when a request passes again once `remaining` are spent),
 * retryMs. The tat is stored to the microsecond and read back before the reply is computed, so
 * the reply agrees with what the next call will read.
 */
export const GCRA = `local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local block = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', key)) or 0
local interval = window / limit
if ARGV[6] == 'r' then
  local back = math.max(now, tat - cost * interval)
  if back > now then
    redis.call('SET', key, string.format('%.3f', back), 'PX', math.ceil(back - now))
  else
    redis.call('DEL', key)
  end
  return 0
end
local EPS = 0.01
local capacity = burst * interval
local function after(from, units)
  return math.max(0, math.ceil(from + units * interval - capacity - now - EPS))
end
local base = math.max(tat, now)
local nxt = base + cost * interval
if nxt - capacity - now > EPS then
  if block > 0 then
    local blocked = tonumber(string.format('%.3f', math.max(now + block + capacity - interval, tat)))
    redis.call('SET', key, string.format('%.3f', blocked), 'PX', math.ceil(blocked - now))
    return {0, 0, math.ceil(blocked - now + interval), math.max(math.ceil(block), after(blocked, cost))}
  end
  return {0, math.max(0, math.floor((capacity - (base - now) + EPS) / interval)), math.ceil(base - now), math.max(1, after(base, cost))}
end
nxt = tonumber(string.format('%.3f', nxt))
redis.call('SET', key, string.format('%.3f', nxt), 'PX', math.max(1, math.ceil(nxt - now)))
local remaining = math.max(0, math.floor((capacity - (nxt - now) + EPS) / interval))
return {1, remaining, after(nxt, remaining + 1), 0}`;

/** ARGV: limit, leaseMs, slot id, op ('a' acquire, 'r' release). A sorted set of slot expiries. */
export const CONCURRENCY = `local key = KEYS[1]
if ARGV[4] == 'r' then
  redis.call('ZREM', key, ARGV[3])
  return 0
end
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
${NOW}
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
local n = redis.call('ZCARD', key)
if n + 1 > limit then
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local wait = lease
  if first[2] then wait = tonumber(first[2]) - now end
  return {0, 0, wait, math.max(1, wait)}
end
redis.call('ZADD', key, now + lease, ARGV[3])
redis.call('PEXPIRE', key, lease)
return {1, limit - n - 1, 0, 0}`;

/** A script and its SHA1, for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
