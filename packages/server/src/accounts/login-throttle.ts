import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';

const IP_WINDOW_MS = 60_000;
const ACCOUNT_WINDOW_MS = 15 * 60_000;
const SIGNUP_WINDOW_MS = 60 * 60_000;
const PRUNE_ABOVE = 10_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Throttles password work. Sign-ups count per IP per hour. Sign-in: every attempt counts against the client IP (per minute), failed attempts
 * count against the account (per 15 minutes), so one attacker cannot spray one account from
 * many IPs nor many accounts from one IP. A success clears the account's failures.
 * Fixed windows in memory; a shared counter store for several nodes comes with Redis.
 */
export class LoginThrottle {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: { perIP: number; perAccount: number; signupsPerIP: number },
  ) {}

  /** Counts an attempt from `ip`; throws `rate_limited` once over the limit. */
  admitIP(ip: string): void {
    const window = this.#bump(`ip:${ip}`, IP_WINDOW_MS);
    if (window.count > this.limits.perIP) throw this.#limited(window);
  }

  /** Counts a sign-up from `ip` (per hour): each one costs an argon2id hash. */
  admitSignUp(ip: string): void {
    const window = this.#bump(`signup:${ip}`, SIGNUP_WINDOW_MS);
    if (window.count > this.limits.signupsPerIP) throw this.#limited(window, 'sign-up');
  }

  /** Throws `rate_limited` if the account has used up its failed attempts. */
  admitAccount(email: string): void {
    const window = this.#current(`account:${email}`);
    if (window && window.count >= this.limits.perAccount) throw this.#limited(window);
  }

  recordFailure(email: string): void {
    this.#bump(`account:${email}`, ACCOUNT_WINDOW_MS);
  }

  recordSuccess(email: string): void {
    this.#windows.delete(`account:${email}`);
  }

  #current(key: string): Window | undefined {
    const window = this.#windows.get(key);
    if (window && window.resetAt <= this.clock.now()) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  #bump(key: string, windowMs: number): Window {
    let window = this.#current(key);
    if (!window) {
      if (this.#windows.size >= PRUNE_ABOVE) this.#prune();
      window = { count: 0, resetAt: this.clock.now() + windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return window;
  }

  #prune(): void {
    const now = this.clock.now();
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }

  #limited(window: Window, what = 'sign-in'): SessiondError {
    const seconds = Math.max(1, Math.ceil((window.resetAt - this.clock.now()) / 1000));
    return new SessiondError('rate_limited', `too many ${what} attempts; retry in ${seconds} s`, {
      headers: { 'retry-after': String(seconds) },
    });
  }
}
