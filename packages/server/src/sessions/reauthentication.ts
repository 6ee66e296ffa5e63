import { SessiondError } from '../errors.js';
import type { SessionRecord, StepUpFactor, UserRecord } from '../store/records.js';

/** The factors that protect against a known password: one of them is needed once the user has one. */
const STRONG_FACTORS: ReadonlySet<StepUpFactor> = new Set(['passkey', 'totp']);

/**
 * Adding, replacing or removing a factor needs a fresh re-authentication with a factor the user
 * already has (ASVS 5.0 V6.2/V7.5), whatever the risk flag says (decision 016): a step-up made
 * within `maxAgeMs`, and with a passkey or TOTP when the user has either (the password alone, or
 * an email code, must not be enough to add, replace or remove the factor that protects against a
 * known password). An access token alone, stolen or not, never changes factors. `hasPasskeys` is
 * passed in (the caller looked it up) so this rule stays a pure, synchronous check; so is
 * `stepUpFactors`, what a step-up of this session accepts now (StepUpPolicy, decision 024): the
 * refusal names those of them that would do.
 */
export function requireRecentReauthentication(
  session: SessionRecord,
  user: UserRecord,
  policy: { now: number; maxAgeMs: number; hasPasskeys: boolean; stepUpFactors?: readonly StepUpFactor[] },
): void {
  const strongNeeded = user.totpEnabledAt != null || policy.hasPasskeys;
  const fresh = session.reauthAt !== null && policy.now - session.reauthAt <= policy.maxAgeMs;
  const strongEnough =
    !strongNeeded || (session.reauthFactor !== null && STRONG_FACTORS.has(session.reauthFactor));
  if (fresh && strongEnough) return;
  const maxAge = Math.floor(policy.maxAgeMs / 1000);
  const message = strongNeeded
    ? `changing a factor needs a step-up with a passkey or your TOTP code within the last ${maxAge} s`
    : `changing a factor needs a step-up within the last ${maxAge} s`;
  const factors = policy.stepUpFactors?.filter((factor) => !strongNeeded || STRONG_FACTORS.has(factor));
  throw new SessiondError('reauthentication_required', message, {
    ...(factors ? { details: { factors } } : {}),
    // RFC 9470 §3: max_age asks for an authentication no older than this.
    headers: {
      'www-authenticate': `Bearer realm="sessiond", error="insufficient_user_authentication", error_description="${message}", max_age=${maxAge}`,
    },
  });
}
