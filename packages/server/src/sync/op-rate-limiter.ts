import type { Clock } from '../clock.js';
import type { RateCounters } from '../ratelimit/rate-counters.js';

/**
 * Per-user token bucket for state operations, shared by the WebSocket and HTTP paths: `burst`
 * operations at once (an offline outbox replaying), then `perSecond` sustained. The bucket is in
 * `counters`: shared by the nodes on Redis.
 */
export class OperationRateLimiter {
  constructor(
    private readonly counters: RateCounters,
    private readonly clock: Clock,
    private readonly limits: { perSecond: number; burst: number },
  ) {}

  /** Takes one operation's token; resolves to 0 if admitted, else the milliseconds until one is free. */
  take(userId: string): Promise<number> {
    return this.counters.take(`state-ops:${userId}`, this.limits, this.clock.now());
  }
}
