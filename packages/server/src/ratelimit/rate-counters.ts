/** A fixed window: how many events it has counted and when it closes (ms since the epoch). */
export interface FixedWindow {
  count: number;
  resetAt: number;
}

/** A token bucket: `burst` tokens at most, refilled at `perSecond`. */
export interface TokenBucketLimits {
  perSecond: number;
  burst: number;
}

/**
 * The counters behind the rate limits, in the two shapes the limits take: fixed windows (sign-in
 * and sign-up throttles) and token buckets (state operations). Windows and buckets are separate
 * namespaces: the same key names one of each.
 *
 * Time is always the caller's `now` (ms since the epoch), never the store's own clock, so the
 * nodes sharing a store and the tests that move a clock agree on one time. Each operation is
 * atomic per key: concurrent callers, on any node sharing the store, each count exactly once.
 * Stores may forget a window once it has closed and a bucket once it is full again: that state
 * carries no information.
 */
export interface RateCounters {
  /**
   * Counts one event in the window at `key`. If no window is open at `now`, opens one that
   * closes at `now + windowMs` and counts the event as its first. Returns the window after it.
   */
  hit(key: string, windowMs: number, now: number): Promise<FixedWindow>;
  /** The window open at `key` at `now`, without counting; undefined if none is. */
  peek(key: string, now: number): Promise<FixedWindow | undefined>;
  /** Closes the window at `key` (a successful sign-in forgets the failed ones). */
  clear(key: string): Promise<void>;
  /**
   * Takes one token from the bucket at `key` (a new bucket is full), after refilling it for the
   * time since it was last used. Returns 0 if a token was taken, else the milliseconds until one
   * is free; a refused take takes nothing.
   */
  take(key: string, limits: TokenBucketLimits, now: number): Promise<number>;
}
