import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/api.js';
import type { SignInPageBrowser } from '../helpers/sign-in-page.js';
import { RESOURCE_SERVER, type TestServer } from '../helpers/test-server.js';
import {
  ALL_SCOPES,
  atHash,
  authorizeInBrowser,
  CONFIDENTIAL,
  createUser,
  jwtHeader,
  newBrowser,
  startProvider,
  type User,
  visit,
  WEB,
} from './rp-harness.js';

/**
 * openid-client 6 (panva's certified RP library) as the app, unchanged. allowInsecureRequests is
 * for these tests only: the library refuses plain-http issuers, and the test server is
 * http://127.0.0.1; a deployed sessiond is https and needs no such option.
 * enableNonRepudiationChecks makes the library verify every ID token's signature against the
 * JWKS (over TLS it may trust the channel instead, OpenID Core §3.1.3.7 step 6): here the
 * signature is part of what is proven.
 */
const insecure = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] };

let server: TestServer;

beforeAll(async () => {
  server = await startProvider();
});
afterAll(async () => {
  await server.close();
});

function discoverPublic(): Promise<client.Configuration> {
  return client.discovery(new URL(server.url), WEB.id, undefined, client.None(), insecure);
}

/** The library's own authorization request, the user in a browser, the library's code exchange. */
async function signInWith(
  config: client.Configuration,
  options: { redirectURI: string; user: User; browser?: SignInPageBrowser; scope?: string },
) {
  const browser = options.browser ?? newBrowser(server);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectURI,
    scope: options.scope ?? ALL_SCOPES,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { callback } = await authorizeInBrowser(browser, url.href, {
    user: options.user,
    stopAt: options.redirectURI,
  });
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, browser, nonce, callback: new URL(callback) };
}

describe('openid-client 6 as a relying party of sessiond', () => {
  it('discovers sessiond from /.well-known/openid-configuration, consistent with RFC 8414', async () => {
    const config = await discoverPublic();
    const metadata = config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth/authorize`,
      token_endpoint: `${server.url}/oauth/token`,
      userinfo_endpoint: `${server.url}/oauth/userinfo`,
      end_session_endpoint: `${server.url}/oauth/logout`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.scopes_supported).toContain('openid');
    expect(metadata.id_token_signing_alg_values_supported).not.toContain('none');
    const oauthDocument = await request(server.url, 'GET', '/.well-known/oauth-authorization-server');
    for (const field of [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'response_types_supported',
      'grant_types_supported',
      'code_challenge_methods_supported',
      'token_endpoint_auth_methods_supported',
    ] as const) {
      expect(oauthDocument.body[field], field).toEqual(metadata[field]);
    }
  });

  it('signs in with code + PKCE S256 + state + nonce and validates the ID token', async () => {
    const config = await discoverPublic();
    const user = await createUser(server);
    const { tokens, nonce, callback } = await signInWith(config, { redirectURI: WEB.redirectURI, user });
    // RFC 9207: the authorization response names the issuer (the library checked it too).
    expect(callback.searchParams.get('iss')).toBe(server.url);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^rt_/);
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: server.url,
      sub: user.id,
      aud: WEB.id,
      azp: WEB.id,
      nonce,
      acr: 'aal1',
      amr: ['pwd'],
      email: user.email,
      email_verified: false,
    });
    expect(claims?.sid).toEqual(expect.any(String));
    expect(claims?.auth_time).toEqual(expect.any(Number));
    // The library does not check at_hash in the code flow (OpenID Core makes it optional there).
    expect(claims?.at_hash).toBe(atHash(tokens.access_token));
    const header = jwtHeader(tokens.id_token!);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: expect.any(String) });
  });

  it('reads userinfo with the access token, for the ID token’s subject', async () => {
    const config = await discoverPublic();
    const user = await createUser(server);
    const { tokens } = await signInWith(config, { redirectURI: WEB.redirectURI, user });
    const sub = tokens.claims()!.sub;
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: false });
    // A mismatched subject is the library's check, and it fails closed.
    await expect(client.fetchUserInfo(config, tokens.access_token, 'someone-else')).rejects.toThrow();
  });

  it('refreshes: the refresh token rotates and a new ID token for the same session comes back', async () => {
    const config = await discoverPublic();
    const user = await createUser(server);
    const { tokens } = await signInWith(config, { redirectURI: WEB.redirectURI, user });
    const first = tokens.claims()!;
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toMatch(/^rt_/);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const again = refreshed.claims()!;
    expect(again).toMatchObject({ iss: server.url, sub: first.sub, aud: WEB.id, sid: first.sid });
    expect(again.at_hash).toBe(atHash(refreshed.access_token));
    // The next rotation works from the successor.
    const third = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    expect(third.claims()!.sid).toBe(first.sid);
  });

  it('revokes and introspects the app session’s tokens with the library', async () => {
    const config = await discoverPublic();
    const user = await createUser(server);
    const { tokens } = await signInWith(config, { redirectURI: WEB.redirectURI, user });
    const resourceServer = new client.Configuration(
      config.serverMetadata(),
      RESOURCE_SERVER.id,
      RESOURCE_SERVER.secret,
      client.ClientSecretBasic(),
    );
    client.allowInsecureRequests(resourceServer);
    const live = await client.tokenIntrospection(resourceServer, tokens.access_token);
    expect(live).toMatchObject({ active: true, sub: user.id, client_id: WEB.id, sid: tokens.claims()!.sid });
    await client.tokenRevocation(config, tokens.refresh_token!);
    const dead = await client.tokenIntrospection(resourceServer, tokens.access_token);
    expect(dead.active).toBe(false);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('signs in a confidential client with client_secret_basic and with client_secret_post', async () => {
    for (const auth of [
      client.ClientSecretBasic(CONFIDENTIAL.secret),
      client.ClientSecretPost(CONFIDENTIAL.secret),
    ]) {
      const config = await client.discovery(new URL(server.url), CONFIDENTIAL.id, undefined, auth, insecure);
      const user = await createUser(server);
      const { tokens } = await signInWith(config, { redirectURI: CONFIDENTIAL.redirectURI, user });
      expect(tokens.claims()).toMatchObject({ sub: user.id, aud: CONFIDENTIAL.id });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.claims()!.sub).toBe(user.id);
    }
  });

  it('a second app in the same browser signs in without the page (the SSO session), as its own session', async () => {
    const user = await createUser(server);
    const browser = newBrowser(server);
    const web = await signInWith(await discoverPublic(), { redirectURI: WEB.redirectURI, user, browser });
    const confidential = await client.discovery(
      new URL(server.url),
      CONFIDENTIAL.id,
      undefined,
      client.ClientSecretBasic(CONFIDENTIAL.secret),
      insecure,
    );
    // No user given: a sign-in page on the way would throw.
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(confidential, {
      redirect_uri: CONFIDENTIAL.redirectURI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'none',
    });
    const { callback } = await authorizeInBrowser(browser, url.href, { stopAt: CONFIDENTIAL.redirectURI });
    const tokens = await client.authorizationCodeGrant(confidential, new URL(callback), {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.id);
    expect(claims.nonce).toBeUndefined();
    expect(claims.sid).not.toBe(web.tokens.claims()!.sid);
    expect(claims.auth_time).toBe(web.tokens.claims()!.auth_time);
  });

  it('logs out through buildEndSessionUrl: back to the app with its state, every app session of that sign-in ended', async () => {
    const config = await discoverPublic();
    const user = await createUser(server);
    const { tokens, browser } = await signInWith(config, { redirectURI: WEB.redirectURI, user });
    const state = client.randomState();
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: WEB.postLogoutRedirectURI,
      state,
    });
    const answer = await visit(browser, logout.href);
    expect(answer.status).toBe(302);
    const back = new URL(answer.location!);
    expect(`${back.origin}${back.pathname}`).toBe(WEB.postLogoutRedirectURI);
    expect(back.searchParams.get('state')).toBe(state);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // The SSO session ended too: a silent request now needs a sign-in.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: WEB.redirectURI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
      prompt: 'none',
    });
    const { callback } = await authorizeInBrowser(browser, again.href, { stopAt: WEB.redirectURI });
    expect(new URL(callback).searchParams.get('error')).toBe('login_required');
  });
});
