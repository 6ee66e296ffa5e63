/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a random delay in [0, min(cap, base * 2^attempt)], so clients that failed together
 * do not retry together.
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; capMs: number },
  random = Math.random,
): number {
  return random() * Math.min(options.capMs, options.baseMs * 2 ** attempt);
}
