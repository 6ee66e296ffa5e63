import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { AccountService } from '../accounts/account-service.js';
import type { TOTPFactor } from '../accounts/totp-factor.js';
import type { RequestContext } from '../http/request-context.js';
import type { StepUpFactor, UserRecord } from '../store/records.js';

/** What a user presents to pass a factor: at step-up, or as a sign-in's second step. */
export type FactorProof =
  | { password: string }
  | { totp: string }
  | { emailCode: string }
  | { passkey: AuthenticationResponseJSON; ceremonyId: string };

/**
 * What the proof must be bound to. A step-up's ceremonies belong to the session that started
 * them; a pending sign-in's to that pending sign-in (its ceremony id). No other may complete them.
 */
export type FactorBinding = { sessionId: string } | { pendingSignInId: string };

/** Passkey assertions of a known user (PasskeyService implements it). */
export interface PasskeyAssertions {
  hasPasskeys(userId: string): Promise<boolean>;
  /** True if the assertion verifies for one of the user's passkeys, within a ceremony bound so. */
  verify(
    user: UserRecord,
    proof: { response: AuthenticationResponseJSON; ceremonyId: string },
    binding: FactorBinding,
    context: RequestContext,
  ): Promise<boolean>;
}

/** One-time codes mailed to the user (EmailCodes implements it). */
export interface EmailCodeFactor {
  /** False when mail delivery is not configured or the user has no address. */
  available(user: UserRecord): boolean;
  /** True if the code is the live one sent for this binding; wrong codes count against it. */
  verify(user: UserRecord, code: string, binding: FactorBinding): Promise<boolean>;
}

export function factorOf(proof: FactorProof): StepUpFactor {
  if ('password' in proof) return 'password';
  if ('totp' in proof) return 'totp';
  if ('emailCode' in proof) return 'email_code';
  return 'passkey';
}

/**
 * Checks a proof of one factor, whatever it is, under the same throttle as sign-in. Which
 * factors are acceptable for a given step is the caller's rule (StepUpPolicy), not this class's.
 */
export class FactorVerifier {
  constructor(
    private readonly deps: {
      accounts: AccountService;
      totp: TOTPFactor;
      passkeys: PasskeyAssertions;
      emailCodes: EmailCodeFactor;
    },
  ) {}

  /** The second factors this user could use now, strongest first. */
  async secondFactorsOf(user: UserRecord): Promise<StepUpFactor[]> {
    const factors: StepUpFactor[] = [];
    if (await this.deps.passkeys.hasPasskeys(user.id)) factors.push('passkey');
    if (user.totpEnabledAt != null) factors.push('totp');
    if (this.deps.emailCodes.available(user)) factors.push('email_code');
    return factors;
  }

  async verify(
    user: UserRecord,
    proof: FactorProof,
    binding: FactorBinding,
    context: RequestContext & { onTrustedDevice?: (user: UserRecord) => Promise<boolean> },
  ): Promise<boolean> {
    const { accounts } = this.deps;
    const throttle = {
      ip: context.ip,
      ...(context.onTrustedDevice ? { onTrustedDevice: context.onTrustedDevice } : {}),
    };
    if ('password' in proof) return accounts.confirmPassword(user, { password: proof.password, ...throttle });
    return accounts.checkUnderThrottle(user, throttle, () => {
      if ('totp' in proof) return this.deps.totp.accepts(user, proof.totp);
      if ('emailCode' in proof) return this.deps.emailCodes.verify(user, proof.emailCode, binding);
      return this.deps.passkeys.verify(
        user,
        { response: proof.passkey, ceremonyId: proof.ceremonyId },
        binding,
        context,
      );
    });
  }
}
