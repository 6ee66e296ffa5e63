import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateRequest } from '../http/authenticate.js';
import { parseInput } from '../http/parse.js';

const NamespaceParams = z.strictObject({
  namespace: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'namespace must be 1-32 of [a-z0-9_-], starting with a letter'),
});
// The operation itself (op, path, value) is checked by parseStateOperation, shared with clients.
const OperationBody = z.object({ client_op_id: z.string().min(1).max(64) }).passthrough();

/** Per-user state over HTTP, for clients without WebSockets: read a document, post an operation. */
export async function stateRoutes(app: FastifyInstance): Promise<void> {
  const { state } = app.sessiond;

  app.get('/api/state/:namespace', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { namespace } = parseInput(NamespaceParams, request.params, 'path');
    const { document, version } = await state.read(auth.session.userId, namespace);
    return { namespace, seq: version, document };
  });

  app.post('/api/state/:namespace/ops', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { namespace } = parseInput(NamespaceParams, request.params, 'path');
    const { client_op_id: clientOpId, ...operation } = parseInput(OperationBody, request.body);
    const result = await state.apply({
      userId: auth.session.userId,
      sessionId: auth.session.id,
      deviceId: auth.session.deviceId,
      namespace,
      clientOpId,
      operation,
    });
    return { namespace, ...result };
  });
}
