import type { AssuranceLevel, DeviceInput, DeviceSummary } from '@sessiond/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import type { TOTPFactor } from '../accounts/totp-factor.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { DeviceService } from '../devices/device-service.js';
import { SessiondError } from '../errors.js';
import { type FactorProof, type FactorVerifier, factorOf } from '../factors/factor-verifier.js';
import type { RequestContext } from '../http/request-context.js';
import { randomToken, type SecretBox, sha256 } from '../lib/crypto.js';
import { uuidv7 } from '../lib/ids.js';
import { SSO_CLIENT_ID } from '../provider/client-registry.js';
import type { RiskEngine, RiskVerdict } from '../risk/risk-engine.js';
import type { NewLogEntry, SessionRecord, StepUpFactor, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { AccessTokenIssuer, IssuedAccessToken } from '../tokens/access-token-issuer.js';
import { afterStepUp } from './authentication-methods.js';
import type { Authenticated } from './authenticator.js';
import { eventSubject, systemLogEntry } from './event-subject.js';
import type { PendingSignIns } from './pending-sign-ins.js';
import { endedSessionError, type SessionEnding } from './session-ending.js';
import type { SessionPolicy } from './session-policy.js';
import type { StepUpPolicy } from './step-up-policy.js';

/** How the user of a new session authenticated, as its opener established it. */
export interface SessionAuthentication {
  acr: AssuranceLevel;
  /** RFC 8176 method names (`pwd`, `otp`, `mfa`, `fed`, ...). */
  amr?: readonly string[];
  /** When the user authenticated, if before now (an upstream provider's `auth_time`). */
  authTime?: number;
  /** Set when this authentication counts as a re-authentication with that factor (decision 016). */
  reauthFactor?: StepUpFactor;
  /** Added to the `login` log row's detail. */
  detail?: Record<string, unknown>;
}

export interface StartSessionInput {
  authentication: SessionAuthentication;
  device?: DeviceInput;
  clientId?: string;
  /** Custom claims, already checked against SESSIOND_CUSTOM_CLAIMS. */
  claims?: Readonly<Record<string, unknown>>;
  /**
   * The risk verdict the caller already reached for this sign-in, not weighed again. With
   * `secondFactorPassed`, the second factor it demanded passed: the session opens unflagged
   * (decision 026).
   */
  assessed?: { verdict: RiskVerdict; secondFactorPassed: boolean };
  /** An authorization-code session (issue 15): the SSO session it came from, and the scopes granted. */
  ssoSessionId?: string;
  scope?: string;
  /**
   * The session whose device this one shares (the SSO session, for an app session an authorization
   * code opens): the app's token request comes from the app, not the browser that signed in.
   */
  sameDeviceAs?: SessionRecord;
}

/** What sign-in, refresh and step-up hand back to the client. */
export interface TokenGrant {
  access: IssuedAccessToken;
  refreshToken: string;
  session: SessionRecord;
  device: DeviceSummary;
}

export interface SessionServiceDeps {
  store: SessionStore;
  clock: Clock;
  bus: EventBus;
  accounts: AccountService;
  devices: DeviceService;
  issuer: AccessTokenIssuer;
  ending: SessionEnding;
  policy: SessionPolicy;
  /** Seals a refresh successor for its grace window. */
  successorBox: SecretBox;
  clients: readonly string[];
  risk: RiskEngine;
  totp: TOTPFactor;
  /** How far back the risk engine looks at the user's history. */
  riskWindowMs: number;
  /** Checks a step-up's proof, whatever the factor. */
  factors: FactorVerifier;
  /** Which factors satisfy a step-up (decision 024). */
  stepUpPolicy: StepUpPolicy;
  /** Suspicious password sign-ins wait here for their second factor (decision 026). */
  pendingSignIns: PendingSignIns;
  log: Pick<FastifyBaseLogger, 'info'>;
}

const REFRESH_TOKEN_SHAPE = /^rt_[A-Za-z0-9_-]{43}$/;

/** The session lifecycle: sign-in, refresh with rotation, step-up, activity, revocation. */
export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  async signIn(
    input: { email: string; password: string; totp?: string; device?: DeviceInput; clientId?: string },
    context: RequestContext,
  ): Promise<TokenGrant> {
    const clientId = input.clientId ?? 'default';
    if (!this.deps.clients.includes(clientId))
      throw new SessiondError('invalid_request', 'unknown client_id');
    return this.#signIn(input, clientId, context);
  }

  /**
   * A password sign-in on sessiond's own sign-in page (issue 15, decision 029): it opens an SSO
   * session (client `sessiond`), a client no caller of the JSON API may name.
   */
  async signInToSSO(
    input: { email: string; password: string; device?: DeviceInput | undefined },
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { device, ...credentials } = input;
    return this.#signIn(
      { ...credentials, ...(device !== undefined ? { device } : {}) },
      SSO_CLIENT_ID,
      context,
    );
  }

  async #signIn(
    input: { email: string; password: string; totp?: string; device?: DeviceInput },
    clientId: string,
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { accounts, devices } = this.deps;
    const check = await accounts.checkCredentials({
      email: input.email,
      password: input.password,
      ...(input.totp !== undefined ? { totp: input.totp } : {}),
      ip: context.ip,
      onTrustedDevice: (user) => devices.holdsTrustedDevice(user.id, input.device),
    });
    if (!check.ok) return this.#rejectSignIn(check.user, context);
    // Judged before anything is written: a sign-in that must wait for its second factor opens
    // no session and records no device.
    const verdict = await this.#assessSignIn(
      check.user,
      await devices.peek(check.user.id, input.device),
      context,
    );
    if (verdict.suspicious && !check.secondFactor) {
      await this.deps.pendingSignIns.demand(check.user, { clientId, verdict }, context);
    }
    return this.startSession(
      check.user,
      {
        clientId,
        ...(input.device !== undefined ? { device: input.device } : {}),
        authentication: check.secondFactor
          ? // Password and TOTP together are two factors (NIST SP 800-63B AAL2), and a re-authentication.
            {
              acr: 'aal2',
              amr: ['pwd', 'otp', 'mfa'],
              reauthFactor: 'totp',
              detail: { second_factor: 'totp' },
            }
          : { acr: 'aal1', amr: ['pwd'] },
        // A TOTP code with the password is the second factor a suspicious sign-in would be asked for.
        assessed: { verdict, secondFactorPassed: check.secondFactor !== undefined },
      },
      context,
    );
  }

  /**
   * Opens a session for a user whose authentication the caller has established: sessiond's own
   * password check above, a registered backend, an upstream OpenID provider (issue 13). Whatever
   * the way in, the same things happen: the device is recognised, the risk engine weighs the
   * sign-in (a suspicious one must step up), the log rows, events and webhooks are the same.
   */
  async startSession(
    user: UserRecord,
    input: StartSessionInput,
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { store, clock, devices, bus, policy } = this.deps;
    const clientId = input.clientId ?? 'default';
    // sessiond's own sign-in page opens SSO sessions (issue 15); no app may name that client.
    if (clientId !== SSO_CLIENT_ID && !this.deps.clients.includes(clientId))
      throw new SessiondError('invalid_request', 'unknown client_id');
    const { authentication } = input;
    const recognised =
      (input.sameDeviceAs && (await devices.established(user.id, input.sameDeviceAs.deviceId))) ??
      (await devices.recognise(user.id, input.device, context));
    const { device, isNew } = recognised;
    const now = clock.now();
    const verdict =
      input.assessed?.verdict ??
      (await this.#assessSignIn(user, { isNew, trusted: device.trusted }, context));
    // An authentication that already holds an AAL2 factor (a passkey sign-in, password and TOTP)
    // gave what a suspicious verdict would ask for (decision 026).
    const strong = authentication.reauthFactor === 'passkey' || authentication.reauthFactor === 'totp';
    const cleared = strong || input.assessed?.secondFactorPassed === true;
    const risk = !verdict.suspicious ? 'allowed' : cleared ? 'second_factor_passed' : 'step_up_required';
    const idleTimeoutMs = policy.idleTimeoutMs(device);
    const session: SessionRecord = {
      id: uuidv7(now),
      userId: user.id,
      deviceId: device.id,
      clientId,
      acr: authentication.acr,
      ip: context.ip,
      userAgent: context.userAgent,
      authTime: authentication.authTime ?? now,
      createdAt: now,
      lastActivityAt: now,
      idleTimeoutMs,
      idleExpiresAt: now + idleTimeoutMs,
      expiresAt: now + policy.lifetimeMs,
      endedAt: null,
      endReason: null,
      // A suspicious sign-in still signs in, but must step up before anything sensitive (unless
      // it already passed the second factor it was asked for).
      stepUpRequired: risk === 'step_up_required',
      refreshCount: 0,
      reauthAt: authentication.reauthFactor ? now : null,
      reauthFactor: authentication.reauthFactor ?? null,
      amr: authentication.amr ?? null,
      claims: input.claims ?? null,
      ssoSessionId: input.ssoSessionId ?? null,
      scope: input.scope ?? null,
      location: context.location ?? null,
    };
    const refreshToken = randomToken('rt_');
    const logBase = this.#logBase(session, context, now);
    const loginDetail = {
      risk: verdict,
      ...authentication.detail,
      // Named a known device without its secret: signed in as a new device instead.
      ...(recognised.claimRefused ? { device_claim_refused: true } : {}),
    };
    const logs: NewLogEntry[] = [{ ...logBase, action: 'login', detail: loginDetail }];
    if (isNew) logs.push({ ...logBase, action: 'new_device_login' });
    if (risk === 'step_up_required')
      logs.push({ ...logBase, action: 'step_up_required', detail: { reason: 'risk', risk: verdict } });
    await store.createSession({
      session,
      refreshToken: {
        id: uuidv7(now),
        sessionId: session.id,
        tokenHash: sha256(refreshToken),
        createdAt: now,
      },
      logs,
    });
    const subject = eventSubject(session, now);
    bus.publish('session.created', { ...subject, client_id: clientId, new_device: isNew, risk });
    if (isNew) bus.publish('device.new', { ...subject, ip: context.ip, user_agent: context.userAgent });
    if (risk === 'step_up_required') bus.publish('session.step_up_required', { ...subject, reason: 'risk' });
    this.#logVerdict(session, 'sign-in', verdict);
    return {
      access: await this.deps.issuer.issue(session),
      refreshToken,
      session,
      device: {
        id: device.id,
        trusted: device.trusted,
        new: isNew,
        ...(recognised.secret !== undefined ? { secret: recognised.secret } : {}),
      },
    };
  }

  /**
   * Finishes a password sign-in that had to wait for its second factor (decision 026): the factor
   * passes once, and the session opens as if the password and that factor had come together.
   */
  async completeSignIn(
    input: { pendingToken: string; proof: FactorProof; device?: DeviceInput },
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { user, pending, factor } = await this.deps.pendingSignIns.complete(
      input.pendingToken,
      input.proof,
      context,
    );
    return this.startSession(
      user,
      {
        clientId: pending.clientId,
        ...(input.device !== undefined ? { device: input.device } : {}),
        authentication: {
          ...afterStepUp({ acr: 'aal1', amr: ['pwd'] }, factor),
          reauthFactor: factor,
          detail: { second_factor: factor },
        },
        assessed: { verdict: pending.verdict, secondFactorPassed: true },
      },
      context,
    );
  }

  /** Weighs a sign-in with valid credentials against the user's recent history. */
  async #assessSignIn(
    user: UserRecord,
    device: { isNew: boolean; trusted: boolean },
    context: RequestContext,
  ): Promise<RiskVerdict> {
    const now = this.deps.clock.now();
    return this.deps.risk.assessSignIn({
      device,
      ip: context.ip,
      history: await this.deps.store.riskHistory({
        userId: user.id,
        ip: context.ip,
        since: now - this.deps.riskWindowMs,
        now,
      }),
    });
  }

  /**
   * Rotates a refresh token (RFC 9700 §4.14.2). The grace window lets honest concurrent
   * callers converge on one successor; any other replay is treated as theft by the store.
   */
  async refresh(
    refreshToken: string,
    context: RequestContext,
    options: { clientId?: string } = {},
  ): Promise<TokenGrant> {
    const { store, clock, bus } = this.deps;
    if (!REFRESH_TOKEN_SHAPE.test(refreshToken)) throw invalidRefreshToken();
    if (options.clientId !== undefined) await this.#requireIssuedTo(refreshToken, options.clientId);
    const successor = this.#mintSuccessor();
    const now = clock.now();
    const outcome = await store.rotateRefreshToken({
      tokenHash: sha256(refreshToken),
      successor: successor.stored,
      now,
      graceMs: this.deps.policy.refreshGraceMs,
      ip: context.ip,
      userAgent: context.userAgent,
    });
    switch (outcome.kind) {
      case 'not_found':
        throw invalidRefreshToken();
      case 'session_ended':
        await this.deps.ending.expireIfDue(outcome.session);
        throw endedSessionError(outcome.session, now);
      case 'reused': {
        const { session } = outcome;
        bus.publish('refresh_token.reused', { ...eventSubject(session, now), ip: context.ip });
        this.deps.ending.announceRevoked(session, 'refresh_token_reused', 'system', now);
        throw new SessiondError(
          'refresh_token_reused',
          'refresh token was already used; the session has been revoked',
        );
      }
      case 'rotated':
      case 'grace': {
        const { session } = outcome;
        const token =
          outcome.kind === 'rotated' ? successor.token : this.deps.successorBox.open(outcome.successorSealed);
        if (outcome.kind === 'rotated') {
          bus.publish('session.refreshed', eventSubject(session, now));
          // Honest races land in `grace` and are never assessed: only a real rotation is a new use.
          await this.#assessUse(session, outcome.previous, context);
        }
        return this.#grant(session, token);
      }
    }
  }

  /**
   * Re-authentication with a factor the step-up policy accepts for this session (decision 024):
   * passkey or TOTP move it to aal2, an email code or the password keep its acr; either way
   * `auth_time` is fresh, the factor joins `amr`, the step-up flag clears and the tokens are new.
   * The session's state (cart, follows) is the user's and is not touched.
   */
  async stepUp(
    auth: Pick<Authenticated, 'session'>,
    proof: FactorProof,
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { store, clock, bus } = this.deps;
    const user = await store.findUserById(auth.session.userId);
    if (!user) throw endedSessionError(auth.session, clock.now());
    const factor = factorOf(proof);
    const logBase = this.#logBase(auth.session, context, clock.now());
    const refuse = async (error: SessiondError): Promise<never> => {
      await store.appendLog({
        ...logBase,
        action: 'step_up',
        success: false,
        error: error.code,
        detail: { factor },
      });
      throw error;
    };
    // Refused before the proof is looked at: a password that cannot count is not checked either.
    await this.deps.stepUpPolicy.requireAccepted(auth.session, user, factor).catch(refuse);
    const onTrustedDevice = async (): Promise<boolean> =>
      (await store.findDevice(user.id, auth.session.deviceId))?.trusted === true;
    const ok = await this.deps.factors.verify(
      user,
      proof,
      { sessionId: auth.session.id },
      { ...context, onTrustedDevice },
    );
    if (!ok) await refuse(wrongProof(factor));
    const now = clock.now();
    const successor = this.#mintSuccessor();
    const methods = afterStepUp(auth.session, factor);
    const session = await store.recordStepUp(auth.session.id, {
      ...methods,
      factor,
      now,
      successor: successor.stored,
      log: { ...logBase, createdAt: now, action: 'step_up', detail: { factor, acr: methods.acr } },
    });
    if (!session) throw endedSessionError(auth.session, now);
    bus.publish('session.step_up', { ...eventSubject(session, now), factor, acr: session.acr });
    return this.#grant(session, successor.token);
  }

  /** Idle heartbeat: slides the inactivity deadline. */
  async touch(auth: Authenticated, context: RequestContext): Promise<SessionRecord> {
    const now = this.deps.clock.now();
    const session = await this.deps.store.recordActivity(auth.session.id, { now, ip: context.ip });
    if (!session) throw endedSessionError(auth.session, now);
    return session;
  }

  async logout(auth: Authenticated, context: RequestContext): Promise<void> {
    await this.deps.ending.revoke(auth.session, { reason: 'logout', actor: 'user', context });
  }

  /** Revokes one of the caller's own sessions (404 for anyone else's, so ids cannot be probed). */
  async revokeOwn(auth: Authenticated, sessionId: string, context: RequestContext): Promise<boolean> {
    const session = await this.deps.store.findSession(sessionId);
    if (!session || session.userId !== auth.session.userId) {
      throw new SessiondError('session_not_found', 'no such session for this user');
    }
    // Ending another session is as sensitive as ending them all: one by one must not sidestep it.
    if (session.id !== auth.session.id) await this.deps.stepUpPolicy.requireNoPendingStepUp(auth);
    return this.deps.ending.revoke(session, { reason: 'revoked', actor: 'user', context });
  }

  async revokeAllOwn(
    auth: Authenticated,
    input: { keepCurrent: boolean },
    context: RequestContext,
  ): Promise<number> {
    const ended = await this.deps.ending.revokeAll({
      userId: auth.session.userId,
      reason: 'revoked_all',
      actor: 'user',
      context,
      requestedBy: { sessionId: auth.session.id, deviceId: auth.session.deviceId },
      ...(input.keepCurrent ? { exceptSessionId: auth.session.id } : {}),
    });
    return ended.length;
  }

  /** Did this refresh come from another network or another browser than the session's last use? */
  async #assessUse(
    session: SessionRecord,
    previous: { ip: string | null; userAgent: string | null },
    context: RequestContext,
  ): Promise<void> {
    const use = { ip: context.ip, userAgent: context.userAgent };
    let verdict = this.deps.risk.assessSessionUse({ session: { ...previous, trusted: false }, ...use });
    if (verdict.signals.length === 0) return;
    // Rare from here on: only now is the device's trust worth a read.
    const devices = await this.deps.store.listDevices(session.userId);
    const trusted = devices.some((device) => device.id === session.deviceId && device.trusted);
    if (trusted) verdict = this.deps.risk.assessSessionUse({ session: { ...previous, trusted }, ...use });
    this.#logVerdict(session, 'refresh', verdict);
    const now = this.deps.clock.now();
    if (verdict.suspicious && !session.stepUpRequired) {
      await this.requireStepUp(session, 'risk', {
        risk: verdict,
        ip: context.ip,
        user_agent: context.userAgent,
      });
    } else {
      await this.deps.store.appendLog({
        ...this.#logBase(session, context, now),
        action: 'risk_assessed',
        detail: { risk: verdict },
      });
    }
  }

  #logVerdict(session: SessionRecord, at: string, verdict: RiskVerdict): void {
    if (verdict.signals.length === 0) return;
    this.deps.log.info(
      { sessionId: session.id, userId: session.userId, at, risk: verdict },
      verdict.suspicious ? 'suspicious: step-up required' : 'risk signals below the threshold',
    );
  }

  /**
   * Flags a live session for step-up: sensitive operations refuse it until it re-authenticates,
   * and its devices hear `session.step_up_required` at once. False if the session has ended.
   */
  async requireStepUp(
    session: SessionRecord,
    reason: string,
    detail: Record<string, unknown> = {},
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const flagged = await this.deps.store.requireStepUp(
      session.id,
      systemLogEntry(session, 'step_up_required', now, { reason, ...detail }),
    );
    if (flagged) this.deps.bus.publish('session.step_up_required', { ...eventSubject(session, now), reason });
    return flagged;
  }

  /** Forgets a device: its sessions end and its record goes (next sign-in there is "new"). */
  async forgetDevice(auth: Authenticated, deviceId: string, context: RequestContext): Promise<void> {
    const userId = auth.session.userId;
    const ended = await this.deps.ending.forgetDevice({
      userId,
      deviceId,
      actor: 'user',
      context,
      currentSessionId: auth.session.id,
    });
    if (!ended) throw new SessiondError('device_not_found', 'no such device for this user');
    this.deps.bus.publish('device.forgotten', {
      ...eventSubject(auth.session, this.deps.clock.now()),
      device_id: deviceId,
    });
  }

  /**
   * RFC 6749 §6: a refresh token is only good for the client it was issued to. Checked before
   * rotating, and without touching the token, so a wrong client can neither rotate nor burn it.
   */
  async #requireIssuedTo(refreshToken: string, clientId: string): Promise<void> {
    const token = await this.deps.store.findRefreshToken(sha256(refreshToken));
    const session = token && (await this.deps.store.findSession(token.sessionId));
    if (session && session.clientId !== clientId) throw invalidRefreshToken();
  }

  /** Logs and announces a failed sign-in, then refuses it the same way whoever it was. */
  async #rejectSignIn(user: UserRecord | undefined, context: RequestContext): Promise<never> {
    const now = this.deps.clock.now();
    await this.deps.store.appendLog({
      action: 'login_failed',
      success: false,
      error: 'invalid_credentials',
      userId: user?.id ?? null,
      ip: context.ip,
      userAgent: context.userAgent,
      createdAt: now,
    });
    this.deps.bus.publish('login.failed', {
      user_id: user?.id ?? null,
      session_id: null,
      device_id: null,
      ip: context.ip,
      at: new Date(now).toISOString(),
    });
    throw new SessiondError('invalid_credentials', 'email or password is wrong');
  }

  /** A new refresh token, its hash to store, and its sealed copy for the grace window. */
  #mintSuccessor() {
    const token = randomToken('rt_');
    return {
      token,
      stored: {
        id: uuidv7(this.deps.clock.now()),
        tokenHash: sha256(token),
        sealed: this.deps.successorBox.seal(token),
      },
    };
  }

  async #grant(session: SessionRecord, refreshToken: string): Promise<TokenGrant> {
    const device = await this.deps.store.findDevice(session.userId, session.deviceId);
    return {
      access: await this.deps.issuer.issue(session),
      refreshToken,
      session,
      device: { id: session.deviceId, trusted: device?.trusted ?? false, new: false },
    };
  }

  #logBase(session: SessionRecord, context: RequestContext, now: number) {
    return {
      success: true,
      userId: session.userId,
      sessionId: session.id,
      deviceId: session.deviceId,
      ip: context.ip,
      userAgent: context.userAgent,
      createdAt: now,
    } satisfies Omit<NewLogEntry, 'action'>;
  }
}

function invalidRefreshToken(): SessiondError {
  return new SessiondError('refresh_token_invalid', 'refresh token is not valid');
}

/** A proof that did not verify. Wrong codes stay `invalid_credentials`, as at sign-in. */
function wrongProof(factor: StepUpFactor): SessiondError {
  switch (factor) {
    case 'password':
      return new SessiondError('invalid_credentials', 'password is wrong');
    case 'totp':
      return new SessiondError('invalid_credentials', 'the code is wrong or was used already');
    case 'email_code':
      return new SessiondError('invalid_credentials', 'the code is wrong, expired, or was used already');
    case 'passkey':
      return new SessiondError('passkey_invalid', 'the passkey assertion did not verify');
  }
}
