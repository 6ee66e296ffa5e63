/** How a failed call should be handled: auth ends the session, the others keep it. */
export type FailureKind = 'auth' | 'network' | 'server' | 'rate_limited' | 'step_up' | 'request';

export class SessionClientError extends Error {
  override readonly name = 'SessionClientError';

  constructor(
    readonly kind: FailureKind,
    /** The server's stable `error` code when it sent one. */
    readonly code: string | undefined,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Codes after which the refresh token can never work again. */
export const SESSION_ENDING_CODES = new Set([
  'refresh_token_invalid',
  'refresh_token_reused',
  'session_revoked',
  'session_expired',
  'invalid_grant',
]);
