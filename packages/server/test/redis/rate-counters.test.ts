import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/accounts/login-throttle.js';
import { SessiondError } from '../../src/errors.js';
import { closeRedis, openRedis } from '../../src/lib/redis-client.js';
import { FailoverRateCounters } from '../../src/ratelimit/failover-rate-counters.js';
import { InMemoryRateCounters } from '../../src/ratelimit/in-memory-rate-counters.js';
import type { RateCounters } from '../../src/ratelimit/rate-counters.js';
import { RedisRateCounters } from '../../src/ratelimit/redis-rate-counters.js';
import { testRedisURL } from '../helpers/postgres.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { recordingLog, until } from './helpers.js';

/** Far from the wall clock: the counters must judge time by `now` alone, never by Redis's clock. */
const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => closeRedis(client)));
});

async function connected(url: string): Promise<Redis> {
  const client = openRedis(url);
  clients.push(client);
  await until(() => client.status === 'ready', `Redis at ${url} accepts the client`);
  return client;
}

/** Every implementation keeps this contract; each factory returns fresh, empty counters. */
const implementations: [string, () => Promise<RateCounters>][] = [
  ['InMemoryRateCounters', async () => new InMemoryRateCounters()],
  [
    'RedisRateCounters',
    async () => new RedisRateCounters(await connected(testRedisURL()), { prefix: `test:${randomUUID()}:` }),
  ],
];

describe.each(implementations)('RateCounters contract: %s', (_name, open) => {
  let counters: RateCounters;
  beforeEach(async () => {
    counters = await open();
  });

  it('counts hits in a window that closes windowMs after the first', async () => {
    expect(await counters.hit('k', MINUTE, T0)).toEqual({ count: 1, resetAt: T0 + MINUTE });
    expect(await counters.hit('k', MINUTE, T0 + 1000)).toEqual({ count: 2, resetAt: T0 + MINUTE });
    expect(await counters.hit('k', MINUTE, T0 + MINUTE - 1)).toEqual({ count: 3, resetAt: T0 + MINUTE });
    // At resetAt the window is closed: a new one opens with this hit as its first.
    expect(await counters.hit('k', MINUTE, T0 + MINUTE)).toEqual({ count: 1, resetAt: T0 + 2 * MINUTE });
  });

  it('keeps keys apart', async () => {
    await counters.hit('a', MINUTE, T0);
    await counters.hit('a', MINUTE, T0);
    expect(await counters.hit('b', MINUTE, T0)).toEqual({ count: 1, resetAt: T0 + MINUTE });
  });

  it('peeks at the open window without counting, and sees nothing once it closed', async () => {
    expect(await counters.peek('k', T0)).toBeUndefined();
    await counters.hit('k', MINUTE, T0);
    await counters.hit('k', MINUTE, T0);
    expect(await counters.peek('k', T0 + 10)).toEqual({ count: 2, resetAt: T0 + MINUTE });
    expect(await counters.peek('k', T0 + 10)).toEqual({ count: 2, resetAt: T0 + MINUTE });
    expect(await counters.peek('k', T0 + MINUTE)).toBeUndefined();
  });

  it('clears a window, and only that one', async () => {
    await counters.hit('k', MINUTE, T0);
    await counters.hit('other', MINUTE, T0);
    await counters.clear('k');
    expect(await counters.peek('k', T0)).toBeUndefined();
    expect(await counters.hit('k', MINUTE, T0 + 5)).toEqual({ count: 1, resetAt: T0 + 5 + MINUTE });
    expect(await counters.peek('other', T0)).toEqual({ count: 1, resetAt: T0 + MINUTE });
  });

  it('counts concurrent hits exactly once each', async () => {
    const windows = await Promise.all(Array.from({ length: 50 }, () => counters.hit('k', MINUTE, T0)));
    expect(windows.map((window) => window.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('admits a burst from a full bucket, then refuses with the time until a token is free', async () => {
    const limits = { perSecond: 2, burst: 3 };
    expect(await counters.take('u', limits, T0)).toBe(0);
    expect(await counters.take('u', limits, T0)).toBe(0);
    expect(await counters.take('u', limits, T0)).toBe(0);
    expect(await counters.take('u', limits, T0)).toBe(500);
    // A refused take takes nothing: the wait shrinks with the clock alone.
    expect(await counters.take('u', limits, T0 + 200)).toBe(300);
    expect(await counters.take('u', limits, T0 + 500)).toBe(0);
    expect(await counters.take('u', limits, T0 + 500)).toBe(500);
  });

  it('refills at perSecond up to burst, never beyond', async () => {
    const limits = { perSecond: 1, burst: 2 };
    await counters.take('u', limits, T0);
    await counters.take('u', limits, T0);
    expect(await counters.take('u', limits, T0 + 1000)).toBe(0);
    // An hour idle refills to burst (2), not to 3600.
    const later = T0 + 3_600_000;
    expect(await counters.take('u', limits, later)).toBe(0);
    expect(await counters.take('u', limits, later)).toBe(0);
    expect(await counters.take('u', limits, later)).toBe(1000);
  });

  it('keeps buckets apart from each other and from windows', async () => {
    const limits = { perSecond: 1, burst: 1 };
    expect(await counters.take('u', limits, T0)).toBe(0);
    expect(await counters.take('u', limits, T0)).toBe(1000);
    expect(await counters.take('v', limits, T0)).toBe(0);
    expect(await counters.hit('u', MINUTE, T0)).toEqual({ count: 1, resetAt: T0 + MINUTE });
  });

  it('admits exactly burst of many concurrent takes', async () => {
    const waits = await Promise.all(
      Array.from({ length: 20 }, () => counters.take('u', { perSecond: 1, burst: 5 }, T0)),
    );
    expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
  });
});

describe('InMemoryRateCounters', () => {
  it('prunes closed windows and full buckets, and only those', async () => {
    const counters = new InMemoryRateCounters({ pruneAbove: 2 });
    await counters.hit('old', 1000, T0);
    await counters.hit('open', MINUTE, T0);
    // Over the bound: the closed window goes, the open one stays.
    await counters.hit('new', MINUTE, T0 + 5000);
    expect(counters.size).toBe(2);
    expect(await counters.peek('open', T0 + 5000)).toEqual({ count: 1, resetAt: T0 + MINUTE });

    const limits = { perSecond: 1, burst: 1 };
    await counters.take('refilled', limits, T0);
    await counters.take('drained', limits, T0 + 5000);
    await counters.take('third', limits, T0 + 5000);
    // `refilled` was full again and dropped; `drained` is still empty and kept.
    expect(counters.size).toBe(4);
    expect(await counters.take('drained', limits, T0 + 5000)).toBe(1000);
  });
});

describe('RedisRateCounters', () => {
  it('shares counts between instances on one Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    const nodeA = new RedisRateCounters(await connected(testRedisURL()), { prefix });
    const nodeB = new RedisRateCounters(await connected(testRedisURL()), { prefix });
    await nodeA.hit('k', MINUTE, T0);
    expect(await nodeB.hit('k', MINUTE, T0)).toEqual({ count: 2, resetAt: T0 + MINUTE });
    expect(await nodeA.peek('k', T0)).toEqual({ count: 2, resetAt: T0 + MINUTE });
    await nodeB.clear('k');
    expect(await nodeA.peek('k', T0)).toBeUndefined();

    const limits = { perSecond: 1, burst: 2 };
    expect(await nodeA.take('u', limits, T0)).toBe(0);
    expect(await nodeB.take('u', limits, T0)).toBe(0);
    expect(await nodeA.take('u', limits, T0)).toBe(1000);
  });

  it('keeps prefixes apart', async () => {
    const client = await connected(testRedisURL());
    const one = new RedisRateCounters(client, { prefix: `test:${randomUUID()}:` });
    const two = new RedisRateCounters(client, { prefix: `test:${randomUUID()}:` });
    await one.hit('k', MINUTE, T0);
    expect(await two.hit('k', MINUTE, T0)).toEqual({ count: 1, resetAt: T0 + MINUTE });
  });

  it('sets every key to expire (cleanup only)', async () => {
    const client = await connected(testRedisURL());
    const prefix = `test:${randomUUID()}:`;
    const counters = new RedisRateCounters(client, { prefix });
    await counters.hit('k', MINUTE, T0);
    await counters.take('u', { perSecond: 1, burst: 3 }, T0);
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
  });
});

describe('FailoverRateCounters', () => {
  let redis: RedisProcess;
  beforeEach(async () => {
    redis = await RedisProcess.start();
  });
  afterEach(async () => {
    await redis.kill();
  });

  /** A node: its own connection, its own local counters, the failover over both. */
  async function node(options: { isUp?: () => boolean } = {}) {
    const shared = new RedisRateCounters(await connected(redis.url), { prefix: 'failover:' });
    const log = recordingLog();
    const counters = new FailoverRateCounters(
      shared,
      new InMemoryRateCounters(),
      options.isUp ?? (() => shared.ready),
      log,
    );
    return { counters, shared, log };
  }

  it('shares counts while Redis is up, counts per node while it is down, shares again after', async () => {
    const a = await node();
    const b = await node();
    await a.counters.hit('k', MINUTE, T0);
    expect((await b.counters.hit('k', MINUTE, T0)).count).toBe(2);

    await redis.kill();
    await until(() => !a.shared.ready && !b.shared.ready, 'both nodes notice the outage');
    expect((await a.counters.hit('k', MINUTE, T0)).count).toBe(1);
    expect((await a.counters.hit('k', MINUTE, T0)).count).toBe(2);
    expect((await b.counters.hit('k', MINUTE, T0)).count).toBe(1);
    expect(await a.counters.take('u', { perSecond: 1, burst: 1 }, T0)).toBe(0);
    expect(await a.counters.take('u', { perSecond: 1, burst: 1 }, T0)).toBe(1000);
    expect(a.log.lines.filter((line) => line.level === 'warn')).toHaveLength(1);

    await redis.start();
    await until(() => a.shared.ready && b.shared.ready, 'both nodes reconnect');
    // A fresh Redis (nothing saved): shared counting starts over, on both nodes together.
    expect((await a.counters.hit('k2', MINUTE, T0)).count).toBe(1);
    expect((await b.counters.hit('k2', MINUTE, T0)).count).toBe(2);
    expect(a.log.lines.map((line) => line.message)).toContain('rate limits are shared again');
  });

  it('falls back to local counters when a call to Redis fails', async () => {
    let claimUp = true;
    const a = await node({ isUp: () => claimUp });
    await redis.kill();
    await until(() => !a.shared.ready, 'the node notices the outage');
    // isUp still says yes: the call fails, and the local counters answer.
    expect((await a.counters.hit('k', MINUTE, T0)).count).toBe(1);
    expect((await a.counters.hit('k', MINUTE, T0)).count).toBe(2);
    expect(a.log.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
    claimUp = false;
    expect((await a.counters.hit('k', MINUTE, T0)).count).toBe(3);
  });

  it('clears the local window too: a success forgives failures counted during an outage', async () => {
    let up = false;
    const a = await node({ isUp: () => up });
    await a.counters.hit('k', MINUTE, T0);
    up = true;
    await a.counters.clear('k');
    up = false;
    expect(await a.counters.peek('k', T0)).toBeUndefined();
  });

  it('keeps the sign-in limit on one node while Redis is down', async () => {
    const a = await node();
    const throttle = new LoginThrottle(
      a.counters,
      { now: () => T0 },
      {
        perIP: 2,
        perAccount: 5,
        signupsPerIP: 5,
      },
    );
    await redis.kill();
    await until(() => !a.shared.ready, 'the node notices the outage');
    await throttle.admitIP('192.0.2.1');
    await throttle.admitIP('192.0.2.1');
    const refused = await throttle.admitIP('192.0.2.1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SessiondError);
    expect((refused as SessiondError).code).toBe('rate_limited');
  });
});
