import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import type { EmailCodes } from '../factors/email-codes.js';
import type { FactorProof } from '../factors/factor-verifier.js';
import { requestContext } from '../http/authenticate.js';
import type { SafeHTML } from '../http/html.js';
import type { PasskeyService } from '../passkeys/passkey-service.js';
import type { PendingSignIns } from '../sessions/pending-sign-ins.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { StepUpPolicy } from '../sessions/step-up-policy.js';
import type { SessionRecord, StepUpFactor } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { AuthorizationNeeds } from './authorization-needs.js';
import type { AuthorizationRequest } from './authorization-request.js';
import type { AuthorizationService } from './authorization-service.js';
import { type RegisteredClient, SSO_CLIENT_ID } from './client-registry.js';
import { redirectTargetOf, signInPageCSP } from './sign-in-page-csp.js';
import type { SignInPageCSRF } from './sign-in-page-csrf.js';
import type { SignInPageDevice } from './sign-in-page-device.js';
import {
  messageView,
  type PageFrame,
  secondFactorView,
  signInView,
  stepUpView,
} from './sign-in-page-views.js';
import type { SSOSessionCookie } from './sso-session-cookie.js';

/** What a page route answers: a page (with its status) or a 303 to follow. */
export type PageAnswer =
  | { kind: 'page'; status: number; html: SafeHTML; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string };

/** A proof as the page's forms send it, already shape-checked by the route. */
export type PageProof =
  | { totp: string }
  | { emailCode: string }
  | { password: string }
  | { passkey: AuthenticationResponseJSON; ceremonyId: string };

export interface SignInPageDeps {
  authorization: Pick<AuthorizationService, 'pending' | 'resume'>;
  sessions: Pick<SessionService, 'signInToSSO' | 'completeSignIn' | 'stepUp'>;
  passkeys: Pick<PasskeyService, 'signIn' | 'signInOptions' | 'stepUpOptions'>;
  pendingSignIns: Pick<PendingSignIns, 'sendEmailCode' | 'startPasskeyAssertion'>;
  emailCodes: Pick<EmailCodes, 'send'>;
  stepUpPolicy: Pick<StepUpPolicy, 'factorsFor'>;
  store: Pick<SessionStore, 'findUserById'>;
  ssoCookie: Pick<SSOSessionCookie, 'read' | 'set'>;
  device: SignInPageDevice;
  csrf: SignInPageCSRF;
  clients: readonly RegisteredClient[];
}

/** The factors that move a session to aal2 (decision 024): a step-up for acr_values=aal2 offers only these. */
const AAL2_FACTORS: ReadonlySet<StepUpFactor> = new Set(['passkey', 'totp']);

/**
 * sessiond's own sign-in page for a pending authorization request (decision 029): sign in with a
 * password (and a second factor when the sign-in asks for one) or a passkey, or step up the
 * browser's SSO session when the request wants a fresh authentication or aal2. Every success
 * ends the same way: the SSO cookie names the (new or stepped-up) session and the authorization
 * request resumes, which either redirects to the app or says what is still missing.
 */
export class SignInPage {
  constructor(private readonly deps: SignInPageDeps) {}

  /** GET: the form this browser needs now. `otherAccount` ignores the SSO session (switch user). */
  async show(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; otherAccount: boolean },
  ): Promise<PageAnswer> {
    const sso = input.otherAccount ? undefined : await this.deps.ssoCookie.read(request);
    const pending = await this.deps.authorization.pending(input.requestId, sso);
    if (!pending) return expired();
    const frame = this.#frame(request, reply, input.requestId, pending.request);
    if (sso) return this.#resume(frame, sso, {});
    return this.#signInForm(frame, {});
  }

  async signInWithPassword(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; csrf: string | undefined; email: string; password: string },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    try {
      const grant = await this.deps.sessions.signInToSSO(
        { email: input.email, password: input.password, device: this.deps.device.of(request) },
        requestContext(request),
      );
      return this.#signedIn(reply, frame, grant);
    } catch (error) {
      const refused = asSessiondError(error);
      if (refused.code === 'second_factor_required') {
        const details = refused.details as {
          factors?: StepUpFactor[];
          pending_token?: string;
          email_code?: unknown;
        };
        return page(
          200,
          secondFactorView(frame, {
            pendingToken: details.pending_token ?? '',
            factors: details.factors ?? [],
            emailCodeSent: details.email_code !== undefined,
          }),
        );
      }
      return this.#signInForm(
        { ...frame, error: messageOf(refused, 'The email or password is wrong.') },
        {
          email: input.email,
          status: refused.status,
          headers: refused.headers,
        },
      );
    }
  }

  /** The second factor of a password sign-in that asked for one (decision 026). */
  async completeSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    input: {
      requestId: string;
      csrf: string | undefined;
      pendingToken: string;
      factors: StepUpFactor[];
      proof: PageProof;
    },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    try {
      const grant = await this.deps.sessions.completeSignIn(
        {
          pendingToken: input.pendingToken,
          proof: input.proof as FactorProof,
          device: this.deps.device.of(request),
        },
        requestContext(request),
      );
      return this.#signedIn(reply, frame, grant);
    } catch (error) {
      const refused = asSessiondError(error);
      // The pending sign-in is gone (expired, used, too many wrong codes): start at the password.
      if (refused.code === 'ceremony_invalid') {
        return this.#signInForm({ ...frame, error: messageOf(refused, '') }, { status: refused.status });
      }
      return page(
        refused.status,
        secondFactorView(
          { ...frame, error: messageOf(refused, 'The code is wrong, expired or was used already.') },
          {
            pendingToken: input.pendingToken,
            factors: input.factors,
            emailCodeSent: 'emailCode' in input.proof,
          },
        ),
        refused.headers,
      );
    }
  }

  async sendSignInEmailCode(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; csrf: string | undefined; pendingToken: string; factors: StepUpFactor[] },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    const view = { pendingToken: input.pendingToken, factors: input.factors };
    try {
      const sent = await this.deps.pendingSignIns.sendEmailCode(input.pendingToken, requestContext(request));
      return page(
        200,
        secondFactorView(
          { ...frame, notice: `We sent a code to ${sent.sentTo}.` },
          { ...view, emailCodeSent: true },
        ),
      );
    } catch (error) {
      const refused = asSessiondError(error);
      if (refused.code === 'ceremony_invalid') {
        return this.#signInForm({ ...frame, error: messageOf(refused, '') }, { status: refused.status });
      }
      return page(
        refused.status,
        secondFactorView({ ...frame, error: messageOf(refused, '') }, { ...view, emailCodeSent: false }),
        refused.headers,
      );
    }
  }

  async signInWithPasskey(
    request: FastifyRequest,
    reply: FastifyReply,
    input: {
      requestId: string;
      csrf: string | undefined;
      ceremonyId: string;
      response: AuthenticationResponseJSON;
    },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    try {
      const device = this.deps.device.of(request);
      const grant = await this.deps.passkeys.signIn(
        {
          ceremonyId: input.ceremonyId,
          response: input.response,
          clientId: SSO_CLIENT_ID,
          ...(device !== undefined ? { device } : {}),
        },
        requestContext(request),
      );
      return this.#signedIn(reply, frame, grant);
    } catch (error) {
      const refused = asSessiondError(error);
      return this.#signInForm(
        { ...frame, error: messageOf(refused, '') },
        { status: refused.status, headers: refused.headers },
      );
    }
  }

  /** JSON for sign-in.js: a WebAuthn ceremony for this page's purpose. Errors are the API's JSON. */
  async passkeyOptions(
    request: FastifyRequest,
    reply: FastifyReply,
    input: {
      requestId: string;
      csrf: string | undefined;
      purpose: 'sign_in' | 'second_factor' | 'step_up';
      pendingToken: string | undefined;
    },
  ): Promise<{ ceremony_id: string; options: unknown }> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame)
      throw new SessiondError('ceremony_invalid', 'this sign-in expired: go back to the app and start again');
    let started: { ceremonyId: string; options: unknown };
    if (input.purpose === 'sign_in') started = await this.deps.passkeys.signInOptions();
    else if (input.purpose === 'second_factor') {
      started = await this.deps.pendingSignIns.startPasskeyAssertion(input.pendingToken ?? '');
    } else {
      const sso = await this.deps.ssoCookie.read(request);
      if (!sso) throw new SessiondError('session_expired', 'your sign-in here ended: sign in again');
      started = await this.deps.passkeys.stepUpOptions({ session: sso });
    }
    return { ceremony_id: started.ceremonyId, options: started.options };
  }

  /** A step-up of the browser's SSO session (prompt=login, max_age, acr_values=aal2). */
  async stepUp(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; csrf: string | undefined; proof: PageProof },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    const sso = await this.deps.ssoCookie.read(request);
    if (!sso)
      return this.#signInForm(
        { ...frame, error: 'Your sign-in here ended. Sign in again.' },
        { status: 401 },
      );
    try {
      const grant = await this.deps.sessions.stepUp(
        { session: sso },
        input.proof as FactorProof,
        requestContext(request),
      );
      return this.#signedIn(reply, frame, grant);
    } catch (error) {
      const refused = asSessiondError(error);
      const wrong =
        'password' in input.proof
          ? 'The password is wrong.'
          : 'The code is wrong, expired or was used already.';
      return this.#stepUpForm({ ...frame, error: messageOf(refused, wrong) }, sso, {
        status: refused.status,
        headers: refused.headers,
        emailCodeSent: 'emailCode' in input.proof,
      });
    }
  }

  async sendStepUpEmailCode(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; csrf: string | undefined },
  ): Promise<PageAnswer> {
    const frame = await this.#checkedFrame(request, reply, input);
    if (!frame) return expired();
    const sso = await this.deps.ssoCookie.read(request);
    if (!sso)
      return this.#signInForm(
        { ...frame, error: 'Your sign-in here ended. Sign in again.' },
        { status: 401 },
      );
    const user = await this.deps.store.findUserById(sso.userId);
    if (!user)
      return this.#signInForm(
        { ...frame, error: 'Your sign-in here ended. Sign in again.' },
        { status: 401 },
      );
    try {
      const sent = await this.deps.emailCodes.send(user, { sessionId: sso.id }, requestContext(request));
      return this.#stepUpForm({ ...frame, notice: `We sent a code to ${sent.sentTo}.` }, sso, {
        emailCodeSent: true,
      });
    } catch (error) {
      const refused = asSessiondError(error);
      return this.#stepUpForm({ ...frame, error: messageOf(refused, '') }, sso, {
        status: refused.status,
        headers: refused.headers,
        emailCodeSent: false,
      });
    }
  }

  /** A new or stepped-up SSO session: the cookie names it, and the request resumes with it. */
  async #signedIn(reply: FastifyReply, frame: Frame, grant: TokenGrant): Promise<PageAnswer> {
    this.deps.ssoCookie.set(reply, grant.session);
    this.deps.device.keep(reply, grant);
    return this.#resume(frame, grant.session, {});
  }

  async #resume(frame: Frame, sso: SessionRecord, options: { status?: number }): Promise<PageAnswer> {
    const outcome = await this.deps.authorization.resume(frame.requestId, sso);
    if (outcome.kind === 'expired') return expired();
    if (outcome.kind === 'redirect') return { kind: 'redirect', location: outcome.location };
    return this.#stepUpForm(frame, sso, { ...options, needs: outcome.needs, emailCodeSent: false });
  }

  /**
   * What the SSO session still lacks, as a step-up form offering the factors StepUpPolicy accepts
   * now (for aal2 only passkey and TOTP). When none would do, a fresh sign-in is the way: its
   * authentication is new by definition.
   */
  async #stepUpForm(
    frame: Frame,
    sso: SessionRecord,
    options: {
      status?: number;
      headers?: Readonly<Record<string, string>>;
      needs?: AuthorizationNeeds;
      emailCodeSent: boolean;
    },
  ): Promise<PageAnswer> {
    const user = await this.deps.store.findUserById(sso.userId);
    if (!user) return this.#signInForm(frame, {});
    const needs = options.needs ?? (await this.deps.authorization.pending(frame.requestId, sso))?.needs;
    if (!needs) return expired();
    const aal2 = needs.acr === 'aal2' && sso.acr !== 'aal2';
    const accepted = await this.deps.stepUpPolicy.factorsFor(sso, user);
    const factors = aal2 ? accepted.filter((factor) => AAL2_FACTORS.has(factor)) : accepted;
    if (factors.length === 0 && !aal2) {
      return this.#signInForm(
        { ...frame, notice: frame.notice ?? `${frame.clientName} asks you to sign in again.` },
        {
          email: user.email ?? undefined,
          ...(options.status !== undefined ? { status: options.status } : {}),
        },
      );
    }
    return page(
      options.status ?? 200,
      stepUpView(frame, {
        email: user.email,
        factors,
        reason: aal2 ? 'aal2' : 'fresh',
        emailCodeSent: options.emailCodeSent,
      }),
      options.headers,
    );
  }

  #signInForm(
    frame: Frame,
    options: { email?: string; status?: number; headers?: Readonly<Record<string, string>> },
  ): PageAnswer {
    const email = options.email ?? frame.loginHint;
    return page(
      options.status ?? 200,
      signInView(frame, email !== undefined ? { email } : {}),
      options.headers,
    );
  }

  /** The frame of a POST: its CSRF token checked first, then the request still waiting. */
  async #checkedFrame(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { requestId: string; csrf: string | undefined },
  ): Promise<Frame | undefined> {
    this.deps.csrf.check(request, input.requestId, input.csrf);
    const pending = await this.deps.authorization.pending(input.requestId, undefined);
    return pending && this.#frame(request, reply, input.requestId, pending.request);
  }

  #frame(
    request: FastifyRequest,
    reply: FastifyReply,
    requestId: string,
    pending: AuthorizationRequest,
  ): Frame {
    const client = this.deps.clients.find((candidate) => candidate.id === pending.clientId);
    const { loginHint } = pending;
    reply.header('content-security-policy', signInPageCSP(redirectTargetOf(pending.redirectURI)));
    return {
      clientName: client?.name ?? pending.clientId,
      requestId,
      csrf: this.deps.csrf.tokenFor(request, reply, requestId),
      ...(loginHint !== undefined ? { loginHint } : {}),
    };
  }
}

interface Frame extends PageFrame {
  loginHint?: string;
}

function page(status: number, html: SafeHTML, headers?: Readonly<Record<string, string>>): PageAnswer {
  return { kind: 'page', status, html, ...(headers ? { headers: { ...headers } } : {}) };
}

function expired(): PageAnswer {
  return page(
    400,
    messageView({
      title: 'This sign-in has expired',
      message: 'This sign-in link is unknown, took too long, or was already used.',
    }),
  );
}

/** Only the service's own refusals become page errors; anything else is a real failure (500). */
function asSessiondError(error: unknown): SessiondError {
  if (error instanceof SessiondError) return error;
  throw error;
}

/** The sentence the error summary shows; never whether an email exists. */
function messageOf(error: SessiondError, wrongCredentials: string): string {
  switch (error.code) {
    case 'invalid_credentials':
      return wrongCredentials || 'That did not work. Try again.';
    case 'rate_limited': {
      const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 60_000) / 1000));
      return `Too many attempts. Wait ${seconds} seconds, then try again.`;
    }
    case 'ceremony_invalid':
      return 'This step took too long or was already used. Sign in again.';
    case 'passkey_invalid':
      return 'The passkey could not be verified. Try again, or use another way to sign in.';
    case 'service_unavailable':
    case 'storage_unavailable':
      return 'Signing in is not possible right now. Try again in a moment.';
    default:
      return error.message.charAt(0).toUpperCase() + error.message.slice(1);
  }
}
