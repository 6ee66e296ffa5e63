import type { Clock } from '../clock.js';

export interface SubscribeLimits {
  perSecond: number;
  burst: number;
}

/**
 * One socket's token bucket for `subscribe` messages: `burst` at once (a reconnect subscribing
 * every namespace), then `perSecond`. Each subscribe may read and send a whole document, so a
 * socket that floods them costs the database and the socket's buffer; the bucket lives and dies
 * with the socket (nothing to share between nodes: a socket is on one node).
 */
export class SubscribeLimiter {
  #tokens: number;
  #updatedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly limits: SubscribeLimits,
  ) {
    this.#tokens = limits.burst;
    this.#updatedAt = clock.now();
  }

  /** Takes one subscribe's token: 0 if admitted, else the milliseconds until one is free. */
  take(): number {
    const now = this.clock.now();
    const elapsedSeconds = Math.max(0, now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.limits.burst, this.#tokens + elapsedSeconds * this.limits.perSecond);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.limits.perSecond) * 1000));
  }
}
