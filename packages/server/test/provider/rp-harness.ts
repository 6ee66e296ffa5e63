import { createHash } from 'node:crypto';
import { PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import { type PageHop, SignInPageBrowser, signInThroughPage } from '../helpers/sign-in-page.js';
import type { TestClock } from '../helpers/test-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * The relying parties of the conformance suites (slice D of issue 15): apps registered with
 * sessiond the way an operator would (SESSIOND_CLIENTS, JSON form). Their redirect URIs are on
 * origins nothing serves: the test's browser stops before following a redirect there, as the
 * conformance suite's own browser does, and hands the URL to the RP library.
 */
export const WEB = {
  id: 'web-app',
  redirectURI: 'https://web.example/callback',
  postLogoutRedirectURI: 'https://web.example/signed-out',
} as const;

export const CONFIDENTIAL = {
  id: 'server-app',
  secret: 'server-app-secret-0123456789abcdef',
  redirectURI: 'https://server.example/callback',
  postLogoutRedirectURI: 'https://server.example/signed-out',
} as const;

/** A client allowed `openid` only: a request for more is invalid_scope. */
export const NARROW = { id: 'narrow-app', redirectURI: 'https://narrow.example/callback' } as const;

export const ALL_SCOPES = 'openid profile email offline_access';

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The SESSIOND_CLIENTS value for these RPs (plus `extra` entries in the same JSON form). */
export function registeredClients(extra: readonly Record<string, unknown>[] = []): string {
  return JSON.stringify([
    // The JSON API's own client, so helpers/api.ts keeps working on the same server.
    { id: 'default' },
    {
      id: WEB.id,
      type: 'public',
      redirect_uris: [WEB.redirectURI],
      post_logout_redirect_uris: [WEB.postLogoutRedirectURI],
    },
    {
      id: CONFIDENTIAL.id,
      type: 'confidential',
      secret_sha256: sha256Hex(CONFIDENTIAL.secret),
      redirect_uris: [CONFIDENTIAL.redirectURI],
      post_logout_redirect_uris: [CONFIDENTIAL.postLogoutRedirectURI],
    },
    { id: NARROW.id, type: 'public', redirect_uris: [NARROW.redirectURI], scopes: ['openid'] },
    ...extra,
  ]);
}

/** A real sessiond whose issuer is its own URL (discovery needs that), with the RPs above registered. */
export function startProvider(
  options: {
    clock?: TestClock;
    extraClients?: readonly Record<string, unknown>[];
    env?: Record<string, string>;
  } = {},
): Promise<TestServer> {
  return startTestServer({
    issuerIsURL: true,
    ...(options.clock ? { clock: options.clock } : {}),
    env: { SESSIOND_CLIENTS: registeredClients(options.extraClients), ...options.env },
  });
}

export interface User {
  email: string;
  password: string;
  id: string;
}

/** Signs a user up through the JSON API (the sign-in page only signs in). */
export async function createUser(server: TestServer): Promise<User> {
  const email = uniqueEmail();
  const signup = await request<{ user: { id: string } }>(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`);
  return { email, password: PASSWORD, id: signup.body.user.id };
}

/** A browser at sessiond (slice B's, with one cookie jar for sessiond's origin: SSO, CSRF, device). */
export function newBrowser(server: TestServer): SignInPageBrowser {
  return new SignInPageBrowser(server.url);
}

/**
 * Walks an authorization request the way the user's browser does: through sessiond's real
 * sign-in page if it has no SSO session there (slice B's signInThroughPage fills the form), then
 * the redirects back, stopping at the RP's redirect URI (not fetched). Without `user`, the browser
 * must already be signed in (or the answer must be an error sent back to the RP).
 */
export async function authorizeInBrowser(
  browser: SignInPageBrowser,
  authorizationURL: string,
  options: { user?: User; stopAt: string },
): Promise<{ callback: string }> {
  let callback: string | undefined;
  if (options.user) {
    const { redirect } = await signInThroughPage(authorizationURL, {
      email: options.user.email,
      password: options.user.password,
      browser,
    });
    callback = redirect.href;
  } else {
    callback = (await browser.follow(await browser.get(authorizationURL))).location;
  }
  if (callback === undefined || !callback.startsWith(options.stopAt)) {
    throw new Error(`the authorization request did not come back to ${options.stopAt}: ${callback}`);
  }
  return { callback };
}

/** GETs `url` in the browser and follows sessiond's own redirects; the answer that is a page or leaves sessiond. */
export async function visit(browser: SignInPageBrowser, url: string): Promise<PageHop> {
  return browser.follow(await browser.get(url));
}

/** RFC 7636 / OpenID Core §3.1.3.6: base64url of the left half of SHA-256 (RS256) of the access token. */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
}

/** The protected header of a compact JWS, unverified (to look at alg, kid, typ). */
export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
}

/** The payload of a compact JWS, unverified. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}
