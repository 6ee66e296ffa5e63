import type { SessionStatus } from './state.js';

export interface SessionHealth {
  status: SessionStatus;
  /** Until the access token expires; null when signed out. */
  expiresInMs: number | null;
  /** Since the current access token was obtained; null when signed out. */
  tokenAgeMs: number | null;
  lastRefresh: { ok: boolean; at: number; latencyMs: number; error?: string } | null;
  /** Consecutive failed refresh attempts. */
  failures: number;
  /** 0-100: 100 is a fresh token and a healthy link; 0 is signed out. */
  score: number;
}

/** A small, explainable score: what the app's status dot or telemetry can use. */
export function healthScore(input: {
  status: SessionStatus;
  expiresInMs: number | null;
  failures: number;
}): number {
  if (input.status === 'unauthenticated' || input.status === 'initializing') return 0;
  let score = 100;
  if (input.status === 'offline') score -= 40;
  if (input.status === 'step_up_required' || input.status === 'locked') score -= 30;
  score -= Math.min(40, input.failures * 10);
  if (input.expiresInMs !== null && input.expiresInMs <= 0) score -= 30;
  return Math.max(0, score);
}
