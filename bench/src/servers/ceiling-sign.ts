// CEILING for row 1: a bare node:http server that does, per request, only what a refresh
// endpoint cannot avoid without a database: read and parse the JSON body, sign one RS256
// access token, mint a random refresh token and write a JSON answer. sessiond's refresh adds
// storage and rotation on top of this, so its req/s divided by this one's is the share of the
// crypto ceiling it keeps.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { ACCESS_TOKEN_TTL_SECONDS, BENCH_SUBJECT, newAccessClaims } from './lib/access-claims.js';
import { answerHealth } from './lib/health.js';
import { listenAndAnnounce } from './lib/listen.js';
import { readJSONBody } from './lib/read-body.js';
import { signRS256 } from './lib/rs256.js';
import { sendJSON } from './lib/send-json.js';
import { readServerEnv } from './lib/server-env.js';
import { createSigningKey } from './lib/signing-key.js';

const env = readServerEnv();
const key = createSigningKey();

const server = createServer(async (req, res) => {
  if (answerHealth(req, res)) return;
  if (req.method !== 'POST' || req.url !== '/sign') return sendJSON(res, 404, { error: 'not_found' });
  const body = await readJSONBody(req);
  const presented = (body as { refresh_token?: unknown } | null)?.refresh_token;
  if (typeof presented !== 'string') return sendJSON(res, 400, { error: 'invalid_request' });
  const accessToken = signRS256(
    { alg: 'RS256', typ: 'at+jwt', kid: key.kid },
    newAccessClaims(BENCH_SUBJECT),
    key.privateKey,
  );
  sendJSON(res, 200, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_SECONDS,
    refresh_token: randomBytes(32).toString('base64url'),
    session: { id: BENCH_SUBJECT.sessionId },
    device: { id: BENCH_SUBJECT.deviceId, trusted: false, new: false },
  });
});

await listenAndAnnounce(server, { name: 'ceiling-sign', port: env.port });
