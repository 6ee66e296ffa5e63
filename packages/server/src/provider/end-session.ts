import { createHmac, hkdfSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { RequestContext } from '../http/request-context.js';
import { constantTimeEqual } from '../lib/crypto.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import type { SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { SIGNING_ALG, type SigningKeyRing } from '../tokens/signing-key-ring.js';
import { type RegisteredClient, SSO_CLIENT_ID } from './client-registry.js';

/** The parameters of an RP-initiated logout request (OpenID RP-Initiated Logout 1.0 §2). */
export interface EndSessionRequest {
  idTokenHint: string | undefined;
  clientId: string | undefined;
  postLogoutRedirectURI: string | undefined;
  state: string | undefined;
}

/** What a verified `id_token_hint` says: whose session at which client. */
export interface VerifiedHint {
  clientId: string;
  userId: string;
  sessionId: string;
}

/** What the endpoint does with a request. */
export type EndSessionDecision =
  /** The hint names an app session of the browser's SSO session: sign out now. */
  | { kind: 'sign_out'; sso: SessionRecord; redirect: string | undefined }
  /** A live SSO session, but nothing proves the app asked: ask the user (logout CSRF). */
  | {
      kind: 'confirm';
      sso: SessionRecord;
      client: RegisteredClient | undefined;
      redirect: string | undefined;
    }
  /** Nothing to end in this browser. */
  | { kind: 'signed_out'; redirect: string | undefined };

/** A request the endpoint refuses outright (a page, never a redirect). */
export class EndSessionRefused extends Error {}

const PARAMETERS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const;

/** Reads the request from the query (GET) or the form (POST); each parameter at most once. */
export function parseEndSessionRequest(params: URLSearchParams): EndSessionRequest {
  const value = (name: (typeof PARAMETERS)[number]): string | undefined => {
    const all = params.getAll(name);
    if (all.length > 1) throw new EndSessionRefused(`the parameter ${name} appears more than once`);
    return all[0] === '' ? undefined : all[0];
  };
  return {
    idTokenHint: value('id_token_hint'),
    clientId: value('client_id'),
    postLogoutRedirectURI: value('post_logout_redirect_uri'),
    state: value('state'),
  };
}

/**
 * RP-initiated logout (decision 030). An app sends the browser here to sign the user out of
 * sessiond: the browser's SSO session ends, and with it every app session it authorized (each
 * told by back-channel logout). Only a valid `id_token_hint` for an app session of this very SSO
 * session signs out at once; anything else asks the user first, so a foreign page cannot sign a
 * user out by sending their browser here. The browser goes back to the app only to a
 * `post_logout_redirect_uri` registered exactly for the client the request names.
 */
export class EndSession {
  readonly #csrfKey: Buffer;

  constructor(
    private readonly deps: {
      keys: SigningKeyRing;
      store: SessionStore;
      ending: SessionEnding;
      issuer: string;
      clients: readonly RegisteredClient[];
      masterSecret: string;
    },
  ) {
    this.#csrfKey = Buffer.from(hkdfSync('sha256', deps.masterSecret, 'sessiond', 'end-session-csrf', 32));
  }

  async decide(request: EndSessionRequest, sso: SessionRecord | undefined): Promise<EndSessionDecision> {
    const hint = request.idTokenHint === undefined ? undefined : await this.verifyHint(request.idTokenHint);
    if (hint && request.clientId !== undefined && request.clientId !== hint.clientId) {
      throw new EndSessionRefused('client_id is not the client the id_token_hint was issued to');
    }
    const client = this.#client(hint?.clientId ?? request.clientId);
    if (request.clientId !== undefined && !client) throw new EndSessionRefused('unknown client_id');
    const redirect = client && redirectTo(client, request.postLogoutRedirectURI, request.state);
    if (!sso) return { kind: 'signed_out', redirect };
    if (hint && hint.userId === sso.userId && (await this.#underSSOSession(hint, sso))) {
      return { kind: 'sign_out', sso, redirect };
    }
    return { kind: 'confirm', sso, client, redirect };
  }

  /**
   * An ID token sessiond signed (RS256, `typ: JWT`, a key of the ring, its issuer), for a
   * registered client, with `sub` and `sid`. Expired is fine (§2: the hint says who, not that
   * they are signed in); a bad signature, another kind of token (`at+jwt`, `logout+jwt`) or
   * anything malformed is no hint at all.
   */
  async verifyHint(token: string): Promise<VerifiedHint | undefined> {
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== SIGNING_ALG || header.typ !== 'JWT' || typeof header.kid !== 'string')
        return undefined;
      const key = this.deps.keys.verificationKey(header.kid);
      if (!key) return undefined;
      const { payload } = await compactVerify(token, key, { algorithms: [SIGNING_ALG] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      const clientId = aud.length === 1 && typeof aud[0] === 'string' ? aud[0] : undefined;
      if (claims.iss !== this.deps.issuer || !clientId || !this.#client(clientId)) return undefined;
      if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return undefined;
      return { clientId, userId: claims.sub, sessionId: claims.sid };
    } catch {
      return undefined;
    }
  }

  /** Ends the SSO session and the app sessions it authorized (one transaction). */
  async signOut(sso: SessionRecord, context: RequestContext): Promise<number> {
    const ended = await this.deps.ending.endSSOSession(sso, { reason: 'logout', actor: 'user', context });
    return ended.length;
  }

  /** The confirmation form's token: bound to the SSO session, which a foreign page cannot read. */
  csrfToken(sso: SessionRecord): string {
    return createHmac('sha256', this.#csrfKey).update(`end-session ${sso.id}`).digest('base64url');
  }

  checkCSRF(sso: SessionRecord, token: string | undefined): boolean {
    return token !== undefined && constantTimeEqual(token, this.csrfToken(sso));
  }

  /** The sid is an app session the browser's SSO session authorized (its client is the hint's). */
  async #underSSOSession(hint: VerifiedHint, sso: SessionRecord): Promise<boolean> {
    const app = await this.deps.store.findSession(hint.sessionId);
    return app !== undefined && app.ssoSessionId === sso.id && app.clientId === hint.clientId;
  }

  #client(id: string | undefined): RegisteredClient | undefined {
    if (id === undefined || id === SSO_CLIENT_ID) return undefined;
    return this.deps.clients.find((client) => client.id === id);
  }
}

/** Where to send the browser after signing out: an exact registered URI, `state` added. */
export function redirectTo(
  client: RegisteredClient,
  uri: string | undefined,
  state: string | undefined,
): string | undefined {
  if (uri === undefined || !client.postLogoutRedirectURIs.includes(uri)) return undefined;
  if (state === undefined) return uri;
  const url = new URL(uri);
  url.searchParams.append('state', state);
  return url.toString();
}
