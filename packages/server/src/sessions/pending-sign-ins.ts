import type { EventBus } from '../bus/event-bus.js';
import type { CeremonyStore } from '../ceremonies/ceremony-store.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { FactorBinding, FactorProof, FactorVerifier } from '../factors/factor-verifier.js';
import { factorOf } from '../factors/factor-verifier.js';
import type { RequestContext } from '../http/request-context.js';
import { randomToken, sha256 } from '../lib/crypto.js';
import type { RiskVerdict } from '../risk/risk-engine.js';
import type { StepUpFactor, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

/** How long a password sign-in waits for its second factor. */
const PENDING_TTL_MS = 5 * 60_000;
/** Wrong second factors per pending sign-in before it is gone (the account throttle counts too). */
const MAX_ATTEMPTS = 5;
const PENDING_TOKEN_SHAPE = /^ps_[A-Za-z0-9_-]{43}$/;

/** What a pending sign-in remembers until its second factor passes. */
interface PendingData {
  clientId: string;
  factors: StepUpFactor[];
  verdict: RiskVerdict;
}

export interface PendingSignIn extends PendingData {
  id: string;
  userId: string;
}

/** The factors whose ceremonies the pending sign-in starts (slices of issue 14 implement them). */
export interface SecondFactorCeremonies {
  sendEmailCode(
    user: UserRecord,
    binding: FactorBinding,
    context: RequestContext,
  ): Promise<{ expiresIn: number; sentTo: string }>;
  startPasskeyAssertion(
    user: UserRecord,
    binding: FactorBinding,
  ): Promise<{ ceremonyId: string; options: unknown }>;
}

/**
 * Risk verdicts at sign-in (decision 026). A suspicious password sign-in by a user who has a
 * second factor gets no session, only a pending sign-in: a short-lived, single-use token that
 * the second factor turns into a session. The password alone was not enough this time, so no
 * access token, however restricted, leaves before the second factor passes.
 */
export class PendingSignIns {
  constructor(
    private readonly deps: {
      ceremonies: CeremonyStore;
      factors: FactorVerifier;
      secondFactors: SecondFactorCeremonies;
      store: SessionStore;
      clock: Clock;
      bus: EventBus;
    },
  ) {}

  /**
   * Demands a second factor: throws `second_factor_required` with a pending token, or returns
   * when the user has none to give (the sign-in then goes ahead, flagged for step-up).
   */
  async demand(
    user: UserRecord,
    input: { clientId: string; verdict: RiskVerdict },
    context: RequestContext,
  ): Promise<void> {
    const factors = await this.deps.factors.secondFactorsOf(user);
    if (factors.length === 0) return;
    const now = this.deps.clock.now();
    const token = randomToken('ps_');
    const id = sha256(token);
    await this.deps.ceremonies.open<PendingData>(
      {
        id,
        purpose: 'pending_sign_in',
        userId: user.id,
        sessionId: null,
        secretHash: id,
        data: { clientId: input.clientId, factors, verdict: input.verdict },
        createdAt: now,
        expiresAt: now + PENDING_TTL_MS,
      },
      now,
    );
    // A user whose only second factor is their inbox gets the code without asking for it.
    const sent =
      factors.length === 1 && factors[0] === 'email_code'
        ? await this.#sendAtOnce(user, id, context)
        : undefined;
    await this.deps.store.appendLog({
      action: 'second_factor_required',
      success: true,
      userId: user.id,
      ip: context.ip,
      userAgent: context.userAgent,
      createdAt: now,
      detail: { risk: input.verdict, factors },
    });
    this.deps.bus.publish('login.second_factor_required', {
      user_id: user.id,
      session_id: null,
      device_id: null,
      at: new Date(now).toISOString(),
      ip: context.ip,
      factors,
    });
    throw new SessiondError(
      'second_factor_required',
      'this sign-in needs a second factor (POST /api/auth/session/verify with the pending_token)',
      {
        details: {
          factors,
          pending_token: token,
          expires_in: PENDING_TTL_MS / 1000,
          ...(sent ? { email_code: { sent: true, sent_to: sent.sentTo, expires_in: sent.expiresIn } } : {}),
        },
      },
    );
  }

  /**
   * Checks the second factor of a pending sign-in and uses it up. A wrong factor counts against
   * the pending sign-in (MAX_ATTEMPTS) and the account's throttle; a right one works once.
   */
  async complete(
    token: string,
    proof: FactorProof,
    context: RequestContext,
  ): Promise<{ user: UserRecord; pending: PendingSignIn; factor: StepUpFactor }> {
    const { pending, user } = await this.#find(token);
    const factor = factorOf(proof);
    if (!pending.factors.includes(factor)) {
      throw new SessiondError('factor_not_accepted', `this sign-in accepts: ${pending.factors.join(', ')}`, {
        details: { factors: pending.factors },
      });
    }
    const ok = await this.deps.factors.verify(user, proof, { pendingSignInId: pending.id }, context);
    const now = this.deps.clock.now();
    if (!ok) {
      const left = await this.deps.ceremonies.recordFailure(pending.id, MAX_ATTEMPTS);
      await this.deps.store.appendLog({
        action: 'login_failed',
        success: false,
        error: 'invalid_credentials',
        userId: user.id,
        ip: context.ip,
        userAgent: context.userAgent,
        createdAt: now,
        detail: { second_factor: factor, attempts_left: left },
      });
      throw new SessiondError(
        'invalid_credentials',
        left > 0 ? 'the second factor is wrong' : 'the second factor is wrong; sign in again',
      );
    }
    // One use: of two completions racing with the same token, one opens the session.
    if (!(await this.deps.ceremonies.consume(pending.id, 'pending_sign_in', now))) throw pendingInvalid();
    return { user, pending, factor };
  }

  async sendEmailCode(
    token: string,
    context: RequestContext,
  ): Promise<{ expiresIn: number; sentTo: string }> {
    const { pending, user } = await this.#find(token);
    if (!pending.factors.includes('email_code')) {
      throw new SessiondError('factor_unavailable', 'this sign-in does not accept an email code');
    }
    return this.deps.secondFactors.sendEmailCode(user, { pendingSignInId: pending.id }, context);
  }

  async startPasskeyAssertion(token: string): Promise<{ ceremonyId: string; options: unknown }> {
    const { pending, user } = await this.#find(token);
    if (!pending.factors.includes('passkey')) {
      throw new SessiondError('factor_unavailable', 'this account has no passkey');
    }
    return this.deps.secondFactors.startPasskeyAssertion(user, { pendingSignInId: pending.id });
  }

  /**
   * The first code of an inbox-only user. Refused by the send limit (a step-up's code a moment
   * ago), the sign-in still answers with its pending token, and the client asks for the code.
   */
  async #sendAtOnce(
    user: UserRecord,
    id: string,
    context: RequestContext,
  ): Promise<{ expiresIn: number; sentTo: string } | undefined> {
    try {
      return await this.deps.secondFactors.sendEmailCode(user, { pendingSignInId: id }, context);
    } catch (error) {
      if (error instanceof SessiondError && error.code === 'rate_limited') return undefined;
      throw error;
    }
  }

  async #find(token: string): Promise<{ pending: PendingSignIn; user: UserRecord }> {
    if (!PENDING_TOKEN_SHAPE.test(token)) throw pendingInvalid();
    const now = this.deps.clock.now();
    const ceremony = await this.deps.ceremonies.find<PendingData>(sha256(token), 'pending_sign_in', now);
    const user = ceremony?.userId ? await this.deps.store.findUserById(ceremony.userId) : undefined;
    if (!ceremony || !user) throw pendingInvalid();
    return { pending: { id: ceremony.id, userId: user.id, ...ceremony.data }, user };
  }
}

function pendingInvalid(): SessiondError {
  return new SessiondError(
    'ceremony_invalid',
    'the pending sign-in is unknown, expired or used: sign in again',
  );
}
