import type { AssuranceLevel } from '@sessiond/protocol';
import type { StepUpFactor } from '../store/records.js';

/** RFC 8176 method names each factor adds to a session's `amr`. */
const FACTOR_METHODS: Record<StepUpFactor, readonly string[]> = {
  password: ['pwd'],
  totp: ['otp'],
  // No RFC 8176 name is specific to email; `otp` is the nearest, and reauthFactor tells them apart.
  email_code: ['otp'],
  // User verification is required, so the passkey alone is two factors (possession and PIN/biometric).
  passkey: ['hwk', 'mfa'],
};

/**
 * What a session's assurance becomes after a step-up with `factor` (decision 024). A passkey with
 * user verification and a TOTP code are AAL2 authenticators (NIST SP 800-63B §4.2). An email
 * code is not (§5.1.3.1 rules email out for out-of-band authentication), and neither is the
 * password again: both re-authenticate the user and clear a risk flag, but leave `acr` as it was.
 */
export function afterStepUp(
  session: { acr: AssuranceLevel; amr: readonly string[] | null },
  factor: StepUpFactor,
): { acr: AssuranceLevel; amr: string[] } {
  const methods = new Set([...(session.amr ?? []), ...FACTOR_METHODS[factor]]);
  const strong = factor === 'passkey' || factor === 'totp';
  if (factor === 'totp' && methods.has('pwd')) methods.add('mfa');
  return { acr: strong ? 'aal2' : session.acr, amr: [...methods] };
}

/** The `amr` of a session opened by this factor alone (a passkey sign-in). */
export function methodsOf(factor: StepUpFactor): string[] {
  return [...FACTOR_METHODS[factor]];
}
