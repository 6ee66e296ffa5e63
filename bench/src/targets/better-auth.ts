import type { BenchConfig } from '../config.js';
import { cookieFrom, expectJSON } from '../http-json.js';
import { mapWithLimit } from '../map-limit.js';
import { installedVersion } from '../package-version.js';
import { startPeerServer } from '../peer-server.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import type { TargetServer } from './target.js';

const SESSION_COOKIE = 'better-auth.session_token';

/** Row 2's Better Auth peer: get-session with session cookies (see src/servers/better-auth.ts). */
export async function startBetterAuth(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'better-auth');
  const credentials = { email: 'bench@example.test', password: 'correct horse battery' };
  // Better Auth's CSRF check refuses POSTs without an Origin in production; a browser sends one.
  const headers = { origin: server.baseURL };
  await expectJSON(
    `${server.baseURL}/api/auth/sign-up/email`,
    { method: 'POST', body: { ...credentials, name: 'Bench User' }, headers },
    200,
  );
  // One real sign-in, hence one session row, per connection: the cookies returning users hold.
  const cookies = await mapWithLimit(Array.from({ length: config.connections }), 4, async () => {
    const signIn = await expectJSON(
      `${server.baseURL}/api/auth/sign-in/email`,
      { method: 'POST', body: credentials, headers },
      200,
    );
    const cookie = cookieFrom(signIn.headers, SESSION_COOKIE);
    // get-session answers 200 with a null body for an unknown cookie, so 2xx alone proves nothing.
    const check = await expectJSON(
      `${server.baseURL}/api/auth/get-session`,
      { method: 'GET', headers: { cookie } },
      200,
    );
    if ((check.body as { session?: unknown } | null)?.session == null) {
      throw new Error(`get-session did not recognise the cookie: ${JSON.stringify(check.body)}`);
    }
    return cookie;
  });
  const version = installedVersion('better-auth', config.benchDir);
  return {
    stop: () => server.stop(),
    targets: [
      {
        id: 'better-auth-get-session',
        row: 'status',
        label: `Better Auth ${version} (SQLite default)`,
        request: 'GET /api/auth/get-session',
        prepareRun: async () => ({
          url: `${server.baseURL}/api/auth/get-session`,
          method: 'GET',
          setupClient: perConnectionHeaders(cookies.map((cookie) => ({ cookie }))),
        }),
      },
    ],
  };
}
