import type { FixedWindow, RateCounters, TokenBucketLimits } from './rate-counters.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again, and so forgettable. */
  fullAt: number;
}

/**
 * Rate counters in this process's memory: the counters of a single node, and a node's fallback
 * while a shared store is away. JavaScript runs one operation at a time, so each is atomic.
 * Past `pruneAbove` entries of a kind, closed windows and full buckets are dropped.
 */
export class InMemoryRateCounters implements RateCounters {
  readonly #windows = new Map<string, FixedWindow>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #pruneAbove: number;

  constructor(options: { pruneAbove?: number } = {}) {
    this.#pruneAbove = options.pruneAbove ?? 10_000;
  }

  /** Windows and buckets held, closed and full ones not yet pruned included. */
  get size(): number {
    return this.#windows.size + this.#buckets.size;
  }

  async hit(key: string, windowMs: number, now: number): Promise<FixedWindow> {
    let window = this.#current(key, now);
    if (!window) {
      if (this.#windows.size >= this.#pruneAbove) this.#pruneWindows(now);
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { ...window };
  }

  async peek(key: string, now: number): Promise<FixedWindow | undefined> {
    const window = this.#current(key, now);
    return window && { ...window };
  }

  async clear(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  async take(key: string, limits: TokenBucketLimits, now: number): Promise<number> {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#pruneAbove) this.#pruneBuckets(now);
      bucket = { tokens: limits.burst, updatedAt: now, fullAt: now };
      this.#buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(limits.burst, bucket.tokens + elapsed * limits.perSecond);
    bucket.updatedAt = now;
    let waitMs = 0;
    if (bucket.tokens >= 1) bucket.tokens -= 1;
    else waitMs = Math.ceil(((1 - bucket.tokens) / limits.perSecond) * 1000);
    bucket.fullAt = now + ((limits.burst - bucket.tokens) / limits.perSecond) * 1000;
    return waitMs;
  }

  #current(key: string, now: number): FixedWindow | undefined {
    const window = this.#windows.get(key);
    if (window && window.resetAt <= now) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  #pruneWindows(now: number): void {
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }

  /** Full buckets carry no information: dropping them is the same as keeping them. */
  #pruneBuckets(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.fullAt <= now) this.#buckets.delete(key);
  }
}
