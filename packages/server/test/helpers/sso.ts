import type { AssuranceLevel } from '@sessiond/protocol';
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { SSO_CLIENT_ID } from '../../src/provider/client-registry.js';
import { request, signUpAndIn } from './api.js';

/**
 * Until tests sign in through sessiond's own page: a test-only route that opens an SSO session
 * (client `sessiond`) for a user with the real SessionService and sets the real SSO cookie. Pass
 * to startTestServer's `routes`.
 */
export function ssoTestRoute(app: FastifyInstance): void {
  app.post<{ Body: { user_id: string; acr?: AssuranceLevel; amr?: string[] } }>(
    '/test/sso',
    async (req, reply) => {
      const { store, sessions, ssoCookie } = app.sessiond;
      const user = await store.findUserById(req.body.user_id);
      if (!user) return reply.code(404).send({ error: 'no such user' });
      const grant = await sessions.startSession(
        user,
        {
          clientId: SSO_CLIENT_ID,
          authentication: { acr: req.body.acr ?? 'aal1', amr: req.body.amr ?? ['pwd'] },
        },
        { ip: req.ip, userAgent: req.headers['user-agent'] ?? null },
      );
      ssoCookie.set(reply, grant.session);
      return { session_id: grant.session.id };
    },
  );
}

export interface SSOUser {
  userId: string;
  email: string;
  /** The SSO session's id. */
  ssoSessionId: string;
  /** `name=value` of the SSO cookie, for a Cookie header. */
  cookie: string;
}

/** A new user with an SSO session at `acr`; the cookie as a browser would send it to /oauth. */
export async function signedInAtSessiond(
  baseURL: string,
  options: { acr?: AssuranceLevel; amr?: string[] } = {},
): Promise<SSOUser> {
  const account = await signUpAndIn(baseURL);
  const userId = decodeJwt(account.access_token).sub!;
  return { ...(await ssoSessionFor(baseURL, userId, options)), email: account.email };
}

/** Another SSO session (a new browser sign-in) for a known user. */
export async function ssoSessionFor(
  baseURL: string,
  userId: string,
  options: { acr?: AssuranceLevel; amr?: string[] } = {},
): Promise<Omit<SSOUser, 'email'>> {
  const answer = await request<{ session_id: string }>(baseURL, 'POST', '/test/sso', {
    body: { user_id: userId, ...options },
  });
  if (answer.status !== 200) throw new Error(`SSO sign-in failed: ${JSON.stringify(answer.body)}`);
  const line = answer.headers.getSetCookie().find((value) => /^(__Secure-)?sessiond_sso=/.test(value));
  if (!line) throw new Error('no SSO cookie set');
  return { userId, ssoSessionId: answer.body.session_id, cookie: line.split(';')[0]! };
}
