export interface RetryPolicy {
  /** Delay after the first failure, in ms (SESSIOND_WEBHOOK_RETRY_BASE_SECONDS, default 5 s). */
  baseMs: number;
  /** No delay is longer than this, in ms (SESSIOND_WEBHOOK_RETRY_MAX_SECONDS, default 1 h). */
  maxMs: number;
}

/**
 * How long to wait after the `attempts`-th failed attempt at a message: exponential backoff
 * (base, 2 x base, 4 x base, ... up to the cap) with "equal jitter": a random point in the upper
 * half of that step, so endpoints that failed together do not retry together, and no retry
 * comes sooner than half its step. Retries never stop: the outbox keeps the message.
 */
export function retryDelayMs(
  attempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}
