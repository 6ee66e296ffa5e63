import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_SERVER, type TestServer } from '../helpers/test-server.js';
import {
  ALL_SCOPES,
  atHash,
  authorizeInBrowser,
  CONFIDENTIAL,
  createUser,
  newBrowser,
  startProvider,
  type User,
  WEB,
} from './rp-harness.js';

/**
 * oauth4webapi 3 (the low-level, strict library under openid-client) as the app, unchanged. It
 * insists on RFC 9207 `iss` when the metadata promises it, on PKCE, and on every ID token claim.
 * allowInsecureRequests is for these tests only (the test server is plain http on 127.0.0.1).
 */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let as: oauth.AuthorizationServer;
const web: oauth.Client = { client_id: WEB.id };
const confidential: oauth.Client = { client_id: CONFIDENTIAL.id };

beforeAll(async () => {
  server = await startProvider();
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
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

async function authorizationRequest(
  client: oauth.Client,
  redirectURI: string,
  extra: Record<string, string> = {},
): Promise<Started> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: redirectURI,
    scope: ALL_SCOPES,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  }).toString();
  return { url, codeVerifier, state, nonce };
}

/** The whole code flow with the library's own checks at every step; returns the token response. */
async function signIn(options: {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectURI: string;
  user: User;
}): Promise<{ tokens: oauth.TokenEndpointResponse; claims: oauth.IDToken; callback: URL }> {
  const started = await authorizationRequest(options.client, options.redirectURI);
  const { callback } = await authorizeInBrowser(newBrowser(server), started.url.href, {
    user: options.user,
    stopAt: options.redirectURI,
  });
  // Throws without `iss`, with another issuer's, or with another state.
  const parameters = oauth.validateAuthResponse(as, options.client, new URL(callback), started.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    options.client,
    options.auth,
    parameters,
    options.redirectURI,
    started.codeVerifier,
    insecure,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, options.client, response, {
    expectedNonce: started.nonce,
    requireIdToken: true,
  });
  // Over TLS the library may trust the channel (OpenID Core §3.1.3.7 step 6); check the signature anyway.
  await oauth.validateApplicationLevelSignature(as, response, insecure);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  return { tokens, claims, callback: new URL(callback) };
}

describe('oauth4webapi 3 as a relying party of sessiond', () => {
  it('discovers sessiond as an OpenID provider', () => {
    expect(as).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth/authorize`,
      userinfo_endpoint: `${server.url}/oauth/userinfo`,
      end_session_endpoint: `${server.url}/oauth/logout`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  });

  it('runs the code flow: iss, state, PKCE, nonce, signature and every ID token claim check out', async () => {
    const user = await createUser(server);
    const { tokens, claims, callback } = await signIn({
      client: web,
      auth: oauth.None(),
      redirectURI: WEB.redirectURI,
      user,
    });
    expect(callback.searchParams.get('iss')).toBe(server.url);
    expect(claims).toMatchObject({ iss: server.url, sub: user.id, aud: WEB.id, azp: WEB.id, acr: 'aal1' });
    expect(claims.exp - claims.iat).toBeGreaterThan(0);
    expect(claims.at_hash).toBe(atHash(tokens.access_token));
    expect(tokens.scope?.split(' ').sort()).toEqual(ALL_SCOPES.split(' ').sort());
  });

  it('reads userinfo (GET with the bearer header; POST too, OpenID Core §5.3.1)', async () => {
    const user = await createUser(server);
    const { tokens, claims } = await signIn({
      client: web,
      auth: oauth.None(),
      redirectURI: WEB.redirectURI,
      user,
    });
    const response = await oauth.userInfoRequest(as, web, tokens.access_token, insecure);
    const info = await oauth.processUserInfoResponse(as, web, claims.sub, response);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: false });
    const posted = await fetch(as.userinfo_endpoint!, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ sub: user.id });
  });

  it('refreshes with rotation and a new ID token whose sub and sid are the first one’s', async () => {
    const user = await createUser(server);
    const { tokens, claims } = await signIn({
      client: web,
      auth: oauth.None(),
      redirectURI: WEB.redirectURI,
      user,
    });
    const response = await oauth.refreshTokenGrantRequest(
      as,
      web,
      oauth.None(),
      tokens.refresh_token!,
      insecure,
    );
    const refreshed = await oauth.processRefreshTokenResponse(as, web, response);
    await oauth.validateApplicationLevelSignature(as, response, insecure);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = oauth.getValidatedIdTokenClaims(refreshed)!;
    // OpenID Core §12.2: same iss, sub, aud; auth_time is the original authentication's.
    expect(again).toMatchObject({
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      sid: claims.sid,
      auth_time: claims.auth_time,
    });
  });

  it('a confidential client authenticates with client_secret_basic and client_secret_post', async () => {
    for (const auth of [
      oauth.ClientSecretBasic(CONFIDENTIAL.secret),
      oauth.ClientSecretPost(CONFIDENTIAL.secret),
    ]) {
      const user = await createUser(server);
      const { claims } = await signIn({
        client: confidential,
        auth,
        redirectURI: CONFIDENTIAL.redirectURI,
        user,
      });
      expect(claims).toMatchObject({ sub: user.id, aud: CONFIDENTIAL.id });
    }
  });

  it('revocation ends the session; introspection (as the resource server) then says inactive', async () => {
    const user = await createUser(server);
    const { tokens } = await signIn({ client: web, auth: oauth.None(), redirectURI: WEB.redirectURI, user });
    const resourceServer: oauth.Client = { client_id: RESOURCE_SERVER.id };
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        resourceServer,
        await oauth.introspectionRequest(
          as,
          resourceServer,
          oauth.ClientSecretBasic(RESOURCE_SERVER.secret),
          token,
          insecure,
        ),
      );
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: WEB.id });
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, web, oauth.None(), tokens.refresh_token!, insecure),
    );
    expect((await introspect(tokens.access_token)).active).toBe(false);
    expect((await introspect(tokens.refresh_token!)).active).toBe(false);
  });

  it('the library refuses an authorization response without iss, or with another issuer’s (RFC 9207)', async () => {
    const user = await createUser(server);
    const started = await authorizationRequest(web, WEB.redirectURI);
    const { callback } = await authorizeInBrowser(newBrowser(server), started.url.href, {
      user,
      stopAt: WEB.redirectURI,
    });
    const withoutIss = new URL(callback);
    withoutIss.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, web, withoutIss, started.state)).toThrow(/iss/);
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://attacker.example');
    expect(() => oauth.validateAuthResponse(as, web, mixedUp, started.state)).toThrow(/iss/);
    expect(() => oauth.validateAuthResponse(as, web, new URL(callback), 'another-state')).toThrow(/state/);
    // The genuine response still goes through.
    expect(oauth.validateAuthResponse(as, web, new URL(callback), started.state).get('code')).toEqual(
      expect.any(String),
    );
  });
});
