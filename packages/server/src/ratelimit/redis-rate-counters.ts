import type { Redis } from 'ioredis';
import type { FixedWindow, RateCounters, TokenBucketLimits } from './rate-counters.js';

/**
 * Keys outlive their state by this much: expiry (on Redis's clock) is only cleanup, the state
 * itself is judged by the callers' `now`, and nodes' clocks may drift a little apart.
 */
const EXPIRY_SLACK_MS = 60_000;

/** Doubles survive the trip through a Redis string exactly with 17 significant digits. */
const LUA_EXACT = "local function exact(n) return string.format('%.17g', n) end\n";

/** KEYS[1] window; ARGV now, windowMs, slackMs. Returns { count, resetAt }. */
const HIT = `${LUA_EXACT}
local now = tonumber(ARGV[1])
local window = redis.call('HMGET', KEYS[1], 'count', 'reset_at')
local count = tonumber(window[1])
local resetAt = tonumber(window[2])
if count == nil or resetAt == nil or resetAt <= now then
  count = 0
  resetAt = now + tonumber(ARGV[2])
end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'reset_at', exact(resetAt))
redis.call('PEXPIRE', KEYS[1], math.ceil(resetAt - now + tonumber(ARGV[3])))
return { count, exact(resetAt) }
`;

/** KEYS[1] bucket; ARGV now, perSecond, burst, slackMs. Returns the wait in ms (0: taken). */
const TAKE = `${LUA_EXACT}
local now = tonumber(ARGV[1])
local perSecond = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated_at')
local tokens = tonumber(bucket[1])
local updatedAt = tonumber(bucket[2])
if tokens == nil or updatedAt == nil then
  tokens = burst
  updatedAt = now
end
tokens = math.min(burst, tokens + math.max(0, now - updatedAt) / 1000 * perSecond)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / perSecond * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', exact(tokens), 'updated_at', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perSecond * 1000 + tonumber(ARGV[4])))
return wait
`;

interface RateScripts {
  sessiondRateHit(key: string, now: number, windowMs: number, slackMs: number): Promise<[number, string]>;
  sessiondRateTake(
    key: string,
    now: number,
    perSecond: number,
    burst: number,
    slackMs: number,
  ): Promise<number>;
}

/**
 * Rate counters shared by every node on one Redis. Each operation is one Lua script (or one
 * command), so it is atomic across nodes. The state (count and close time of a window; tokens
 * and last use of a bucket) is in the value and judged by the caller's `now`; PEXPIRE only
 * cleans up. Pass a connection from `openRedis`, which fails fast while Redis is away.
 */
export class RedisRateCounters implements RateCounters {
  readonly #client: Redis & RateScripts;
  readonly #prefix: string;

  constructor(client: Redis, options: { prefix?: string } = {}) {
    client.defineCommand('sessiondRateHit', { numberOfKeys: 1, lua: HIT });
    client.defineCommand('sessiondRateTake', { numberOfKeys: 1, lua: TAKE });
    this.#client = client as Redis & RateScripts;
    this.#prefix = options.prefix ?? 'sessiond:rate:';
  }

  /** The connection is up; a failover uses it as its `isUp`. */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  async hit(key: string, windowMs: number, now: number): Promise<FixedWindow> {
    const [count, resetAt] = await this.#client.sessiondRateHit(
      this.#windowKey(key),
      now,
      windowMs,
      EXPIRY_SLACK_MS,
    );
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async peek(key: string, now: number): Promise<FixedWindow | undefined> {
    const [count, resetAt] = await this.#client.hmget(this.#windowKey(key), 'count', 'reset_at');
    if (count === null || resetAt === null || Number(resetAt) <= now) return undefined;
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async clear(key: string): Promise<void> {
    await this.#client.del(this.#windowKey(key));
  }

  take(key: string, limits: TokenBucketLimits, now: number): Promise<number> {
    return this.#client.sessiondRateTake(
      `${this.#prefix}bucket:${key}`,
      now,
      limits.perSecond,
      limits.burst,
      EXPIRY_SLACK_MS,
    );
  }

  #windowKey(key: string): string {
    return `${this.#prefix}window:${key}`;
  }
}
