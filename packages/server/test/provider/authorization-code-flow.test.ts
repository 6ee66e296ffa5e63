import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/api.js';
import { type SSOUser, signedInAtSessiond, ssoSessionFor, ssoTestRoute } from '../helpers/sso.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// oauth4webapi (by the author of jose, a certified relying-party library) drives the flow as an
// app would, unchanged; the only option is the one its docs give for plain-HTTP test servers.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const WEB_REDIRECT = 'https://app.example/callback';
const CONFIDENTIAL_SECRET = 'server-app-secret-0123456789';
const CLIENTS = [
  { id: 'default' },
  {
    id: 'web',
    name: 'Web app',
    redirect_uris: [WEB_REDIRECT, 'http://127.0.0.1/callback'],
  },
  {
    id: 'server-app',
    type: 'confidential',
    secret_sha256: createHash('sha256').update(CONFIDENTIAL_SECRET).digest('hex'),
    redirect_uris: ['https://server.example/cb'],
    scopes: ['openid', 'email', 'offline_access'],
  },
];

let server: TestServer;
let as: oauth.AuthorizationServer;
const web: oauth.Client = { client_id: 'web' };

beforeAll(async () => {
  server = await startTestServer({
    issuerIsURL: true,
    env: { SESSIOND_CLIENTS: JSON.stringify(CLIENTS) },
    routes: ssoTestRoute,
  });
  const issuer = new URL(server.url);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
  );
});
afterAll(async () => {
  await server.close();
});

interface Started {
  verifier: string;
  state: string;
  nonce: string;
  params: Record<string, string>;
}

async function authorizationRequest(overrides: Record<string, string | undefined> = {}): Promise<Started> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params: Record<string, string> = {};
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    scope: 'openid email offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...overrides,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) params[name] = value;
  return { verifier, state, nonce, params };
}

/** GET /oauth/authorize as the browser: the SSO cookie if signed in, redirects not followed. */
async function authorize(params: Record<string, string>, cookie?: string): Promise<Response> {
  const url = new URL('/oauth/authorize', server.url);
  url.search = new URLSearchParams(params).toString();
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

function location(response: Response): URL {
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

/** Signs the user in at the app: authorize with the SSO cookie, then the code exchange with oauth4webapi. */
async function codeFlow(
  user: Pick<SSOUser, 'cookie'>,
  options: { client?: oauth.Client; auth?: oauth.ClientAuth; redirect?: string; scope?: string } = {},
) {
  const client = options.client ?? web;
  const redirect = options.redirect ?? WEB_REDIRECT;
  const started = await authorizationRequest({
    client_id: client.client_id,
    redirect_uri: redirect,
    ...(options.scope ? { scope: options.scope } : {}),
  });
  const callback = location(await authorize(started.params, user.cookie));
  const params = oauth.validateAuthResponse(as, client, callback, started.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    options.auth ?? oauth.None(),
    params,
    redirect,
    started.verifier,
    insecure,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: started.nonce,
    requireIdToken: true,
  });
  return { tokens, started, callback, code: params.get('code')! };
}

function tokenForm(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return request(server.url, 'POST', '/oauth/token', {
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

describe('discovery', () => {
  it('publishes OpenID Discovery 1.0 metadata, the same document as RFC 8414', async () => {
    expect(as).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth/authorize`,
      token_endpoint: `${server.url}/oauth/token`,
      userinfo_endpoint: `${server.url}/oauth/userinfo`,
      end_session_endpoint: `${server.url}/oauth/logout`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
      acr_values_supported: ['aal1', 'aal2'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
    expect(as.claims_supported).toEqual(expect.arrayContaining(['sub', 'sid', 'acr', 'amr', 'auth_time']));
    const rfc8414 = await fetch(new URL('/.well-known/oauth-authorization-server', server.url));
    expect(await rfc8414.json()).toEqual(
      await (await fetch(new URL('/.well-known/openid-configuration', server.url))).json(),
    );
  });
});

describe('authorization code with PKCE', () => {
  it('signs an SSO-signed-in user in at the app: code, tokens, a valid ID token', async () => {
    const user = await signedInAtSessiond(server.url);
    const { tokens, started, callback } = await codeFlow(user);
    // RFC 9207: iss echoed with state.
    expect(callback.origin + callback.pathname).toBe(WEB_REDIRECT);
    expect(callback.searchParams.get('iss')).toBe(server.url);
    expect(callback.searchParams.get('state')).toBe(started.state);
    expect(tokens).toMatchObject({
      token_type: 'bearer',
      scope: 'openid email offline_access',
      refresh_token: expect.stringMatching(/^rt_/),
      expires_in: expect.any(Number),
    });
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: server.url,
      audience: 'web',
      algorithms: ['RS256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const access = decodeJwt(tokens.access_token);
    const expectedAtHash = createHash('sha256')
      .update(tokens.access_token)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    expect(payload).toMatchObject({
      sub: user.userId,
      aud: 'web',
      azp: 'web',
      nonce: started.nonce,
      acr: 'aal1',
      amr: ['pwd'],
      sid: access.sid,
      at_hash: expectedAtHash,
      email: user.email,
      email_verified: false,
      auth_time: expect.any(Number),
    });
    expect(payload.exp! - payload.iat!).toBe(tokens.expires_in);
    // The app session is its own session of client `web`, linked to the SSO session.
    const session = await server.app.sessiond.store.findSession(access.sid as string);
    expect(session).toMatchObject({
      clientId: 'web',
      ssoSessionId: user.ssoSessionId,
      scope: 'openid email offline_access',
      userId: user.userId,
    });
    const sso = await server.app.sessiond.store.findSession(user.ssoSessionId);
    expect(session!.deviceId).toBe(sso!.deviceId);
    expect(payload.auth_time).toBe(Math.floor(sso!.authTime / 1000));
  });

  it('answers userinfo for the access token (RFC 6750 challenges on errors)', async () => {
    const user = await signedInAtSessiond(server.url);
    const { tokens } = await codeFlow(user);
    const response = await oauth.userInfoRequest(as, web, tokens.access_token, insecure);
    const info = await oauth.processUserInfoResponse(as, web, user.userId, response);
    expect(info).toEqual({ sub: user.userId, email: user.email, email_verified: false });
    const posted = await fetch(new URL('/oauth/userinfo', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await posted.json()).toEqual(info);
    // RFC 6750 §2.2: the token as a form field of a POST; not both ways at once.
    const inBody = await fetch(new URL('/oauth/userinfo', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(await inBody.json()).toEqual(info);
    const twoWays = await fetch(new URL('/oauth/userinfo', server.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(twoWays.status).toBe(400);

    const anonymous = await fetch(new URL('/oauth/userinfo', server.url));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="sessiond"');
    const forged = await fetch(new URL('/oauth/userinfo', server.url), {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer realm="sessiond", error="invalid_token"/);
    // An ID token is no access token.
    const idToken = await fetch(new URL('/oauth/userinfo', server.url), {
      headers: { authorization: `Bearer ${tokens.id_token}` },
    });
    expect(idToken.status).toBe(401);
  });

  it('userinfo refuses a session without the openid scope (insufficient_scope) and omits email without its scope', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest({ scope: 'offline_access', nonce: undefined });
    const callback = location(await authorize(started.params, user.cookie));
    const params = oauth.validateAuthResponse(as, web, callback, started.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      web,
      oauth.None(),
      params,
      WEB_REDIRECT,
      started.verifier,
      insecure,
    );
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.id_token).toBeUndefined();
    expect(body.scope).toBe('offline_access');
    const info = await fetch(new URL('/oauth/userinfo', server.url), {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(info.status).toBe(403);
    expect(info.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);

    const { tokens } = await codeFlow(user, { scope: 'openid' });
    expect(decodeJwt(tokens.id_token!).email).toBeUndefined();
    const plain = await oauth.userInfoRequest(as, web, tokens.access_token, insecure);
    expect(await oauth.processUserInfoResponse(as, web, user.userId, plain)).toEqual({ sub: user.userId });
  });

  it('refresh rotates the refresh token and returns a fresh ID token', async () => {
    const user = await signedInAtSessiond(server.url);
    const { tokens } = await codeFlow(user);
    const first = decodeJwt(tokens.id_token!);
    server.clock.advance(2_000);
    const response = await oauth.refreshTokenGrantRequest(
      as,
      web,
      oauth.None(),
      tokens.refresh_token!,
      insecure,
    );
    const refreshed = await oauth.processRefreshTokenResponse(as, web, response);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const claims = oauth.getValidatedIdTokenClaims(refreshed)!;
    expect(claims).toMatchObject({
      sub: user.userId,
      sid: first.sid,
      aud: 'web',
      auth_time: first.auth_time,
    });
    expect(claims.iat).toBeGreaterThan(first.iat!);
    // The old token is spent: its reuse revokes the session (reuse detection as everywhere).
    server.clock.advance(60_000);
    const reused = await tokenForm({
      grant_type: 'refresh_token',
      client_id: 'web',
      refresh_token: tokens.refresh_token!,
    });
    expect(reused.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('a loopback redirect matches whatever port the native app listens on (RFC 8252)', async () => {
    const user = await signedInAtSessiond(server.url);
    const { callback } = await codeFlow(user, { redirect: 'http://127.0.0.1:49152/callback' });
    expect(callback.host).toBe('127.0.0.1:49152');
  });
});

describe('requests that never redirect', () => {
  it('an unknown client or an unregistered redirect_uri gets an HTML page, not a redirect', async () => {
    const user = await signedInAtSessiond(server.url);
    for (const overrides of [
      { redirect_uri: 'https://evil.example/callback' },
      { redirect_uri: `${WEB_REDIRECT}/more` },
      { redirect_uri: undefined },
      { client_id: 'stranger' },
      { client_id: 'default' },
    ]) {
      const { params } = await authorizationRequest(overrides);
      const response = await authorize(params, user.cookie);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toMatch(/role="alert"/);
    }
  });
});

describe('errors returned to the client', () => {
  async function errorOf(overrides: Record<string, string | undefined>, cookie?: string) {
    const started = await authorizationRequest(overrides);
    const url = location(await authorize(started.params, cookie));
    expect(url.origin + url.pathname).toBe(WEB_REDIRECT);
    expect(url.searchParams.get('state')).toBe(started.state);
    expect(url.searchParams.get('iss')).toBe(server.url);
    expect(url.searchParams.get('code')).toBeNull();
    expect(url.searchParams.get('error_description')).toEqual(expect.any(String));
    return url.searchParams.get('error');
  }

  it('PKCE is required, S256 only', async () => {
    const user = await signedInAtSessiond(server.url);
    expect(await errorOf({ code_challenge: undefined, code_challenge_method: undefined }, user.cookie)).toBe(
      'invalid_request',
    );
    expect(await errorOf({ code_challenge_method: 'plain' }, user.cookie)).toBe('invalid_request');
    expect(await errorOf({ code_challenge_method: undefined }, user.cookie)).toBe('invalid_request');
    expect(await errorOf({ code_challenge: 'short' }, user.cookie)).toBe('invalid_request');
  });

  it('response_type code only; scopes within the client; prompt=none without a session', async () => {
    const user = await signedInAtSessiond(server.url);
    expect(await errorOf({ response_type: 'token' }, user.cookie)).toBe('unsupported_response_type');
    expect(await errorOf({ response_type: 'code id_token' }, user.cookie)).toBe('unsupported_response_type');
    expect(await errorOf({ scope: 'openid admin' }, user.cookie)).toBe('invalid_scope');
    expect(await errorOf({ scope: undefined }, user.cookie)).toBe('invalid_scope');
    expect(await errorOf({ prompt: 'none login' }, user.cookie)).toBe('invalid_request');
    expect(await errorOf({ prompt: 'none' })).toBe('login_required');
  });

  it('the confidential client may not ask for a scope it was not given', async () => {
    const started = await authorizationRequest({
      client_id: 'server-app',
      redirect_uri: 'https://server.example/cb',
      scope: 'openid profile',
    });
    const url = location(await authorize(started.params));
    expect(url.searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('the token endpoint refuses', () => {
  it('a wrong verifier, a missing verifier, another redirect_uri (and the code is spent)', async () => {
    const user = await signedInAtSessiond(server.url);
    for (const mistake of [
      { code_verifier: oauth.generateRandomCodeVerifier() },
      { code_verifier: undefined },
      { redirect_uri: 'http://127.0.0.1/callback' },
    ]) {
      const started = await authorizationRequest();
      const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
      const fields: Record<string, string | undefined> = {
        grant_type: 'authorization_code',
        client_id: 'web',
        code,
        redirect_uri: WEB_REDIRECT,
        code_verifier: started.verifier,
        ...mistake,
      };
      const body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >;
      const answer = await tokenForm(body);
      expect(answer.status).toBe(400);
      expect(['invalid_grant', 'invalid_request']).toContain(answer.body.error);
      if (mistake.code_verifier !== undefined || mistake.redirect_uri !== undefined) {
        // The code was used by the failed attempt: the right verifier cannot use it now.
        const retry = await tokenForm({
          ...body,
          code_verifier: started.verifier,
          redirect_uri: WEB_REDIRECT,
        });
        expect(retry.body.error).toBe('invalid_grant');
      }
    }
  });

  it('a replayed code, and revokes the session its first use opened', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest();
    const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
    const fields = {
      grant_type: 'authorization_code',
      client_id: 'web',
      code,
      redirect_uri: WEB_REDIRECT,
      code_verifier: started.verifier,
    };
    const first = await tokenForm(fields);
    expect(first.status).toBe(200);
    const sid = decodeJwt(first.body.access_token as string).sid as string;
    const replay = await tokenForm(fields);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });
    expect((await server.app.sessiond.store.findSession(sid))?.endedAt).not.toBeNull();
    const refresh = await tokenForm({
      grant_type: 'refresh_token',
      client_id: 'web',
      refresh_token: first.body.refresh_token as string,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('an expired code (60 s)', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest();
    const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
    server.clock.advance(61_000);
    const answer = await tokenForm({
      grant_type: 'authorization_code',
      client_id: 'web',
      code,
      redirect_uri: WEB_REDIRECT,
      code_verifier: started.verifier,
    });
    expect(answer.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('a code another client presents', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest();
    const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
    const answer = await tokenForm(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: WEB_REDIRECT,
        code_verifier: started.verifier,
      },
      { authorization: `Basic ${Buffer.from(`server-app:${CONFIDENTIAL_SECRET}`).toString('base64')}` },
    );
    expect(answer.body).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('confidential clients', () => {
  const serverApp: oauth.Client = { client_id: 'server-app' };
  const redirect = 'https://server.example/cb';

  it('authenticate with client_secret_basic or client_secret_post', async () => {
    const user = await signedInAtSessiond(server.url);
    for (const auth of [
      oauth.ClientSecretBasic(CONFIDENTIAL_SECRET),
      oauth.ClientSecretPost(CONFIDENTIAL_SECRET),
    ]) {
      const { tokens } = await codeFlow(user, { client: serverApp, auth, redirect });
      expect(decodeJwt(tokens.id_token!).aud).toBe('server-app');
      // Refresh needs the secret too.
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        serverApp,
        await oauth.refreshTokenGrantRequest(as, serverApp, auth, tokens.refresh_token!, insecure),
      );
      expect(refreshed.id_token).toEqual(expect.any(String));
      const anonymous = await tokenForm({
        grant_type: 'refresh_token',
        client_id: 'server-app',
        refresh_token: refreshed.refresh_token!,
      });
      expect(anonymous).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const revoke = await request(server.url, 'POST', '/oauth/revoke', {
        body: new URLSearchParams({ token: refreshed.refresh_token!, client_id: 'server-app' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(revoke.status).toBe(401);
    }
  });

  it('a wrong secret, no secret, or two methods at once is refused', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest({
      client_id: 'server-app',
      redirect_uri: redirect,
      scope: 'openid',
    });
    const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
    const fields = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      code_verifier: started.verifier,
    };
    const wrongBasic = await tokenForm(fields, {
      authorization: `Basic ${Buffer.from('server-app:wrong').toString('base64')}`,
    });
    expect(wrongBasic).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(wrongBasic.headers.get('www-authenticate')).toBe('Basic realm="sessiond"');
    const wrongPost = await tokenForm({ ...fields, client_id: 'server-app', client_secret: 'wrong' });
    expect(wrongPost).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const none = await tokenForm({ ...fields, client_id: 'server-app' });
    expect(none).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const both = await tokenForm(
      { ...fields, client_secret: CONFIDENTIAL_SECRET },
      { authorization: `Basic ${Buffer.from(`server-app:${CONFIDENTIAL_SECRET}`).toString('base64')}` },
    );
    expect(both).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    // None of the refusals used the code.
    const right = await tokenForm({ ...fields, client_id: 'server-app', client_secret: CONFIDENTIAL_SECRET });
    expect(right.status).toBe(200);
  });
});

describe('when the SSO session does not satisfy the request', () => {
  function signInPage(response: Response): string {
    const url = location(response);
    expect(url.origin + url.pathname).toBe(`${server.url}/oauth/sign-in`);
    return url.searchParams.get('request')!;
  }

  it('no SSO session: the request waits for the sign-in page, then resume answers it', async () => {
    const started = await authorizationRequest();
    const requestId = signInPage(await authorize(started.params));
    const { authorization, store } = server.app.sessiond;
    expect((await authorization.pending(requestId, undefined))?.needs).toMatchObject({
      signIn: true,
      acr: 'aal1',
    });
    const user = await signedInAtSessiond(server.url);
    const sso = (await store.findSession(user.ssoSessionId))!;
    const resumed = await authorization.resume(requestId, sso);
    expect(resumed.kind).toBe('redirect');
    const callback = new URL((resumed as { location: string }).location);
    const params = oauth.validateAuthResponse(as, web, callback, started.state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      web,
      await oauth.authorizationCodeGrantRequest(
        as,
        web,
        oauth.None(),
        params,
        WEB_REDIRECT,
        started.verifier,
        insecure,
      ),
      { expectedNonce: started.nonce },
    );
    expect(oauth.getValidatedIdTokenClaims(tokens)!.sub).toBe(user.userId);
    // Answered once.
    expect(await authorization.resume(requestId, sso)).toEqual({ kind: 'expired' });
  });

  it('max_age: an authentication older than it sends the user to sign in again', async () => {
    const user = await signedInAtSessiond(server.url);
    server.clock.advance(120_000);
    const started = await authorizationRequest({ max_age: '60' });
    const requestId = signInPage(await authorize(started.params, user.cookie));
    const { authorization, store } = server.app.sessiond;
    const old = (await store.findSession(user.ssoSessionId))!;
    expect(await authorization.resume(requestId, old)).toMatchObject({
      kind: 'needs',
      needs: { freshLoginRequired: true },
    });
    const fresh = await ssoSessionFor(server.url, user.userId);
    const resumed = await authorization.resume(requestId, (await store.findSession(fresh.ssoSessionId))!);
    expect(resumed.kind).toBe('redirect');
    // A young enough authentication passes straight through.
    const direct = await authorizationRequest({ max_age: '60' });
    expect(location(await authorize(direct.params, fresh.cookie)).searchParams.get('code')).toEqual(
      expect.any(String),
    );
    // With prompt=none it is login_required instead.
    const silent = await authorizationRequest({ max_age: '60', prompt: 'none' });
    expect(location(await authorize(silent.params, user.cookie)).searchParams.get('error')).toBe(
      'login_required',
    );
  });

  it('prompt=login: even a fresh SSO session must authenticate again', async () => {
    const user = await signedInAtSessiond(server.url);
    server.clock.advance(1_000);
    const started = await authorizationRequest({ prompt: 'login' });
    const requestId = signInPage(await authorize(started.params, user.cookie));
    const { authorization, store } = server.app.sessiond;
    expect(
      (await authorization.pending(requestId, (await store.findSession(user.ssoSessionId))!))?.needs,
    ).toMatchObject({ freshLoginRequired: true });
    server.clock.advance(1_000);
    const again = await ssoSessionFor(server.url, user.userId);
    const resumed = await authorization.resume(requestId, (await store.findSession(again.ssoSessionId))!);
    expect(resumed.kind).toBe('redirect');
  });

  it('acr_values=aal2 with an aal1 SSO session needs a step-up; an aal2 session passes', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest({ acr_values: 'aal2' });
    const requestId = signInPage(await authorize(started.params, user.cookie));
    const { authorization, store } = server.app.sessiond;
    const sso = (await store.findSession(user.ssoSessionId))!;
    expect(await authorization.resume(requestId, sso)).toMatchObject({
      kind: 'needs',
      needs: { acr: 'aal2', freshLoginRequired: false, signIn: false },
    });
    const silent = await authorizationRequest({ acr_values: 'aal2', prompt: 'none' });
    expect(location(await authorize(silent.params, user.cookie)).searchParams.get('error')).toBe(
      'interaction_required',
    );
    const strong = await ssoSessionFor(server.url, user.userId, { acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    const { tokens } = await codeFlow(strong);
    expect(decodeJwt(tokens.id_token!)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    // acr_values is a preference list: aal1 listed means aal1 is enough.
    const either = await authorizationRequest({ acr_values: 'aal2 aal1' });
    expect(location(await authorize(either.params, user.cookie)).searchParams.get('code')).toEqual(
      expect.any(String),
    );
  });

  it('an ended SSO session counts as none, and a code it issued no longer exchanges', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest();
    const code = location(await authorize(started.params, user.cookie)).searchParams.get('code')!;
    const { store, ending } = server.app.sessiond;
    await ending.revoke((await store.findSession(user.ssoSessionId))!, {
      reason: 'revoked',
      actor: 'user',
      context: null,
    });
    const answer = await tokenForm({
      grant_type: 'authorization_code',
      client_id: 'web',
      code,
      redirect_uri: WEB_REDIRECT,
      code_verifier: started.verifier,
    });
    expect(answer.body).toMatchObject({ error: 'invalid_grant' });
    const again = await authorizationRequest({ prompt: 'none' });
    expect(location(await authorize(again.params, user.cookie)).searchParams.get('error')).toBe(
      'login_required',
    );
  });
});

describe('POST /oauth/authorize', () => {
  it('takes the request as a form, like GET', async () => {
    const user = await signedInAtSessiond(server.url);
    const started = await authorizationRequest();
    const response = await fetch(new URL('/oauth/authorize', server.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: user.cookie },
      body: new URLSearchParams(started.params).toString(),
    });
    const url = location(response);
    expect(url.searchParams.get('code')).toEqual(expect.any(String));
    expect(url.searchParams.get('state')).toBe(started.state);
  });
});
