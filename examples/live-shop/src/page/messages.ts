import type { EndReason } from '@sessiond/client';

/**
 * What the shop tells a user whose session ended, by the client's reason. The cart and follows
 * are the user's server-side state, not the session's, so every message can promise them.
 */
export function endedMessage(reason: EndReason | null): string {
  switch (reason) {
    case 'idle':
    case 'expired':
      return 'You were signed out after inactivity. Your cart is saved: sign in to pick up where you left off.';
    case 'signed_out':
      return 'You signed out. Your cart is saved for next time.';
    case 'signed_out_everywhere':
      return 'You signed out on every device. Your cart is saved for next time.';
    case 'revoked':
      return 'This device was signed out from another device or by support. Your cart is saved.';
    case 'reused':
      return 'We signed you out because your session was used from somewhere unexpected. Sign in again; your cart is saved.';
    default:
      return 'You are signed out. Your cart is saved.';
  }
}

/** The sign-in error a person can act on, from the client's error code. */
export function signInErrorMessage(error: unknown): string {
  const code = (error as { code?: string }).code;
  const kind = (error as { kind?: string }).kind;
  if (code === 'invalid_credentials') return 'That email and password do not match an account.';
  if (kind === 'rate_limited') return 'Too many attempts. Wait a moment and try again.';
  if (kind === 'network') return 'The shop cannot reach the sign-in service. Check your connection.';
  if ((error as { name?: string }).name === 'NotAllowedError') return 'The passkey sign-in was cancelled.';
  return 'Signing in did not work. Try again.';
}
