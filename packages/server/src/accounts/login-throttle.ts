import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { FixedWindow, RateCounters } from '../ratelimit/rate-counters.js';

const IP_WINDOW_MS = 60_000;
const ACCOUNT_WINDOW_MS = 15 * 60_000;
const SIGNUP_WINDOW_MS = 60 * 60_000;

/**
 * Throttles password work. Sign-ups count per IP per hour. Sign-in: every attempt counts against
 * the client IP (per minute), failed attempts count against the account (per 15 minutes), so one
 * attacker cannot spray one account from many IPs nor many accounts from one IP. A success
 * clears the account's failures. Fixed windows in `counters`: shared by the nodes on Redis.
 */
export class LoginThrottle {
  constructor(
    private readonly counters: RateCounters,
    private readonly clock: Clock,
    private readonly limits: { perIP: number; perAccount: number; signupsPerIP: number },
  ) {}

  /** Counts an attempt from `ip`; throws `rate_limited` once over the limit. */
  async admitIP(ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.hit(`login-ip:${ip}`, IP_WINDOW_MS, now);
    if (window.count > this.limits.perIP) throw limited(window, now, 'sign-in');
  }

  /** Counts a sign-up from `ip` (per hour): each one costs an argon2id hash. */
  async admitSignUp(ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.hit(`signup-ip:${ip}`, SIGNUP_WINDOW_MS, now);
    if (window.count > this.limits.signupsPerIP) throw limited(window, now, 'sign-up');
  }

  /** Throws `rate_limited` if the account has used up its failed attempts. */
  async admitAccount(email: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.peek(`login-account:${email}`, now);
    if (window && window.count >= this.limits.perAccount) throw limited(window, now, 'sign-in');
  }

  async recordFailure(email: string): Promise<void> {
    await this.counters.hit(`login-account:${email}`, ACCOUNT_WINDOW_MS, this.clock.now());
  }

  recordSuccess(email: string): Promise<void> {
    return this.counters.clear(`login-account:${email}`);
  }
}

function limited(window: FixedWindow, now: number, what: string): SessiondError {
  const seconds = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  return new SessiondError('rate_limited', `too many ${what} attempts; retry in ${seconds} s`, {
    headers: { 'retry-after': String(seconds) },
  });
}
