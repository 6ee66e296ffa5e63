import { generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageHop as Hop, SignInPageBrowser } from '../helpers/sign-in-page.js';
import { TestClock } from '../helpers/test-clock.js';
import { RESOURCE_SERVER, type TestServer } from '../helpers/test-server.js';
import {
  authorizeInBrowser,
  CONFIDENTIAL,
  createUser,
  jwtHeader,
  jwtPayload,
  NARROW,
  newBrowser,
  startProvider,
  type User,
  WEB,
} from './rp-harness.js';

/**
 * What the OpenID conformance suite's basic and config plans (oidcc-basic-certification-test-plan,
 * oidcc-config-certification-test-plan) refuse, reproduced against a real sessiond; each test
 * names its module (docs/openid-conformance.md has the table). Requests are sent by hand where
 * the suite sends them by hand (a library would not build a broken request), and through the
 * unchanged RP libraries where the check is the RP's (nonce, alg, kid).
 */

/** For the RP libraries only: the test server is plain http on 127.0.0.1. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let clock: TestClock;
let user: User;
/** A browser with an SSO session at sessiond: authorization requests are answered at once. */
let browser: SignInPageBrowser;

beforeAll(async () => {
  clock = new TestClock();
  server = await startProvider({ clock });
  user = await createUser(server);
  browser = newBrowser(server);
  const first = await start();
  await authorizeInBrowser(browser, first.url, { user, stopAt: WEB.redirectURI });
});
afterAll(async () => {
  await server.close();
});

interface Started {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization request for WEB; `params` override (undefined removes one). */
async function start(params: Record<string, string | undefined> = {}): Promise<Started> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const all: Record<string, string | undefined> = {
    client_id: WEB.id,
    response_type: 'code',
    redirect_uri: WEB.redirectURI,
    scope: 'openid email offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(all)) if (value !== undefined) query.set(name, value);
  return { url: `${server.url}/oauth/authorize?${query}`, verifier, state, nonce };
}

/** The authorization endpoint's first answer, in the signed-in browser. */
function authorize(started: Started): Promise<Hop> {
  return browser.get(started.url);
}

/** The query of a redirect back to `redirectURI` (asserts that it is one). */
function redirectedBack(hop: Hop, redirectURI = WEB.redirectURI): URLSearchParams {
  expect(hop.status).toBe(302);
  expect(hop.location).toBeDefined();
  const location = new URL(hop.location!);
  expect(`${location.origin}${location.pathname}`).toBe(redirectURI);
  return location.searchParams;
}

/** RFC 6749 §4.1.2.1: an untrusted client or redirect_uri gets a page, never a redirect. */
function expectErrorPage(hop: Hop): void {
  expect(hop.status).toBe(400);
  expect(hop.location).toBeUndefined();
  expect(hop.headers.get('content-type')).toMatch(/^text\/html/);
  expect(hop.body).toMatch(/role="alert"/);
}

/** A code for WEB from the signed-in browser. */
async function codeFor(params: Record<string, string | undefined> = {}): Promise<Started & { code: string }> {
  const started = await start(params);
  const query = redirectedBack(await authorize(started));
  const code = query.get('code');
  if (!code) throw new Error(`no code: ${query}`);
  return { ...started, code };
}

async function token(
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

function exchange(started: Started & { code: string }, overrides: Record<string, string> = {}) {
  return token({
    grant_type: 'authorization_code',
    client_id: WEB.id,
    code: started.code,
    redirect_uri: WEB.redirectURI,
    code_verifier: started.verifier,
    ...overrides,
  });
}

async function introspect(tokenValue: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/oauth/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: tokenValue }).toString(),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('the authorization endpoint refuses what the basic plan sends it', () => {
  it('an unregistered redirect_uri: an error page, no redirect (oidcc-ensure-registered-redirect-uri)', async () => {
    expectErrorPage(await authorize(await start({ redirect_uri: 'https://attacker.example/callback' })));
  });

  it('a redirect_uri differing only by a trailing slash, case, or an added query: an error page', async () => {
    for (const redirect of [
      `${WEB.redirectURI}/`,
      WEB.redirectURI.replace('callback', 'Callback'),
      WEB.redirectURI.replace('web.example', 'WEB.example'),
      `${WEB.redirectURI}?extra=1`,
      WEB.redirectURI.replace('https:', 'http:'),
    ]) {
      const hop = await authorize(await start({ redirect_uri: redirect }));
      expect(hop.location, redirect).toBeUndefined();
      expectErrorPage(hop);
    }
  });

  it('no redirect_uri at all: an error page (oidcc-ensure-redirect-uri-in-authorization-request)', async () => {
    expectErrorPage(await authorize(await start({ redirect_uri: undefined })));
  });

  it('an unknown client_id: an error page, whatever redirect_uri it names', async () => {
    expectErrorPage(await authorize(await start({ client_id: 'no-such-app' })));
    expectErrorPage(await authorize(await start({ client_id: undefined })));
  });

  it('no response_type: invalid_request back at the client (oidcc-response-type-missing)', async () => {
    const started = await start({ response_type: undefined });
    const query = redirectedBack(await authorize(started));
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('state')).toBe(started.state);
    expect(query.get('code')).toBeNull();
  });

  it('response_type=token or id_token (implicit, hybrid): unsupported_response_type', async () => {
    for (const responseType of ['token', 'id_token', 'code id_token', 'code token']) {
      const started = await start({ response_type: responseType });
      const query = redirectedBack(await authorize(started));
      expect(query.get('error'), responseType).toBe('unsupported_response_type');
      expect(query.get('state')).toBe(started.state);
      expect(query.get('iss')).toBe(server.url);
      expect(query.get('code')).toBeNull();
      expect(query.get('access_token')).toBeNull();
    }
  });

  it('no code_challenge: invalid_request (PKCE is required, RFC 9700 §2.1.1)', async () => {
    const started = await start({ code_challenge: undefined, code_challenge_method: undefined });
    const query = redirectedBack(await authorize(started));
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('error_description')).toMatch(/code_challenge/);
    expect(query.get('state')).toBe(started.state);
    expect(query.get('iss')).toBe(server.url);
  });

  it('code_challenge_method=plain, or none given (plain by RFC 7636 §4.3): invalid_request', async () => {
    for (const method of ['plain', undefined]) {
      const started = await start({ code_challenge_method: method });
      const query = redirectedBack(await authorize(started));
      expect(query.get('error'), String(method)).toBe('invalid_request');
      expect(query.get('code')).toBeNull();
    }
  });

  it('a scope outside the client’s: invalid_scope', async () => {
    const started = await start({
      client_id: NARROW.id,
      redirect_uri: NARROW.redirectURI,
      scope: 'openid email',
    });
    const query = redirectedBack(await authorize(started), NARROW.redirectURI);
    expect(query.get('error')).toBe('invalid_scope');
    expect(query.get('state')).toBe(started.state);
  });

  it('prompt=none without a session at sessiond: login_required (oidcc-prompt-none-not-logged-in)', async () => {
    const started = await start({ prompt: 'none' });
    const hop = await newBrowser(server).get(started.url);
    const query = redirectedBack(hop);
    expect(query.get('error')).toBe('login_required');
    expect(query.get('state')).toBe(started.state);
    expect(query.get('iss')).toBe(server.url);
  });

  it('prompt=none with a session: a code at once (oidcc-prompt-none-logged-in)', async () => {
    const query = redirectedBack(await authorize(await start({ prompt: 'none' })));
    expect(query.get('code')).toEqual(expect.any(String));
  });

  it('echoes state exactly, and names the issuer in every authorization response (RFC 9207)', async () => {
    const state = "x y+z/%20&=?~!*()[]{}|:;,.<>#$^`'";
    const success = await start({ state });
    const ok = redirectedBack(await authorize(success));
    expect(ok.get('state')).toBe(state);
    expect(ok.get('iss')).toBe(server.url);
    const failure = await start({ state, response_type: 'token' });
    const refused = redirectedBack(await authorize(failure));
    expect(refused.get('state')).toBe(state);
    expect(refused.get('iss')).toBe(server.url);
    // Without a state, none comes back (RFC 6749 §4.1.2: only "if the state parameter was present").
    const stateless = redirectedBack(await authorize(await start({ state: undefined })));
    expect(stateless.has('state')).toBe(false);
  });

  it('ignores parameters it does not know and other scope orders (oidcc-ensure-request-with-unknown-parameter-succeeds, oidcc-ensure-other-scope-order-succeeds)', async () => {
    const unknown = redirectedBack(
      await authorize(
        await start({ extra: 'value', display: 'page', ui_locales: 'se', login_hint: user.email }),
      ),
    );
    expect(unknown.get('code')).toEqual(expect.any(String));
    const reordered = await codeFor({ scope: 'email openid' });
    expect((await exchange(reordered)).status).toBe(200);
  });

  // OpenID Core §3.1.2.6 names these errors for a provider without request objects.
  it('request objects: request_not_supported / request_uri_not_supported (OpenID Core §3.1.2.6)', async () => {
    for (const [name, error] of [
      ['request', 'request_not_supported'],
      ['request_uri', 'request_uri_not_supported'],
    ] as const) {
      const started = await start({
        [name]: name === 'request' ? 'eyJhbGciOiJub25lIn0.e30.' : 'https://rp.example/r',
      });
      const query = redirectedBack(await authorize(started));
      expect(query.get('error'), name).toBe(error);
      expect(query.get('state')).toBe(started.state);
    }
  });

  it('takes the request as a POST form too (oidcc-ensure-post-request-succeeds)', async () => {
    const started = await start();
    const url = new URL(started.url);
    const response = await fetch(`${server.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: browser.jar.header('/oauth/authorize'),
      },
      body: url.searchParams.toString(),
    });
    expect(response.status).toBe(302);
    const back = new URL(response.headers.get('location')!);
    expect(back.searchParams.get('code')).toEqual(expect.any(String));
    expect(back.searchParams.get('state')).toBe(started.state);
  });
});

describe('the token endpoint refuses what the basic plan sends it', () => {
  it('a wrong code_verifier: invalid_grant (RFC 7636 §4.6)', async () => {
    const started = await codeFor();
    const wrong = await exchange(started, { code_verifier: oauth.generateRandomCodeVerifier() });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    expect(wrong.body.access_token).toBeUndefined();
  });

  it('no code_verifier: invalid_request, and no tokens', async () => {
    const started = await codeFor();
    const answer = await token({
      grant_type: 'authorization_code',
      client_id: WEB.id,
      code: started.code,
      redirect_uri: WEB.redirectURI,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
  });

  it('a code used twice: invalid_grant, and the session the first use opened is revoked (oidcc-codereuse, oidcc-codereuse-30seconds)', async () => {
    const started = await codeFor();
    const first = await exchange(started);
    expect(first.status).toBe(200);
    const refreshToken = String(first.body.refresh_token);
    const accessToken = String(first.body.access_token);
    expect((await introspect(accessToken)).active).toBe(true);
    clock.advance(30_000);
    const second = await exchange(started);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    expect(second.body.access_token).toBeUndefined();
    // RFC 6749 §4.1.2: what the code issued is revoked.
    expect((await introspect(accessToken)).active).toBe(false);
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: WEB.id,
      refresh_token: refreshToken,
    });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('a redirect_uri other than the authorization request’s: invalid_grant (RFC 6749 §4.1.3)', async () => {
    const started = await codeFor();
    const answer = await exchange(started, { redirect_uri: `${WEB.redirectURI}/` });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
  });

  it('a code issued to another client: invalid_grant', async () => {
    const started = await codeFor();
    const answer = await token(
      {
        grant_type: 'authorization_code',
        code: started.code,
        redirect_uri: WEB.redirectURI,
        code_verifier: started.verifier,
      },
      {
        authorization: `Basic ${Buffer.from(`${CONFIDENTIAL.id}:${CONFIDENTIAL.secret}`).toString('base64')}`,
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
  });

  it('an unknown client_id: invalid_client', async () => {
    const started = await codeFor();
    const answer = await exchange(started, { client_id: 'no-such-app' });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });

  it('a confidential client with a wrong secret: 401 invalid_client, with WWW-Authenticate for Basic (RFC 6749 §5.2)', async () => {
    const basic = await token(
      {
        grant_type: 'authorization_code',
        code: 'whatever',
        redirect_uri: CONFIDENTIAL.redirectURI,
        code_verifier: 'x',
      },
      { authorization: `Basic ${Buffer.from(`${CONFIDENTIAL.id}:wrong-secret`).toString('base64')}` },
    );
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe('invalid_client');
    expect(basic.headers.get('www-authenticate')).toMatch(/^Basic /);
    const post = await token({
      grant_type: 'authorization_code',
      client_id: CONFIDENTIAL.id,
      client_secret: 'wrong-secret',
      code: 'whatever',
      redirect_uri: CONFIDENTIAL.redirectURI,
      code_verifier: 'x',
    });
    expect(post.status).toBe(401);
    expect(post.body.error).toBe('invalid_client');
    // Naming itself without its secret is no authentication either.
    const none = await token({
      grant_type: 'authorization_code',
      client_id: CONFIDENTIAL.id,
      code: 'whatever',
    });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
  });
});

describe('ID token checks the relying party makes, and sessiond passes', () => {
  /** A code exchange by openid-client whose token response an attacker rewrote on the way. */
  async function openidClientWith(options: {
    rewrite?: (idToken: string) => Promise<string>;
    expectedNonce?: (sent: string) => string;
  }) {
    const config = await client.discovery(new URL(server.url), WEB.id, undefined, client.None(), {
      // Tests only: plain-http issuer; and verify ID token signatures against the JWKS.
      execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    });
    const { rewrite } = options;
    if (rewrite) {
      config[client.customFetch] = async (url, init) => {
        const response = await fetch(url, init);
        if (url !== `${server.url}/oauth/token` || response.status !== 200) return response;
        const body = (await response.json()) as Record<string, unknown>;
        body.id_token = await rewrite(String(body.id_token));
        return new Response(JSON.stringify(body), { status: 200, headers: response.headers });
      };
    }
    const started = await codeFor();
    return client.authorizationCodeGrant(config, new URL(`${WEB.redirectURI}?${redirectedQuery(started)}`), {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: options.expectedNonce ? options.expectedNonce(started.nonce) : started.nonce,
      idTokenExpected: true,
    });
  }

  /** Why the library refused: its error code and the check that failed (the wrapped cause). */
  async function refusal(grant: Promise<unknown>): Promise<{ code: string; reason: string }> {
    const error = (await grant.then(
      () => {
        throw new Error('the RP library accepted the response');
      },
      (caught: unknown) => caught,
    )) as { code: string; message: string; cause?: { message?: string } };
    return { code: error.code, reason: error.cause?.message ?? error.message };
  }

  /** codeFor's response as the callback query (code, state, iss). */
  function redirectedQuery(started: Started & { code: string }): string {
    return new URLSearchParams({ code: started.code, state: started.state, iss: server.url }).toString();
  }

  it('sessiond never offers or uses alg none: discovery lists RS256 only, every ID token is RS256 with a JWKS kid', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['RS256']);
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    const tokens = await openidClientWith({});
    const header = jwtHeader(tokens.id_token!);
    expect(header.alg).toBe('RS256');
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);
  });

  it('a nonce other than the one the RP sent is refused by openid-client and by oauth4webapi', async () => {
    expect(await refusal(openidClientWith({ expectedNonce: (sent) => `${sent}-tampered` }))).toEqual({
      code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
      reason: 'unexpected ID Token "nonce" claim value',
    });
    const as = await oauth.processDiscoveryResponse(
      new URL(server.url),
      await oauth.discoveryRequest(new URL(server.url), { algorithm: 'oidc', ...insecure }),
    );
    const web: oauth.Client = { client_id: WEB.id };
    const started = await codeFor();
    const parameters = oauth.validateAuthResponse(
      as,
      web,
      new URL(`${WEB.redirectURI}?${redirectedQuery(started)}`),
      started.state,
    );
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      web,
      oauth.None(),
      parameters,
      WEB.redirectURI,
      started.verifier,
      insecure,
    );
    await expect(
      oauth.processAuthorizationCodeResponse(as, web, response, {
        expectedNonce: oauth.generateRandomNonce(),
      }),
    ).rejects.toThrow('unexpected ID Token "nonce" claim value');
  });

  it('sessiond puts the nonce the request sent in the ID token, and none when none was sent (oidcc-ensure-request-without-nonce-succeeds-for-code-flow)', async () => {
    const started = await codeFor();
    const answer = await exchange(started);
    expect(jwtPayload(String(answer.body.id_token)).nonce).toBe(started.nonce);
    const without = await codeFor({ nonce: undefined });
    const plain = await exchange(without);
    expect(plain.status).toBe(200);
    expect(jwtPayload(String(plain.body.id_token)).nonce).toBeUndefined();
  });

  it('an ID token rewritten to alg none is refused by the RP (oidcc-idtoken-unsigned, from the RP side)', async () => {
    const unsigned = async (idToken: string) => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      return `${header}.${idToken.split('.')[1]}.`;
    };
    expect(await refusal(openidClientWith({ rewrite: unsigned }))).toEqual({
      code: 'OAUTH_INVALID_RESPONSE',
      reason: 'unexpected JWT "alg" header parameter',
    });
  });

  it('an ID token signed by another key, under a kid sessiond does not publish or under its own kid, is refused (oidcc-idtoken-signature)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const resign = (kid: (original: string) => string) => async (idToken: string) =>
      new SignJWT(jwtPayload(idToken))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: kid(String(jwtHeader(idToken).kid)) })
        .sign(privateKey);
    expect(await refusal(openidClientWith({ rewrite: resign(() => 'not-a-sessiond-key') }))).toEqual({
      code: 'OAUTH_KEY_SELECTION_FAILED',
      reason: 'error when selecting a JWT verification key, no applicable keys found',
    });
    expect(await refusal(openidClientWith({ rewrite: resign((own) => own) }))).toEqual({
      code: 'OAUTH_INVALID_RESPONSE',
      reason: 'JWT signature verification failed',
    });
  });
});

describe('the config plan’s discovery checks (oidcc-discovery-endpoint-verification)', () => {
  it('publishes every field OpenID Discovery §3 requires, for the issuer it is fetched from', async () => {
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const metadata = (await response.json()) as Record<string, unknown>;
    // §4.3: the issuer is exactly the URL discovery was done against.
    expect(metadata.issuer).toBe(server.url);
    for (const field of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
      'scopes_supported',
      'claims_supported',
    ]) {
      expect(metadata[field], field).toBeDefined();
    }
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
      expect(String(metadata[endpoint]).startsWith(`${server.url}/`), endpoint).toBe(true);
    }
    expect(metadata.scopes_supported).toContain('openid');
    expect(metadata.response_types_supported).toContain('code');
    expect(metadata.subject_types_supported).toEqual(['public']);
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'aud', 'exp', 'iat']));
    // What sessiond does not do, it says it does not do.
    expect(metadata.request_parameter_supported).toBe(false);
    expect(metadata.request_uri_parameter_supported).toBe(false);
    expect(metadata.claims_parameter_supported).toBe(false);
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it('serves a JWKS of public RSA signing keys with distinct kids', async () => {
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const kids = jwks.keys.map((key) => key.kid);
    expect(new Set(kids).size).toBe(kids.length);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({
        kty: 'RSA',
        kid: expect.any(String),
        n: expect.any(String),
        e: expect.any(String),
      });
      if (key.use !== undefined) expect(key.use).toBe('sig');
      for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        expect(key[privatePart], privatePart).toBeUndefined();
    }
  });
});

describe('re-authentication the basic plan asks for', () => {
  it('prompt=login sends a signed-in browser to the sign-in page, not back with a code (oidcc-prompt-login)', async () => {
    const hop = await authorize(await start({ prompt: 'login' }));
    expect(hop.status).toBe(302);
    expect(new URL(hop.location!).pathname).toBe('/oauth/sign-in');
  });

  it('max_age=1 after two seconds: the sign-in page; with prompt=none, login_required (oidcc-max-age-1)', async () => {
    clock.advance(2_000);
    const hop = await authorize(await start({ max_age: '1' }));
    expect(hop.status).toBe(302);
    expect(new URL(hop.location!).pathname).toBe('/oauth/sign-in');
    const silent = await start({ max_age: '1', prompt: 'none' });
    const query = redirectedBack(await authorize(silent));
    expect(query.get('error')).toBe('login_required');
    expect(query.get('state')).toBe(silent.state);
    // A generous max_age is met by the same session (oidcc-max-age-10000), and auth_time says when.
    const started = await codeFor({ max_age: '10000' });
    const answer = await exchange(started);
    expect(jwtPayload(String(answer.body.id_token)).auth_time).toEqual(expect.any(Number));
  });

  it('id_token_hint of the signed-in user is accepted (oidcc-id-token-hint)', async () => {
    const first = await exchange(await codeFor());
    const query = redirectedBack(
      await authorize(await start({ prompt: 'none', id_token_hint: String(first.body.id_token) })),
    );
    expect(query.get('code')).toEqual(expect.any(String));
  });
});

describe('userinfo refuses what it must (oidcc-userinfo-get, -post-header, -post-body)', () => {
  it('no token: 401 with a bare Bearer challenge; a bad token: 401 invalid_token (RFC 6750 §3.1)', async () => {
    const bare = await fetch(`${server.url}/oauth/userinfo`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(bare.headers.get('www-authenticate')).not.toMatch(/error=/);
    const bad = await fetch(`${server.url}/oauth/userinfo`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('answers a GET and a POST with the bearer header, for the ID token’s sub', async () => {
    const answer = await exchange(await codeFor());
    const sub = jwtPayload(String(answer.body.id_token)).sub;
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${server.url}/oauth/userinfo`, {
        method,
        headers: { authorization: `Bearer ${String(answer.body.access_token)}` },
      });
      expect(response.status, method).toBe(200);
      expect(await response.json()).toMatchObject({ sub, email: user.email });
    }
  });

  it('a token in a POST body (RFC 6750 §2.2) is read, as oidcc-userinfo-post-body checks', async () => {
    const answer = await exchange(await codeFor());
    const response = await fetch(`${server.url}/oauth/userinfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: String(answer.body.access_token) }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty('sub');
  });
});

describe('codes expire', () => {
  it('a code older than 60 s: invalid_grant (RFC 6749 §4.1.2 "short lifetime")', async () => {
    const started = await codeFor();
    clock.advance(61_000);
    const answer = await exchange(started);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
    expect(answer.body.access_token).toBeUndefined();
  });
});
