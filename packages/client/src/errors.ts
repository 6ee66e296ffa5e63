/**
 * How a failed call should be handled: auth ends the session, the others keep it. `locked`: the
 * client holds no refresh token until `client.unlock()` (decision 027); nothing was sent.
 */
export type FailureKind = 'auth' | 'network' | 'server' | 'rate_limited' | 'step_up' | 'request' | 'locked';

export class SessionClientError extends Error {
  override readonly name: string = 'SessionClientError';

  constructor(
    readonly kind: FailureKind,
    /** The server's stable `error` code when it sent one. */
    readonly code: string | undefined,
    message: string,
    readonly retryAfterMs?: number,
    /** The error body's other fields (`factors`, `max_age`, ...), when the server sent any. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** A factor that can finish a sign-in or satisfy a step-up, as the server names it. */
export type SecondFactor = 'passkey' | 'totp' | 'email_code';

/**
 * The password was right, but the sign-in looked risky (decision 026): no session yet. Finish it
 * with `client.completeSignIn({ passkey: true } | { totp } | { emailCode })` (for `email_code`,
 * `client.sendSignInEmailCode()` first) within `expiresInMs`; the client keeps the pending token.
 */
export class SecondFactorRequiredError extends SessionClientError {
  override readonly name = 'SecondFactorRequiredError';

  constructor(
    /** What the server accepts for this sign-in, strongest first. */
    readonly factors: readonly SecondFactor[],
    readonly expiresInMs: number,
    message: string,
    /** Set when the server already mailed the code (the user's only second factor is their inbox). */
    readonly emailCode?: { sentTo: string; expiresInMs: number },
  ) {
    super('auth', 'second_factor_required', message);
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
