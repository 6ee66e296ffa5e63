import { CLIENT_OP_ID_MAX_LENGTH, NAMESPACE_PATTERN } from '@sessiond/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateRequest } from '../http/authenticate.js';
import { parseInput } from '../http/parse.js';
import { syncOperation } from '../sync/wire.js';

const NamespaceParams = z.strictObject({
  namespace: z
    .string()
    .regex(NAMESPACE_PATTERN, 'namespace must be 1-32 of [a-z0-9_-], starting with a letter'),
});
const CatchUpQuery = z.strictObject({ since: z.coerce.number().int().min(0).optional() });
// The operation itself (op, path, value) is checked by parseStateOperation, shared with clients.
const OperationBody = z
  .object({ client_op_id: z.string().min(1).max(CLIENT_OP_ID_MAX_LENGTH) })
  .passthrough();

/** Per-user state over HTTP, for clients without WebSockets: read a document, post an operation. */
export async function stateRoutes(app: FastifyInstance): Promise<void> {
  const { state } = app.sessiond;

  app.get('/api/state/:namespace', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { namespace } = parseInput(NamespaceParams, request.params, 'path');
    const { since } = parseInput(CatchUpQuery, request.query, 'query');
    // Without `since`, the document; with it, what was applied after it (or the document, when
    // the log cannot say).
    const missed = await state.catchUp(auth.session.userId, namespace, since);
    if (missed.kind === 'snapshot') return { namespace, seq: missed.seq, document: missed.document };
    return { namespace, seq: missed.seq, operations: missed.operations.map(syncOperation) };
  });

  app.post('/api/state/:namespace/ops', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { namespace } = parseInput(NamespaceParams, request.params, 'path');
    const { client_op_id: clientOpId, ...operation } = parseInput(OperationBody, request.body);
    const result = await state.apply(
      { userId: auth.session.userId, sessionId: auth.session.id, deviceId: auth.session.deviceId },
      { namespace, clientOpId, operation },
    );
    return { namespace, ...result };
  });
}
