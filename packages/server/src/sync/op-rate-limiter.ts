import type { Clock } from '../clock.js';

const PRUNE_ABOVE = 10_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Per-user token bucket for state operations, shared by the WebSocket and HTTP paths: `burst`
 * operations at once (an offline outbox replaying), then `perSecond` sustained. In memory; a
 * shared counter for several nodes comes with Redis.
 */
export class OperationRateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: { perSecond: number; burst: number },
  ) {}

  /** Takes one operation's token; returns 0 if admitted, else the milliseconds until one is free. */
  take(userId: string): number {
    const now = this.clock.now();
    const bucket = this.#refilled(userId, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.limits.perSecond) * 1000);
  }

  #refilled(userId: string, now: number): Bucket {
    let bucket = this.#buckets.get(userId);
    if (!bucket) {
      if (this.#buckets.size >= PRUNE_ABOVE) this.#prune(now);
      bucket = { tokens: this.limits.burst, updatedAt: now };
      this.#buckets.set(userId, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + elapsed * this.limits.perSecond);
    bucket.updatedAt = now;
    return bucket;
  }

  /** Full buckets carry no information: dropping them is the same as keeping them. */
  #prune(now: number): void {
    for (const [userId, bucket] of this.#buckets) {
      const refilled = bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.limits.perSecond;
      if (refilled >= this.limits.burst) this.#buckets.delete(userId);
    }
  }
}
