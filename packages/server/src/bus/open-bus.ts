import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Log } from '../lib/log.js';
import { closeRedis, openRedis } from '../lib/redis-client.js';
import { FailoverRateCounters } from '../ratelimit/failover-rate-counters.js';
import { InMemoryRateCounters } from '../ratelimit/in-memory-rate-counters.js';
import type { RateCounters } from '../ratelimit/rate-counters.js';
import { RedisRateCounters } from '../ratelimit/redis-rate-counters.js';
import type { SessionStore } from '../store/session-store.js';
import { type EventBus, InProcessBus } from './event-bus.js';
import { RedisBus } from './redis-bus.js';
import { RevocationBackstop } from './revocation-backstop.js';

/** The bus and rate counters of this deployment, and how to stop them. */
export interface OpenedBus {
  bus: EventBus;
  counters: RateCounters;
  start(): void;
  close(): Promise<void>;
}

/**
 * In-process bus and counters for one node; with SESSIOND_REDIS_URL, the Redis bus, counters
 * shared through Redis (each node falls back to its own while Redis is away) and the revocation
 * backstop that covers the bus's outages from the database (docs/decisions/013). A node starts
 * even while Redis is away: it serves its own clients, `/readyz` says degraded, and fan-out
 * begins when Redis answers.
 */
export function openBus(input: { config: Config; store: SessionStore; clock: Clock; log: Log }): OpenedBus {
  const { config, store, clock, log } = input;
  if (config.redisURL === undefined) {
    return {
      bus: new InProcessBus((error, name) => log.error({ err: error, event: name }, 'event handler failed')),
      counters: new InMemoryRateCounters(),
      start: () => {},
      close: async () => {},
    };
  }
  const bus = new RedisBus({ url: config.redisURL, log });
  const redis = openRedis(config.redisURL, { connectionName: 'sessiond-rate-counters' });
  // Connection errors are the bus's to report (once per outage); this one only falls back.
  redis.on('error', () => {});
  const shared = new RedisRateCounters(redis);
  const counters = new FailoverRateCounters(shared, new InMemoryRateCounters(), () => shared.ready, log);
  const backstop = new RevocationBackstop(bus, store, clock, config.accessTokenTTLSeconds * 1000, log);
  return {
    bus,
    counters,
    start: () => backstop.start(),
    close: async () => {
      backstop.stop();
      await Promise.all([bus.close(), closeRedis(redis)]);
    },
  };
}
