import type { FastifyInstance } from 'fastify';
import { authenticateRequest } from '../http/authenticate.js';
import { sendExport } from '../http/export-download.js';
import { NoFields, parseInput } from '../http/parse.js';

/**
 * The signed-in user's own data (decision 036): `GET /api/auth/me/export` downloads it as one
 * JSON file; `DELETE /api/auth/me` erases the account, behind the same fresh re-authentication
 * as a factor change (decision 016), since it cannot be undone.
 */
export async function accountDataRoutes(app: FastifyInstance): Promise<void> {
  const { privacy, stepUpPolicy, transport } = app.sessiond;

  app.get('/api/auth/me/export', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.query, 'query');
    return sendExport(reply, auth.session.userId, await privacy.exports.exportUser(auth.session.userId));
  });

  app.delete('/api/auth/me', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const user = await stepUpPolicy.reauthenticatedUser(auth);
    const { sessionsRevoked } = await privacy.erasure.erase(user.id, {
      actor: 'user',
      sessionId: auth.session.id,
      deviceId: auth.session.deviceId,
    });
    if (auth.credential === 'cookie') transport.clear(reply);
    return { user_id: user.id, erased: true, sessions_revoked: sessionsRevoked };
  });
}
