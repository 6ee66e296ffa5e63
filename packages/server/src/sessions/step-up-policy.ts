import type { AssuranceLevel } from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { StepUpFactor, UserRecord } from '../store/records.js';
import { afterStepUp } from './authentication-methods.js';
import type { Authenticated } from './authenticator.js';
import { requireRecentReauthentication } from './reauthentication.js';

/** What the rule needs to know of a session. */
export interface StepUpSession {
  acr: AssuranceLevel;
  amr: readonly string[] | null;
  authTime: number;
}

/**
 * Which factors satisfy a step-up of `session` now, strongest first (decision 024). A step-up
 * must add something against whoever holds the session: a second factor the user has (passkey
 * with user verification, TOTP, an email code) always does. The password alone does only when
 * the session was not opened with it (an OpenID or backend sign-in), or when it was typed at
 * least `passwordMinAgeMs` ago: then it proves someone who knows it is here now, against a
 * stolen or unattended session. Typed again right after signing in, it proves nothing new.
 */
export function stepUpFactors(input: {
  session: StepUpSession;
  user: UserRecord;
  /** FactorVerifier.secondFactorsOf(user): the second factors usable now, strongest first. */
  secondFactors: readonly StepUpFactor[];
  now: number;
  passwordMinAgeMs: number;
}): StepUpFactor[] {
  const { session, user } = input;
  const factors = [...input.secondFactors];
  if (user.passwordHash !== null && user.email !== null) {
    // Sessions from before amr was recorded (migration 0008) were password sign-ins.
    const openedWithPassword = session.amr === null || session.amr.includes('pwd');
    if (!openedWithPassword || passwordAcceptedIn(input) === 0) factors.push('password');
  }
  return factors;
}

/** Milliseconds until the password alone is accepted for this session (0: it is now). */
function passwordAcceptedIn(input: {
  session: StepUpSession;
  now: number;
  passwordMinAgeMs: number;
}): number {
  return Math.max(0, input.session.authTime + input.passwordMinAgeMs - input.now);
}

/** RFC 9470 `acr_values`: the assurance each acceptable factor leaves the session at, best first. */
export function acrValuesOf(session: StepUpSession, factors: readonly StepUpFactor[]): AssuranceLevel[] {
  const values = factors.map((factor) => afterStepUp(session, factor).acr);
  return [...new Set(values.length > 0 ? values : [session.acr])].sort((a, b) => b.localeCompare(a));
}

/**
 * The step-up rule with its look-ups: which factors a session's user may step up with, and the
 * errors that name them, so a client can offer exactly those (decision 024).
 */
export class StepUpPolicy {
  constructor(
    private readonly deps: {
      users: { findUserById(id: string): Promise<UserRecord | undefined> };
      factors: { secondFactorsOf(user: UserRecord): Promise<StepUpFactor[]> };
      clock: Clock;
      passwordMinAgeMs: number;
      /** SESSIOND_REAUTH_MAX_AGE_SECONDS, in ms: how recent a factor change's re-authentication must be. */
      reauthMaxAgeMs: number;
    },
  ) {}

  /**
   * The user of a session that may change factors now (decision 016): not flagged for step-up,
   * and re-authenticated recently with a factor strong enough. The one gate of every factor
   * change (TOTP, passkeys).
   */
  async reauthenticatedUser(auth: Authenticated): Promise<UserRecord> {
    // A session flagged since its step-up (a suspicious refresh) steps up again first.
    await this.requireNoPendingStepUp(auth);
    const user = await this.deps.users.findUserById(auth.session.userId);
    if (!user) throw new SessiondError('session_revoked', 'the account of this session is gone');
    const secondFactors = await this.deps.factors.secondFactorsOf(user);
    requireRecentReauthentication(auth.session, user, {
      now: this.deps.clock.now(),
      maxAgeMs: this.deps.reauthMaxAgeMs,
      hasPasskeys: secondFactors.includes('passkey'),
      stepUpFactors: await this.factorsFor(auth.session, user),
    });
    return user;
  }

  async factorsFor(session: StepUpSession, user: UserRecord): Promise<StepUpFactor[]> {
    return stepUpFactors({
      session,
      user,
      secondFactors: await this.deps.factors.secondFactorsOf(user),
      now: this.deps.clock.now(),
      passwordMinAgeMs: this.deps.passwordMinAgeMs,
    });
  }

  /**
   * Unless `factor` satisfies a step-up of this session now, throws an error naming the
   * `factors` that do: 401 `factor_not_accepted` for the password the session was just opened
   * with; for a factor the user does not have, what is missing (`totp_not_enrolled`,
   * `factor_unavailable`).
   */
  async requireAccepted(session: StepUpSession, user: UserRecord, factor: StepUpFactor): Promise<void> {
    const factors = await this.factorsFor(session, user);
    if (factors.includes(factor)) return;
    const details = { factors };
    if (factor !== 'password') {
      if (factor === 'totp')
        throw new SessiondError('totp_not_enrolled', 'no TOTP factor is enrolled', { details });
      const missing = factor === 'passkey' ? 'no passkey is registered' : 'email codes are unavailable';
      throw new SessiondError('factor_unavailable', `${missing} for this account`, { details });
    }
    if (user.passwordHash === null || user.email === null) {
      throw new SessiondError('factor_unavailable', 'this account has no password', { details });
    }
    const wait = Math.ceil(
      passwordAcceptedIn({
        session,
        now: this.deps.clock.now(),
        passwordMinAgeMs: this.deps.passwordMinAgeMs,
      }) / 1000,
    );
    // With nothing but the password (no second factor, no mail delivery), say when it counts.
    const alone = factors.length === 0;
    throw new SessiondError(
      'factor_not_accepted',
      alone
        ? `the password was just used to sign in; it is accepted again in ${wait} s`
        : `the password was just used to sign in; step up with ${factors.join(', ')}`,
      { details: alone ? { factors, password_accepted_in: wait } : details },
    );
  }

  /** Sensitive operations refuse a session flagged for step-up; the answer names what clears it. */
  async requireNoPendingStepUp(auth: Authenticated): Promise<void> {
    if (!auth.session.stepUpRequired) return;
    throw await this.stepUpRequired(auth);
  }

  /** 401 `step_up_required` with the acceptable `factors` and the RFC 9470 `acr_values`. */
  async stepUpRequired(auth: Authenticated): Promise<SessiondError> {
    const user = await this.deps.users.findUserById(auth.session.userId);
    const factors = user ? await this.factorsFor(auth.session, user) : [];
    return new SessiondError(
      'step_up_required',
      'this operation needs re-authentication (POST /api/auth/session/step-up)',
      { details: { factors, acr_values: acrValuesOf(auth.session, factors).join(' ') } },
    );
  }
}
