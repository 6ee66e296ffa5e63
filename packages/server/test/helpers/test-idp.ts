import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A user the test provider signs in: its `sub`, and the email it asserts. */
export interface TestIdPUser {
  sub: string;
  email: string;
  emailVerified?: boolean;
}

/** What the provider's sign-in page does with the next login: sign a user in, or refuse. */
export type NextLogin = { user: TestIdPUser } | { error: string; description?: string };

export interface TestIdP {
  /** The issuer URL (http://127.0.0.1:PORT), as discovery publishes it. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Registers the client's redirect URIs; the provider answers discovery from then on. */
  register(redirectURIs: string[]): Promise<void>;
  /** Decides the next logins (default: the user given to startTestIdP). */
  nextLogin: NextLogin;
  /**
   * Rewrites the ID token the token endpoint returns (its payload, and whether the provider's own
   * key or a stranger's signs it): the wrong-nonce and wrong-key tests. Undefined: untouched.
   */
  tamperIDToken:
    | ((
        payload: Record<string, unknown>,
      ) => Promise<{ payload: Record<string, unknown>; key: 'own' | 'stranger' }>)
    | undefined;
  /** How many requests reached the token endpoint. */
  readonly tokenRequests: number;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (node-oidc-provider) on a loopback port, with one confidential client
 * (client_secret_basic). Its sign-in page is a tiny interaction of our own that signs
 * `nextLogin` in at once, or finishes the interaction with an error (as a user who cancels).
 */
export async function startTestIdP(
  options: {
    user?: TestIdPUser;
    clientId?: string;
    /** The issuer's host name: `localhost` puts the provider on another site than 127.0.0.1. */
    hostname?: '127.0.0.1' | 'localhost';
  } = {},
): Promise<TestIdP> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256', { extractable: true });
  const ownJWK: JWK = { ...(await exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const strangerJWK: JWK = { ...(await exportJWK(stranger.privateKey)), kid: 'idp-key-1', alg: 'RS256' };
  const users = new Map<string, TestIdPUser>();
  let provider: Provider | undefined;
  let tokenRequests = 0;

  const server: Server = createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      void interact(provider, req, res);
      return;
    }
    provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://${options.hostname ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  const idp: TestIdP = {
    issuer,
    clientId: options.clientId ?? 'sessiond-test',
    clientSecret: 'idp-client-secret-0123456789',
    nextLogin: { user: options.user ?? { sub: 'idp-user-1', email: 'someone@example.com' } },
    tamperIDToken: undefined,
    get tokenRequests() {
      return tokenRequests;
    },
    async register(redirectURIs) {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: idp.clientId,
            client_secret: idp.clientSecret,
            redirect_uris: redirectURIs,
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        jwks: { keys: [ownJWK] },
        cookies: { keys: ['test-idp-cookie-key-0123456789'] },
        claims: { openid: ['sub'], email: ['email', 'email_verified'] },
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        // Explicit lifetimes (the defaults print a notice each).
        ttl: {
          Interaction: 600,
          Session: 3600,
          Grant: 3600,
          AccessToken: 600,
          IdToken: 600,
          AuthorizationCode: 60,
        },
        interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
        async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
          const user = users.get(sub);
          if (!user) return undefined;
          return {
            accountId: sub,
            claims: async () => ({ sub, email: user.email, email_verified: user.emailVerified ?? true }),
          };
        },
        // Consent is given at once: a grant for what the client asked.
        async loadExistingGrant(ctx: KoaContextWithOIDC) {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId || !ctx.oidc.client) return undefined;
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
          grant.addOIDCScope('openid email');
          await grant.save();
          return grant;
        },
      });
      provider.use(async (ctx, next) => {
        await next();
        if (ctx.path !== '/token') return;
        tokenRequests += 1;
        const body = ctx.body as { id_token?: string } | undefined;
        if (idp.tamperIDToken && body?.id_token) {
          body.id_token = await resign(body.id_token, idp.tamperIDToken, {
            own: ownJWK,
            stranger: strangerJWK,
          });
        }
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function interact(current: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await current.interactionDetails(req, res);
      const next = idp.nextLogin;
      if ('error' in next) {
        await current.interactionFinished(
          req,
          res,
          { error: next.error, ...(next.description ? { error_description: next.description } : {}) },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      users.set(next.user.sub, next.user);
      await current.interactionFinished(
        req,
        res,
        { login: { accountId: next.user.sub } },
        { mergeWithLastSubmission: false },
      );
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  }

  return idp;
}

async function resign(
  idToken: string,
  tamper: NonNullable<TestIdP['tamperIDToken']>,
  keys: { own: JWK; stranger: JWK },
): Promise<string> {
  const { SignJWT, importJWK, decodeJwt } = await import('jose');
  const changed = await tamper(decodeJwt(idToken) as Record<string, unknown>);
  const jwk = changed.key === 'own' ? keys.own : keys.stranger;
  return new SignJWT(changed.payload)
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1', typ: 'JWT' })
    .sign(await importJWK(jwk, 'RS256'));
}
