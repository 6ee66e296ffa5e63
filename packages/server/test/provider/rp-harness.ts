import { createHash } from 'node:crypto';
import { PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import type { Hop, RedirectBrowser } from '../helpers/redirect-browser.js';
import { ssoSessionFor, ssoTestRoute } from '../helpers/sso.js';
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
    // Slice A's test-only SSO sign-in, used only while the sign-in page is not there (see authorizeInBrowser).
    routes: ssoTestRoute,
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

/**
 * Posts a form as a browser would from sessiond's own page (same-origin, its cookies), without
 * following the redirect it answers.
 */
export async function postForm(
  browser: RedirectBrowser,
  url: string,
  form: Record<string, string>,
): Promise<Hop> {
  const target = new URL(url);
  const jar = browser.jar(target.origin);
  const cookie = jar.header(target.pathname);
  const response = await fetch(target, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: target.origin,
      'sec-fetch-site': 'same-origin',
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  jar.update(response.headers);
  const location = response.headers.get('location');
  return {
    url,
    status: response.status,
    location: location === null ? undefined : new URL(location, target).href,
    headers: response.headers,
    body: await response.text(),
  };
}

/** The first POST form of a page: its action and its inputs' values (hidden fields included). */
export function parseForm(page: Hop): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(page.body);
  if (!form) throw new Error(`no form on ${page.url} (status ${page.status}): ${page.body.slice(0, 300)}`);
  const action = /\baction="([^"]*)"/i.exec(form[0])?.[1] ?? page.url;
  const fields: Record<string, string> = {};
  for (const input of form[1]?.matchAll(/<input\b[^>]*>/gi) ?? []) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    if (name === undefined) continue;
    fields[name] = unescapeAttribute(/\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '');
  }
  return { action: new URL(unescapeAttribute(action), page.url).href, fields };
}

function unescapeAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Walks an authorization request the way the user's browser does: to sessiond's sign-in page if
 * it has no SSO session there, the form filled in and posted, then the redirects back, stopping
 * at the RP's redirect URI. Returns that URL (the authorization response) and every hop.
 */
export async function authorizeInBrowser(
  browser: RedirectBrowser,
  authorizationURL: string,
  options: { user?: User; stopAt: string },
): Promise<{ callback: string; hops: Hop[] }> {
  const first = await browser.follow(authorizationURL, { stopAt: [options.stopAt] });
  if (first.final.startsWith(options.stopAt)) return { callback: first.final, hops: first.hops };
  const page = first.hops.at(-1);
  if (!page || !new URL(first.final).pathname.startsWith('/oauth/sign-in')) {
    throw new Error(
      `the authorization request stopped at ${first.final} (${page?.status}): ${page?.body.slice(0, 300)}`,
    );
  }
  if (!options.user) throw new Error('the request needs a sign-in and no user was given');
  if (page.status === 404) {
    // No sign-in page yet (slice B): open the SSO session through slice A's test route, as the
    // page would, and send the browser through the authorization request again.
    const issuer = new URL(authorizationURL).origin;
    const sso = await ssoSessionFor(issuer, options.user.id);
    const [name = '', value = ''] = sso.cookie.split('=');
    browser.jar(issuer).put(name, value, '/oauth');
    const retry = await browser.follow(authorizationURL, { stopAt: [options.stopAt] });
    if (!retry.final.startsWith(options.stopAt)) throw new Error(`stopped at ${retry.final}`);
    return { callback: retry.final, hops: [...first.hops, ...retry.hops] };
  }
  const form = parseForm(page);
  const posted = await postForm(browser, form.action, {
    ...form.fields,
    email: options.user.email,
    password: options.user.password,
  });
  if (posted.location === undefined) {
    throw new Error(`the sign-in form answered ${posted.status}: ${posted.body.slice(0, 300)}`);
  }
  const back = posted.location.startsWith(options.stopAt)
    ? { hops: [], final: posted.location }
    : await browser.follow(posted.location, { stopAt: [options.stopAt] });
  if (!back.final.startsWith(options.stopAt)) {
    throw new Error(`the sign-in did not come back to the RP: stopped at ${back.final}`);
  }
  return { callback: back.final, hops: [...first.hops, posted, ...back.hops] };
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
