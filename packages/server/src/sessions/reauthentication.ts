import { SessiondError } from '../errors.js';
import type { SessionRecord, UserRecord } from '../store/records.js';

/**
 * Adding, replacing or removing a factor needs a fresh re-authentication with a factor the user
 * already has (ASVS 5.0 V6.2/V7.5), whatever the risk flag says (decision 016): a step-up made
 * within `maxAgeMs`, and with TOTP when TOTP is enabled (the password alone must not be enough
 * to replace or remove the factor that protects against a known password). An access token
 * alone, stolen or not, never changes factors.
 */
export function requireRecentReauthentication(
  session: SessionRecord,
  user: UserRecord,
  policy: { now: number; maxAgeMs: number },
): void {
  const needed = user.totpEnabledAt != null ? 'totp' : 'password';
  const fresh = session.reauthAt !== null && policy.now - session.reauthAt <= policy.maxAgeMs;
  const strongEnough = needed === 'password' || session.reauthFactor === 'totp';
  if (fresh && strongEnough) return;
  const maxAge = Math.floor(policy.maxAgeMs / 1000);
  const message =
    needed === 'totp'
      ? `changing a factor needs a step-up with your TOTP code within the last ${maxAge} s`
      : `changing a factor needs a step-up within the last ${maxAge} s`;
  throw new SessiondError('reauthentication_required', message, {
    // RFC 9470 §3: max_age asks for an authentication no older than this.
    headers: {
      'www-authenticate': `Bearer realm="sessiond", error="insufficient_user_authentication", error_description="${message}", max_age=${maxAge}`,
    },
  });
}
