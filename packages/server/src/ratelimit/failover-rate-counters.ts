import type { Log } from '../lib/log.js';
import type { FixedWindow, RateCounters, TokenBucketLimits } from './rate-counters.js';

/**
 * Shared counters while the shared store is up, this node's own while it is not: limits then
 * apply per node (an attacker spreading over N nodes gets N times the budget) rather than not at
 * all, and never make a request wait for a store that is away. A call that fails on the shared
 * store is answered by the local one. The outage is logged once, at its start and at its end.
 * Counts made during an outage stay local; the shared counts resume where they were.
 */
export class FailoverRateCounters implements RateCounters {
  #inOutage = false;

  constructor(
    private readonly shared: RateCounters,
    private readonly local: RateCounters,
    /** Whether to try the shared store at all, e.g. `() => redisCounters.ready`. */
    private readonly isUp: () => boolean,
    private readonly log: Log,
  ) {}

  hit(key: string, windowMs: number, now: number): Promise<FixedWindow> {
    return this.#run((counters) => counters.hit(key, windowMs, now));
  }

  peek(key: string, now: number): Promise<FixedWindow | undefined> {
    return this.#run((counters) => counters.peek(key, now));
  }

  /** Clears both: failures counted locally during an outage are forgiven by a success too. */
  async clear(key: string): Promise<void> {
    await this.local.clear(key);
    if (this.isUp()) await this.#run((counters) => counters.clear(key));
  }

  take(key: string, limits: TokenBucketLimits, now: number): Promise<number> {
    return this.#run((counters) => counters.take(key, limits, now));
  }

  async #run<T>(operation: (counters: RateCounters) => Promise<T>): Promise<T> {
    if (this.isUp()) {
      try {
        const result = await operation(this.shared);
        if (this.#inOutage) {
          this.#inOutage = false;
          this.log.info({}, 'rate limits are shared again');
        }
        return result;
      } catch (error) {
        this.#fellBack(error);
      }
    } else {
      this.#fellBack(undefined);
    }
    return operation(this.local);
  }

  #fellBack(error: unknown): void {
    if (this.#inOutage) return;
    this.#inOutage = true;
    const details = error instanceof Error ? { error: error.message } : {};
    this.log.warn(details, 'shared rate counters unavailable: limits apply per node until they return');
  }
}
