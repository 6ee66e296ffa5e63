// BASELINE (a) for row 2: a bare node:http server that verifies one RS256 bearer JWT per
// request with node:crypto and answers with a small JSON body. A stateless session check
// cannot be cheaper than this; sessiond's /session/status is compared with it for context.
import { createServer } from 'node:http';
import { AUDIENCE, BENCH_SUBJECT, newAccessClaims } from './lib/access-claims.js';
import { answerHealth } from './lib/health.js';
import { listenAndAnnounce } from './lib/listen.js';
import { signRS256, verifyRS256 } from './lib/rs256.js';
import { sendJSON } from './lib/send-json.js';
import { readServerEnv } from './lib/server-env.js';
import { createSigningKey } from './lib/signing-key.js';

const env = readServerEnv();
const key = createSigningKey();

function verifyBearer(authorization: string | undefined): Record<string, unknown> | null {
  if (!authorization?.startsWith('Bearer ')) return null;
  const claims = verifyRS256(authorization.slice('Bearer '.length), key.publicKey, key.kid);
  if (claims === null) return null;
  // The claim checks a real verifier makes: expiry and audience.
  const exp = claims.exp;
  if (typeof exp !== 'number' || exp <= Date.now() / 1000 || claims.aud !== AUDIENCE) return null;
  return claims;
}

const server = createServer((req, res) => {
  if (answerHealth(req, res)) return;
  // Set-up only: hands the harness one token to present on every measured request.
  if (req.method === 'POST' && req.url === '/token') {
    const claims = newAccessClaims(BENCH_SUBJECT);
    const token = signRS256({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims, key.privateKey);
    return sendJSON(res, 200, { access_token: token });
  }
  if (req.method !== 'GET' || req.url !== '/verify') return sendJSON(res, 404, { error: 'not_found' });
  const claims = verifyBearer(req.headers.authorization);
  if (claims === null) return sendJSON(res, 401, { error: 'invalid_token' });
  sendJSON(res, 200, {
    session: { id: claims.sid, user_id: claims.sub },
    token: { expires_at: new Date((claims.exp as number) * 1000).toISOString() },
  });
});

await listenAndAnnounce(server, { name: 'baseline-verify', port: env.port });
