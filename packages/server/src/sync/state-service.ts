import { type JSONObject, parseStateOperation, StateOperationError } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { SessionStore } from '../store/session-store.js';

export type StateWriteResult =
  | { status: 'applied'; seq: number; document: JSONObject }
  | { status: 'duplicate'; seq: number };

/**
 * Per-user state: operations are validated, applied by the store under the user's sequence
 * (durable before this resolves), and published for the user's other devices. State belongs to
 * the user, not to a session: logout and timeouts leave it alone.
 */
export class StateService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly limits: { maxDocumentBytes: number },
  ) {}

  read(userId: string, namespace: string): Promise<{ document: JSONObject; version: number }> {
    return this.store.readStateDocument(userId, namespace);
  }

  async apply(input: {
    userId: string;
    sessionId: string;
    deviceId: string;
    namespace: string;
    clientOpId: string;
    operation: unknown;
  }): Promise<StateWriteResult> {
    let operation: ReturnType<typeof parseStateOperation>;
    try {
      operation = parseStateOperation(input.operation);
    } catch (error) {
      if (error instanceof StateOperationError) throw new SessiondError('invalid_operation', error.message);
      throw error;
    }
    const now = this.clock.now();
    const outcome = await this.store.applyStateOperation({
      userId: input.userId,
      namespace: input.namespace,
      clientOpId: input.clientOpId,
      operation,
      now,
      maxDocumentBytes: this.limits.maxDocumentBytes,
    });
    if (outcome.kind === 'rejected') throw new SessiondError(outcome.reason, outcome.message);
    if (outcome.kind === 'duplicate') return { status: 'duplicate', seq: outcome.seq };
    this.bus.publish('state.changed', {
      user_id: input.userId,
      session_id: input.sessionId,
      device_id: input.deviceId,
      at: new Date(now).toISOString(),
      namespace: input.namespace,
      seq: outcome.seq,
      client_op_id: input.clientOpId,
      operation,
    });
    return { status: 'applied', seq: outcome.seq, document: outcome.document };
  }
}
