import type { DeviceInput, LogAction } from '@sessiond/protocol';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { FastifyBaseLogger } from 'fastify';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { FactorBinding, PasskeyAssertions } from '../factors/factor-verifier.js';
import type { RequestContext } from '../http/request-context.js';
import { methodsOf } from '../sessions/authentication-methods.js';
import type { Authenticated } from '../sessions/authenticator.js';
import { eventSubject, userLogEntry } from '../sessions/event-subject.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { StepUpPolicy } from '../sessions/step-up-policy.js';
import type { NewLogEntry, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { type CeremonyOwner, PASSKEY_CEREMONY_TTL_MS, type PasskeyCeremonies } from './passkey-ceremonies.js';
import type { PasskeyRecord, PasskeyStore } from './passkey-store.js';
import type { WebAuthnConfig } from './webauthn-config.js';

/** ES256 (COSE -7) and RS256 (-257): what platform authenticators and security keys make. */
const ALGORITHMS = [-7, -257];

/** A ceremony's handle and the options the browser passes to `navigator.credentials`. */
export interface StartedCeremony<Options> {
  ceremonyId: string;
  options: Options;
}

export interface PasskeyServiceDeps {
  passkeys: PasskeyStore;
  ceremonies: PasskeyCeremonies;
  store: SessionStore;
  /** Opens the sessions of passkey sign-ins; flags sessions when a clone is suspected. */
  sessions: Pick<SessionService, 'startSession' | 'requireStepUp'>;
  clock: Clock;
  bus: EventBus;
  webauthn: WebAuthnConfig;
  /** The gate of factor changes (decision 016), and the step-up flag's refusal naming the factors. */
  stepUpPolicy: Pick<StepUpPolicy, 'reauthenticatedUser' | 'requireNoPendingStepUp'>;
  log: Pick<FastifyBaseLogger, 'warn'>;
}

/** WebAuthn's user handle for a user: the bytes of the user id (opaque, no personal data). */
const userHandleOf = (userId: string): string => Buffer.from(userId, 'utf8').toString('base64url');

/**
 * Passkeys (WebAuthn, decision 025): registration, listing and removal by a signed-in user who
 * re-authenticated recently (decision 016), discoverable sign-in, and assertions of a known user
 * for a step-up or a pending sign-in (the PasskeyAssertions port of FactorVerifier). Every
 * response is checked against one single-use challenge, the configured origins and RP id exactly,
 * with user verification required.
 */
export class PasskeyService implements PasskeyAssertions {
  constructor(private readonly deps: PasskeyServiceDeps) {}

  hasPasskeys(userId: string): Promise<boolean> {
    return this.deps.passkeys.hasAny(userId);
  }

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.deps.passkeys.listForUser(userId);
  }

  async registrationOptions(
    auth: Authenticated,
  ): Promise<StartedCeremony<PublicKeyCredentialCreationOptionsJSON>> {
    const user = await this.#reauthenticatedUser(auth);
    const existing = await this.deps.passkeys.listForUser(user.id);
    const { rpID, rpName } = this.deps.webauthn;
    const options = await generateRegistrationOptions({
      rpName,
      rpID,
      userName: user.email ?? user.id,
      userID: Buffer.from(user.id, 'utf8'),
      timeout: PASSKEY_CEREMONY_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map(credentialDescriptor),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    const ceremonyId = await this.deps.ceremonies.open('passkey_registration', options.challenge, {
      userId: user.id,
      binding: { sessionId: auth.session.id },
    });
    return { ceremonyId, options };
  }

  async register(
    auth: Authenticated,
    input: { ceremonyId: string; response: RegistrationResponseJSON; name?: string },
    context: RequestContext,
  ): Promise<PasskeyRecord> {
    // The re-authentication was checked when the ceremony opened; it is bound to this session.
    await this.deps.stepUpPolicy.requireNoPendingStepUp(auth);
    const ceremony = await this.deps.ceremonies.use(input.ceremonyId, 'passkey_registration', {
      userId: auth.session.userId,
      binding: { sessionId: auth.session.id },
    });
    const { origins, rpID } = this.deps.webauthn;
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response: input.response,
        expectedChallenge: ceremony.challengeMatches,
        expectedOrigin: [...origins],
        expectedRPID: rpID,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
    } catch (error) {
      throw passkeyInvalid(error);
    }
    if (!verified.verified) throw passkeyInvalid(undefined);
    const info = verified.registrationInfo;
    const now = this.deps.clock.now();
    const passkey: PasskeyRecord = {
      id: info.credential.id,
      userId: auth.session.userId,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      aaguid: info.aaguid,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: input.name ?? null,
      createdAt: now,
      lastUsedAt: null,
    };
    const log = this.#log(auth, context, 'passkey_registered', { passkey_id: passkey.id });
    if (!(await this.deps.passkeys.add(passkey, log))) {
      throw new SessiondError('passkey_exists', 'this passkey is already registered');
    }
    this.#announce(auth, 'enrolled');
    return passkey;
  }

  async remove(auth: Authenticated, id: string, context: RequestContext): Promise<void> {
    const user = await this.#reauthenticatedUser(auth);
    const log = this.#log(auth, context, 'passkey_removed', { passkey_id: id });
    if (!(await this.deps.passkeys.remove(user.id, id, log))) {
      throw new SessiondError('passkey_not_found', 'no such passkey on this account');
    }
    this.#announce(auth, 'removed');
  }

  /** Options for a discoverable-credential sign-in: no user yet, so no allowCredentials. */
  async signInOptions(): Promise<StartedCeremony<PublicKeyCredentialRequestOptionsJSON>> {
    const options = await generateAuthenticationOptions({
      rpID: this.deps.webauthn.rpID,
      userVerification: 'required',
      timeout: PASSKEY_CEREMONY_TTL_MS,
    });
    const ceremonyId = await this.deps.ceremonies.open('passkey_sign_in', options.challenge, {
      anyone: true,
    });
    return { ceremonyId, options };
  }

  /**
   * Signs in with a discoverable passkey: the credential names the user. User verification is
   * required, so the passkey alone is two factors: the session starts at aal2, and counts as a
   * fresh re-authentication with the passkey.
   */
  async signIn(
    input: {
      ceremonyId: string;
      response: AuthenticationResponseJSON;
      clientId?: string;
      device?: DeviceInput;
    },
    context: RequestContext,
  ): Promise<TokenGrant> {
    const ceremony = await this.deps.ceremonies.use(input.ceremonyId, 'passkey_sign_in', { anyone: true });
    const passkey = await this.deps.passkeys.find(input.response.id);
    const user = passkey && (await this.deps.store.findUserById(passkey.userId));
    if (!passkey || !user) throw passkeyInvalid(new Error('unknown credential'));
    const outcome = await this.#checkAssertion(user, passkey, input.response, ceremony.challengeMatches, {
      context,
      sessionId: null,
    });
    if (!outcome.ok) {
      await this.deps.store.appendLog({
        action: 'login_failed',
        success: false,
        error: 'passkey_invalid',
        userId: user.id,
        ip: context.ip,
        userAgent: context.userAgent,
        detail: { method: 'passkey', reason: outcome.reason },
        createdAt: this.deps.clock.now(),
      });
      throw passkeyInvalid(new Error(outcome.reason));
    }
    return this.deps.sessions.startSession(
      user,
      {
        ...(input.clientId !== undefined ? { clientId: input.clientId } : {}),
        ...(input.device !== undefined ? { device: input.device } : {}),
        authentication: {
          acr: 'aal2',
          amr: methodsOf('passkey'),
          reauthFactor: 'passkey',
          detail: { method: 'passkey', passkey_id: passkey.id },
        },
      },
      context,
    );
  }

  /**
   * Options for an assertion by a known user (a step-up, a pending sign-in's second factor): only
   * the user's passkeys are allowed, and the ceremony is bound to `binding`.
   */
  async startAssertion(
    user: UserRecord,
    binding: FactorBinding,
  ): Promise<StartedCeremony<PublicKeyCredentialRequestOptionsJSON>> {
    const passkeys = await this.deps.passkeys.listForUser(user.id);
    if (passkeys.length === 0) {
      throw new SessiondError('factor_unavailable', 'this account has no passkey');
    }
    const options = await generateAuthenticationOptions({
      rpID: this.deps.webauthn.rpID,
      allowCredentials: passkeys.map(credentialDescriptor),
      userVerification: 'required',
      timeout: PASSKEY_CEREMONY_TTL_MS,
    });
    const ceremonyId = await this.deps.ceremonies.open('passkey_assertion', options.challenge, {
      userId: user.id,
      binding,
    });
    return { ceremonyId, options };
  }

  /** The step-up's options for a signed-in session (a flagged session may ask: that is what it is for). */
  async stepUpOptions(
    auth: Pick<Authenticated, 'session'>,
  ): Promise<StartedCeremony<PublicKeyCredentialRequestOptionsJSON>> {
    const user = await this.deps.store.findUserById(auth.session.userId);
    if (!user) throw new SessiondError('session_revoked', 'the account of this session is gone');
    return this.startAssertion(user, { sessionId: auth.session.id });
  }

  /**
   * PasskeyAssertions: true if the response verifies for one of the user's passkeys, within a
   * live ceremony bound to `binding`. A ceremony problem throws ceremony_invalid (it guessed
   * nothing); a response that does not verify returns false, and the caller's throttle counts it.
   */
  async verify(
    user: UserRecord,
    proof: { response: AuthenticationResponseJSON; ceremonyId: string },
    binding: FactorBinding,
    context: RequestContext,
  ): Promise<boolean> {
    const owner: CeremonyOwner = { userId: user.id, binding };
    const ceremony = await this.deps.ceremonies.use(proof.ceremonyId, 'passkey_assertion', owner);
    const passkey = await this.deps.passkeys.find(proof.response.id);
    if (!passkey || passkey.userId !== user.id) return false;
    const outcome = await this.#checkAssertion(user, passkey, proof.response, ceremony.challengeMatches, {
      context,
      sessionId: 'sessionId' in binding ? binding.sessionId : null,
    });
    return outcome.ok;
  }

  /**
   * Verifies an assertion against a stored passkey and records the use. The library's own
   * counter check runs before the signature is verified, so it is given counter 0 and the check
   * is made here afterwards: only a correctly signed response can raise a clone alarm.
   */
  async #checkAssertion(
    user: UserRecord,
    passkey: PasskeyRecord,
    response: AuthenticationResponseJSON,
    challengeMatches: (challenge: string) => boolean,
    where: { context: RequestContext; sessionId: string | null },
  ): Promise<{ ok: true } | { ok: false; reason: string }> {
    const handle = response.response.userHandle;
    if (handle !== undefined && handle !== userHandleOf(passkey.userId)) {
      return { ok: false, reason: 'the user handle is not the passkey owner' };
    }
    const { origins, rpID } = this.deps.webauthn;
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challengeMatches,
        expectedOrigin: [...origins],
        expectedRPID: rpID,
        requireUserVerification: true,
        credential: {
          id: passkey.id,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: 0,
          transports: passkey.transports as AuthenticatorTransportFuture[],
        },
      });
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
    if (!verified.verified) return { ok: false, reason: 'the signature does not verify' };
    const counter = verified.authenticationInfo.newCounter;
    const now = this.deps.clock.now();
    // WebAuthn §6.1.1: a counter that does not increase (when either is non-zero) means the
    // credential may exist twice. recordUse is a compare-and-set, so concurrent uses agree.
    const regressed = (counter > 0 || passkey.counter > 0) && counter <= passkey.counter;
    const recorded =
      !regressed &&
      (await this.deps.passkeys.recordUse(passkey.id, {
        counter,
        backedUp: verified.authenticationInfo.credentialBackedUp,
        now,
      }));
    if (!recorded) {
      await this.#suspectClone(user, passkey, counter, where);
      return { ok: false, reason: 'the signature counter did not increase (a cloned authenticator?)' };
    }
    return { ok: true };
  }

  /**
   * A cloned authenticator is suspected (decision 025): the assertion is refused, the audit log
   * says so, and every live session of the user must step up before anything sensitive.
   */
  async #suspectClone(
    user: UserRecord,
    passkey: PasskeyRecord,
    counter: number,
    where: { context: RequestContext; sessionId: string | null },
  ): Promise<void> {
    const { store, clock, sessions } = this.deps;
    const now = clock.now();
    await store.appendLog({
      action: 'passkey_clone_suspected',
      success: false,
      error: 'passkey_invalid',
      userId: user.id,
      sessionId: where.sessionId,
      ip: where.context.ip,
      userAgent: where.context.userAgent,
      actor: 'system',
      detail: { passkey_id: passkey.id, stored_counter: passkey.counter, counter },
      createdAt: now,
    });
    this.deps.log.warn(
      { userId: user.id, passkeyId: passkey.id },
      'passkey signature counter did not increase: possible cloned authenticator; sessions flagged for step-up',
    );
    for (const session of await store.listLiveSessions(user.id, now)) {
      await sessions.requireStepUp(session, 'passkey_clone_suspected', { passkey_id: passkey.id });
    }
  }

  #reauthenticatedUser(auth: Authenticated): Promise<UserRecord> {
    return this.deps.stepUpPolicy.reauthenticatedUser(auth);
  }

  #log(
    auth: Authenticated,
    context: RequestContext,
    action: Extract<LogAction, 'passkey_registered' | 'passkey_removed'>,
    detail: Record<string, unknown>,
  ): NewLogEntry {
    return userLogEntry(auth.session, context, action, this.deps.clock.now(), detail);
  }

  #announce(auth: Authenticated, change: 'enrolled' | 'removed'): void {
    this.deps.bus.publish('factor.changed', {
      ...eventSubject(auth.session, this.deps.clock.now()),
      factor: 'passkey',
      change,
    });
  }
}

function credentialDescriptor(passkey: PasskeyRecord): {
  id: string;
  transports: AuthenticatorTransportFuture[];
} {
  return { id: passkey.id, transports: passkey.transports as AuthenticatorTransportFuture[] };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : 'the response is malformed';
}

function passkeyInvalid(error: unknown): SessiondError {
  const reason = error === undefined ? 'it did not verify' : reasonOf(error);
  return new SessiondError('passkey_invalid', `the passkey response was refused: ${reason}`);
}
