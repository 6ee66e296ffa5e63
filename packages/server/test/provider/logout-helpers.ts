import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { SSO_CLIENT_ID } from '../../src/provider/client-registry.js';
import type { TokenGrant } from '../../src/sessions/session-service.js';
import type { TestServer } from '../helpers/test-server.js';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** One logout token as the receiver got it. */
export interface ReceivedLogout {
  /** The path it was posted to: which client's URI. */
  path: string;
  contentType: string | undefined;
  token: string;
  status: number;
}

/**
 * A real back-channel logout endpoint on loopback (one server, a path per client): records each
 * `logout_token` posted and answers 200, or 500 while `failing`.
 */
export class LogoutReceiver {
  readonly received: ReceivedLogout[] = [];
  failing = false;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<LogoutReceiver> {
    const server = createServer();
    const receiver = new LogoutReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const status = receiver.failing ? 500 : 200;
        receiver.received.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'],
          token: form.get('logout_token') ?? '',
          status,
        });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  /** Tokens answered 200 at `path`. */
  accepted(path: string): ReceivedLogout[] {
    return this.received.filter((r) => r.path === path && r.status === 200);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Verifies a logout token as an RP would (Back-Channel Logout 1.0 §2.6) against sessiond's JWKS. */
export async function verifyLogoutToken(
  server: TestServer,
  token: string,
  clientId: string,
): Promise<JWTPayload & { sid: string; sub: string; events: Record<string, unknown> }> {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', server.url));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: server.app.sessiond.config.issuer,
    audience: clientId,
    algorithms: ['RS256'],
    typ: 'logout+jwt',
    requiredClaims: ['iat', 'exp', 'jti', 'sub', 'sid', 'events'],
  });
  if (!protectedHeader.kid) throw new Error('logout token without kid');
  if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
  return payload as JWTPayload & { sid: string; sub: string; events: Record<string, unknown> };
}

export function headerOf(token: string): ReturnType<typeof decodeProtectedHeader> {
  return decodeProtectedHeader(token);
}

/** Polls `probe` until it returns something truthy (logout tokens go out in the background). */
export async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what = 'logout tokens',
): Promise<T> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A short real pause, to show nothing more arrives. */
export const settle = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 200));

const CONTEXT = { ip: '127.0.0.1', userAgent: 'logout-test' };

/**
 * Opens a session of `clientId` for the user directly through SessionService.startSession, as
 * the sign-in page (the SSO session, no `ssoSessionId`) and the code exchange (an app session
 * under an SSO session) do.
 */
export async function openSession(
  server: TestServer,
  email: string,
  options: { clientId: string; ssoSessionId?: string },
): Promise<TokenGrant> {
  const { store, sessions } = server.app.sessiond;
  const user = await store.findUserByEmail(email);
  if (!user) throw new Error(`no user ${email}`);
  return sessions.startSession(
    user,
    {
      authentication: { acr: 'aal1', amr: ['pwd'] },
      clientId: options.clientId,
      ...(options.ssoSessionId ? { ssoSessionId: options.ssoSessionId, scope: 'openid' } : {}),
    },
    CONTEXT,
  );
}

/** The browser's SSO session at sessiond's pages. */
export function openSSOSession(server: TestServer, email: string): Promise<TokenGrant> {
  return openSession(server, email, { clientId: SSO_CLIENT_ID });
}

/** SESSIOND_CLIENTS for the logout suites: two apps with back-channel URIs, one without. */
export function logoutClients(receiver: LogoutReceiver): string {
  return JSON.stringify([
    { id: 'default' },
    {
      id: 'shop',
      redirect_uris: ['https://shop.example/callback'],
      post_logout_redirect_uris: ['https://shop.example/signed-out'],
      backchannel_logout_uri: receiver.url('/shop/backchannel'),
    },
    {
      id: 'blog',
      redirect_uris: ['https://blog.example/callback'],
      backchannel_logout_uri: receiver.url('/blog/backchannel'),
    },
    { id: 'plain', redirect_uris: ['https://plain.example/callback'] },
  ]);
}
