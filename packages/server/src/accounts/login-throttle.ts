import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { FixedWindow, RateCounters } from '../ratelimit/rate-counters.js';

const IP_WINDOW_MS = 60_000;
const ACCOUNT_WINDOW_MS = 15 * 60_000;
const SIGNUP_WINDOW_MS = 60 * 60_000;

/**
 * Throttles password work (decision 015). Sign-ups count per IP per hour. Sign-in: every attempt
 * counts against the client IP (per minute); failed attempts count against the pair (account,
 * IP) and, far higher, against the account from all IPs together (per 15 minutes). An attacker
 * spraying one account from many IPs exhausts only their own pairs, so the real user still signs
 * in from theirs; past the account's ceiling only a trusted device or a second factor gets in
 * (the caller decides, `accountCeiling` tells it when). A success clears its own pair only.
 * Fixed windows in `counters`: shared by the nodes on Redis.
 */
export class LoginThrottle {
  constructor(
    private readonly counters: RateCounters,
    private readonly clock: Clock,
    private readonly limits: {
      perIP: number;
      perAccountIP: number;
      perAccount: number;
      signupsPerIP: number;
    },
  ) {}

  /** Counts an attempt from `ip`; throws `rate_limited` once over the limit. */
  async admitIP(ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.hit(`login-ip:${ip}`, IP_WINDOW_MS, now);
    if (window.count > this.limits.perIP) throw throttled(window, now, 'too many sign-in attempts');
  }

  /** Counts a sign-up from `ip` (per hour): each one costs an argon2id hash. */
  async admitSignUp(ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.hit(`signup-ip:${ip}`, SIGNUP_WINDOW_MS, now);
    if (window.count > this.limits.signupsPerIP) throw throttled(window, now, 'too many sign-up attempts');
  }

  /** Throws `rate_limited` if this (account, IP) pair has used up its failed attempts. */
  async admitAccountFromIP(email: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.counters.peek(pairKey(email, ip), now);
    if (window && window.count >= this.limits.perAccountIP)
      throw throttled(window, now, 'too many sign-in attempts');
  }

  /**
   * The account's failure window when it is at its all-IPs ceiling, else undefined. The caller
   * then admits only a trusted device or a correct second factor (`ceilingReached` builds the
   * refusal for everyone else).
   */
  async accountCeiling(email: string): Promise<FixedWindow | undefined> {
    const window = await this.counters.peek(accountKey(email), this.clock.now());
    return window && window.count >= this.limits.perAccount ? window : undefined;
  }

  ceilingReached(window: FixedWindow): SessiondError {
    return throttled(
      window,
      this.clock.now(),
      'too many failed sign-ins for this account: sign in from a trusted device or with your second factor',
    );
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const now = this.clock.now();
    await this.counters.hit(pairKey(email, ip), ACCOUNT_WINDOW_MS, now);
    await this.counters.hit(accountKey(email), ACCOUNT_WINDOW_MS, now);
  }

  /** Clears the pair's failures. The account's count stays: one success must not reopen it to a spray. */
  recordSuccess(email: string, ip: string): Promise<void> {
    return this.counters.clear(pairKey(email, ip));
  }
}

const pairKey = (email: string, ip: string): string => `login-account-ip:${email} ${ip}`;
const accountKey = (email: string): string => `login-account:${email}`;

function throttled(window: FixedWindow, now: number, what: string): SessiondError {
  const seconds = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  return new SessiondError('rate_limited', `${what}; retry in ${seconds} s`, {
    headers: { 'retry-after': String(seconds) },
  });
}
