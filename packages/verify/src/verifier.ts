import type { AccessTokenClaims } from '@sessiond/protocol';
import { VerifyError } from './errors.js';
import { introspect } from './introspection.js';
import { RemoteKeys } from './remote-keys.js';
import { type FeedStatus, RevocationFeed } from './revocation-feed.js';
import { verifyAccessToken } from './verify-access-token.js';

/** sessiond's nodes tolerate the same between themselves (a few seconds of NTP drift). */
const ISSUER_CLOCK_AHEAD_SECONDS = 10;

/** What `verify` does while the revocation stream is not live (connecting or down). */
export type WhileStreamDown = 'accept' | 'reject' | 'introspect';

export interface VerifierOptions {
  /** The sessiond issuer URL (the tokens' `iss`), e.g. `https://auth.example.com`. */
  issuer: string;
  /** This resource server's audience (the tokens' `aud`). */
  audience: string;
  /** Resource-server credentials (`SESSIOND_RESOURCE_SERVERS`): the revocation stream and introspection need them. */
  clientId: string;
  clientSecret: string;
  /** Where sessiond answers, when it is not the issuer URL (e.g. inside a private network). */
  baseURL?: string;
  /**
   * While the revocation stream is not live: `accept` (default; revocations already known are
   * still refused, and `status()` says `down`), `reject` (fail closed: `verifier_unavailable`), or
   * `introspect` (ask sessiond about each token, RFC 7662).
   */
  whileStreamDown?: WhileStreamDown;
  /** Clock skew allowed on exp, nbf and iat, in seconds. Default 0. */
  leewaySeconds?: number;
  /**
   * How far ahead of this machine's clock sessiond's may run, in seconds: a token issued up to
   * this far "in the future" is accepted (it still expires at its exp). Default 10.
   */
  issuerClockAheadSeconds?: number;
  onStatus?: (status: FeedStatus, error?: unknown) => void;
  /** Called when the stream delivers a revocation: e.g. close that session's sockets. */
  onRevoked?: (sessionId: string) => void;
  /** For tests: milliseconds since the epoch. */
  now?: () => number;
  fetch?: typeof fetch;
  /** Minimum time between JWKS fetches triggered by unknown kids, in ms. Default 5,000. */
  jwksCooldownMs?: number;
  /** Reconnect backoff and heartbeat tuning for the revocation stream. */
  stream?: { initialBackoffMs?: number; maxBackoffMs?: number; heartbeatTimeoutMs?: number };
}

/**
 * The app's custom claims (SESSIOND_CUSTOM_CLAIMS) as the app declares them, e.g.
 * `createVerifier<{ roles?: string[]; tenant?: string }>(...)`. Declared, not checked: sessiond
 * signed them, the app knows their shape. Absent by default.
 */
export type CustomClaims = Record<string, unknown>;

/** A verified token's claims: sessiond's own (RFC 9068) and the app's custom ones. */
export type VerifiedClaims<C extends CustomClaims = Record<never, never>> = AccessTokenClaims & Partial<C>;

export interface Verifier<C extends CustomClaims = Record<never, never>> {
  /** The token's claims if it is valid and its session not revoked; else throws VerifyError. */
  verify(token: string): Promise<VerifiedClaims<C>>;
  /** `live` once the revocation stream has caught up; `connecting` or `down` otherwise. */
  status(): FeedStatus;
  /**
   * Resolves when the revocation stream is live; with `timeoutMs`, rejects (verifier_unavailable)
   * if it is not live by then (wrong credentials, sessiond down).
   */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Verifies sessiond access tokens: every RFC 8725 / RFC 9068 check on the signature and
 * claims (RS256 only, keys from the issuer's JWKS), then refuses tokens of sessions revoked
 * since they were issued, learnt from sessiond's revocation stream within a second.
 */
export function createVerifier<C extends CustomClaims = Record<never, never>>(
  options: VerifierOptions,
): Verifier<C> {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const issuer = options.issuer.replace(/\/$/, '');
  const base = (options.baseURL ?? issuer).replace(/\/$/, '');
  const whileDown = options.whileStreamDown ?? 'accept';
  const keys = new RemoteKeys(
    new URL(`${base}/.well-known/jwks.json`),
    now,
    options.jwksCooldownMs ?? 5_000,
    doFetch,
  );
  const credentials = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');
  const feed = new RevocationFeed({
    url: `${base}/api/revocations/stream`,
    headers: { authorization: `Basic ${credentials}` },
    now,
    fetch: doFetch,
    // With leeway a token is accepted up to that long past its exp: remember revocations as long.
    retainExtraMs: (options.leewaySeconds ?? 0) * 1000,
    onStatus: (status, error) => options.onStatus?.(status, error),
    ...(options.onRevoked ? { onRevoked: options.onRevoked } : {}),
    ...options.stream,
  });
  feed.start();

  const check = (token: string) =>
    verifyAccessToken(token, {
      issuer,
      audience: options.audience,
      now: Math.floor(now() / 1000),
      leewaySeconds: options.leewaySeconds ?? 0,
      issuerClockAheadSeconds: options.issuerClockAheadSeconds ?? ISSUER_CLOCK_AHEAD_SECONDS,
      keyFor: (kid) => keys.current(kid),
    });

  async function verifySignature(token: string): Promise<AccessTokenClaims> {
    // A kid not seen lately costs one (cooled-down) JWKS lookup; then the check is synchronous.
    const kid = keyIdOf(token);
    if (kid !== undefined && !keys.isFresh(kid)) {
      await keys.resolve(kid).catch((error: unknown) => {
        // An issuer we cannot reach does not stop keys we already know; only new ones.
        if (keys.current(kid)) return;
        throw new VerifyError('verifier_unavailable', `cannot fetch the issuer's JWKS: ${String(error)}`);
      });
    }
    return check(token);
  }

  return {
    async verify(token): Promise<VerifiedClaims<C>> {
      // The custom claims are the app's declaration (CustomClaims); the signature vouches for them.
      const claims = (await verifySignature(token)) as VerifiedClaims<C>;
      if (feed.isRevoked(claims.sid))
        throw new VerifyError('token_revoked', 'the session of this token was revoked');
      if (feed.status === 'live' || whileDown === 'accept') return claims;
      if (whileDown === 'reject') {
        throw new VerifyError(
          'verifier_unavailable',
          'revocation stream is not live; refusing to accept tokens',
        );
      }
      const answer = await introspect({
        url: `${base}/oauth/introspect`,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        token,
        fetch: doFetch,
      }).catch((error: unknown) => {
        throw new VerifyError('verifier_unavailable', `introspection failed: ${String(error)}`);
      });
      if (!answer.active) throw new VerifyError('token_revoked', 'sessiond reports this token inactive');
      return claims;
    },
    status: () => feed.status,
    ready: (readyOptions) => withTimeout(feed.live(), readyOptions?.timeoutMs),
    close: () => feed.close(),
  };
}

function withTimeout(live: Promise<void>, timeoutMs: number | undefined): Promise<void> {
  if (timeoutMs === undefined) return live;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(new VerifyError('verifier_unavailable', `revocation stream not live after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([live, timeout]).finally(() => clearTimeout(timer));
}

function keyIdOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
