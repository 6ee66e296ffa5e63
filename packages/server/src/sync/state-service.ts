import { type JSONObject, parseStateOperation, StateOperationError } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { SessionStore, StateCatchUp, StateUserQuota } from '../store/session-store.js';
import type { OperationRateLimiter } from './op-rate-limiter.js';

/** More missed operations than this and catch-up sends the document instead: it is smaller. */
export const CATCH_UP_MAX_OPERATIONS = 500;

export type StateWriteResult =
  | { status: 'applied'; seq: number; document: JSONObject }
  | { status: 'duplicate'; seq: number };

/** Who applies an operation: the session and device it came from. */
export interface StateWriter {
  userId: string;
  sessionId: string;
  deviceId: string;
}

/**
 * Per-user state: operations are rate-limited, validated, applied by the store under the user's
 * sequence (durable before this resolves), and published for the user's other devices. State
 * belongs to the user, not to a session: logout and timeouts leave it alone.
 */
export class StateService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly rateLimiter: OperationRateLimiter,
    private readonly limits: {
      maxDocumentBytes: number;
      /** Namespaces and bytes per user, over HTTP and the socket alike (the store checks it). */
      userQuota?: StateUserQuota;
    },
  ) {}

  /** What a client that applied up to `since` missed: operations, or a snapshot (see the store). */
  catchUp(userId: string, namespace: string, since: number | undefined): Promise<StateCatchUp> {
    return this.store.catchUpState({ userId, namespace, since, limit: CATCH_UP_MAX_OPERATIONS });
  }

  async apply(
    writer: StateWriter,
    input: { namespace: string; clientOpId: string; operation: unknown },
  ): Promise<StateWriteResult> {
    let operation: ReturnType<typeof parseStateOperation>;
    try {
      operation = parseStateOperation(input.operation);
    } catch (error) {
      if (error instanceof StateOperationError) throw new SessiondError('invalid_operation', error.message);
      throw error;
    }
    // Replays are limited too: the limit protects the database, which a replay still reads.
    const waitMs = await this.rateLimiter.take(writer.userId);
    if (waitMs > 0) {
      throw new SessiondError('rate_limited', `too many state operations; retry in ${waitMs} ms`, {
        retryAfterMs: waitMs,
      });
    }
    const now = this.clock.now();
    const outcome = await this.store.applyStateOperation({
      userId: writer.userId,
      namespace: input.namespace,
      clientOpId: input.clientOpId,
      operation,
      now,
      maxDocumentBytes: this.limits.maxDocumentBytes,
      ...(this.limits.userQuota ? { userQuota: this.limits.userQuota } : {}),
    });
    if (outcome.kind === 'rejected') throw new SessiondError(outcome.reason, outcome.message);
    if (outcome.kind === 'duplicate') return { status: 'duplicate', seq: outcome.seq };
    this.bus.publish('state.changed', {
      user_id: writer.userId,
      session_id: writer.sessionId,
      device_id: writer.deviceId,
      at: new Date(now).toISOString(),
      namespace: input.namespace,
      seq: outcome.seq,
      prev_seq: outcome.previousSeq,
      client_op_id: input.clientOpId,
      operation,
    });
    return { status: 'applied', seq: outcome.seq, document: outcome.document };
  }
}
