import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signUpAndIn } from './helpers/api.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from './helpers/test-server.js';

// oauth4webapi (by the author of jose) is a certified OAuth client nobody here wrote. It runs
// unchanged; the only option is the one its docs give for plain-HTTP test servers.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let as: oauth.AuthorizationServer;
const client: oauth.Client = { client_id: 'default' };
const resourceServer: oauth.Client = { client_id: RESOURCE_SERVER.id };

beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true });
  const issuer = new URL(server.url);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
});
afterAll(async () => {
  await server.close();
});

async function refreshWith(refreshToken: string) {
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, insecure);
  return oauth.processRefreshTokenResponse(as, client, response);
}

async function introspect(token: string) {
  const response = await oauth.introspectionRequest(
    as,
    resourceServer,
    oauth.ClientSecretBasic(RESOURCE_SERVER.secret),
    token,
    insecure,
  );
  return oauth.processIntrospectionResponse(as, resourceServer, response);
}

describe('a standard OAuth client library against sessiond', () => {
  it('discovers the server from RFC 8414 metadata', () => {
    expect(as).toMatchObject({
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      // The authorization code grant is issue 15's OpenID provider (test/provider/).
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
  });

  it('refreshes with the refresh_token grant, rotating the token', async () => {
    const grant = await signUpAndIn(server.url);
    const first = await refreshWith(grant.refresh_token);
    expect(first.token_type).toBe('bearer');
    expect(first.refresh_token).toMatch(/^rt_/);
    expect(first.refresh_token).not.toBe(grant.refresh_token);
    const second = await refreshWith(first.refresh_token!);
    expect(second.access_token).not.toBe(first.access_token);
  });

  it('validates sessiond access tokens as RFC 9068 JWTs with the library’s resource-server check', async () => {
    const grant = await signUpAndIn(server.url);
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(`${server.url}/anything`, { headers: { authorization: `Bearer ${grant.access_token}` } }),
      'sessiond',
      insecure,
    );
    expect(claims).toMatchObject({
      sub: expect.any(String),
      client_id: 'default',
      iss: server.url,
      aud: 'sessiond',
    });
  });

  it('gets the library’s invalid_grant error when a replaced token is replayed after the window', async () => {
    const grant = await signUpAndIn(server.url);
    const next = await refreshWith(grant.refresh_token);
    server.clock.advance(11_000);
    const failure = await refreshWith(grant.refresh_token).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(oauth.ResponseBodyError);
    expect(failure).toMatchObject({ error: 'invalid_grant', status: 400 });
    // Reuse revoked the session: the legitimate chain is dead too.
    expect(await refreshWith(next.refresh_token!).catch((error: unknown) => error)).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('introspects access and refresh tokens as a registered resource server', async () => {
    const grant = await signUpAndIn(server.url);
    const access = await introspect(grant.access_token);
    expect(access).toMatchObject({
      active: true,
      sub: expect.any(String),
      sid: grant.session.id,
      client_id: 'default',
      token_type: 'Bearer',
      scope: '',
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    expect(await introspect(grant.refresh_token)).toMatchObject({
      active: true,
      sid: grant.session.id,
      token_type: 'refresh_token',
    });
    expect(await introspect('garbage')).toEqual({ active: false });
  });

  it('revokes a refresh token: its session ends, and introspection says so', async () => {
    const grant = await signUpAndIn(server.url);
    const response = await oauth.revocationRequest(as, client, oauth.None(), grant.refresh_token, insecure);
    await oauth.processRevocationResponse(response);
    expect(await introspect(grant.access_token)).toEqual({ active: false });
    expect(await introspect(grant.refresh_token)).toEqual({ active: false });
    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      token: grant.access_token,
    });
    expect(status.body).toMatchObject({ error: 'session_revoked' });
    // Revoking again, or revoking nonsense, is still a success (RFC 7009 §2.2).
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), grant.refresh_token, insecure),
    );
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), 'nonsense', insecure),
    );
  });

  it('revokes by access token too', async () => {
    const grant = await signUpAndIn(server.url);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), grant.access_token, {
        ...insecure,
        additionalParameters: { token_type_hint: 'access_token' },
      }),
    );
    expect(await introspect(grant.refresh_token)).toEqual({ active: false });
  });
});
