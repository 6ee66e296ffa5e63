/**
 * The `GET /api/sync` WebSocket protocol: JSON text frames, one message each. Shared by the
 * server's hub and the client's sync connection so neither can drift from the other;
 * docs/api.md describes the exchange.
 */
import type { JSONObject, StateOperation } from './state-operations.js';

export const SYNC_PATH = '/api/sync';
/** The subprotocol the server selects; clients must offer it. */
export const SYNC_SUBPROTOCOL = 'sessiond.sync.v1';
/**
 * A client that cannot send a first message may offer `sessiond.bearer.<access token>` as a
 * second subprotocol (a JWT is a valid subprotocol token). The URL never carries the token.
 */
export const SYNC_BEARER_PROTOCOL_PREFIX = 'sessiond.bearer.';

/**
 * Close codes (RFC 6455 §7.4.2 reserves 4000-4999 for applications). The close reason is the
 * code's name, so logs and clients read the same word.
 */
export const SYNC_CLOSE_CODES = {
  /** Normal closure: the client asked, or the server went away (1001). */
  going_away: 1001,
  /**
   * The node is shutting down (SIGTERM): reconnect, to another node behind the load balancer,
   * and catch up from the last sequence number. RFC 6455's 1012, "service restart".
   */
  service_restart: 1012,
  /** The session was revoked (logout, revoke, revoke-all, admin, reuse, forgotten device). */
  session_revoked: 4001,
  /** The session reached its idle or absolute deadline. */
  session_expired: 4002,
  /** A message that is not JSON or not a known message; a flood of them. */
  protocol_error: 4400,
  /** No valid access token in time, or the token presented was refused. */
  unauthenticated: 4401,
  /**
   * The client reads too slowly: more than SESSIOND_SYNC_MAX_BUFFERED_BYTES waited unsent on the
   * socket. Reconnect and subscribe with `since`: the catch-up brings what was not read.
   */
  slow_consumer: 4408,
} as const;

export type SyncCloseReason = keyof typeof SYNC_CLOSE_CODES;

/** Which close codes mean "sign in again" rather than "reconnect". */
export function isSessionEndingClose(code: number): boolean {
  return code === SYNC_CLOSE_CODES.session_revoked || code === SYNC_CLOSE_CODES.session_expired;
}

// --- client to server -------------------------------------------------------------------

export type SyncClientMessage =
  /** First message when the token did not come with the handshake. */
  | { type: 'auth'; access_token: string }
  /**
   * Start receiving a namespace. With `since` (the last sequence number the client applied),
   * the server sends what was missed (`catch_up`), or a `snapshot` when too far behind.
   */
  | { type: 'subscribe'; namespace: string; since?: number }
  | { type: 'unsubscribe'; namespace: string }
  /** Apply an operation; `client_op_id` makes replays harmless. */
  | { type: 'apply'; namespace: string; client_op_id: string; operation: StateOperation }
  | { type: 'ping' };

// --- server to client -------------------------------------------------------------------

/** One applied operation as the log holds it. */
export interface SyncOperation {
  seq: number;
  client_op_id: string;
  operation: StateOperation;
}

export type SyncSessionEventName =
  | 'session.revoked'
  | 'session.new_device'
  | 'session.step_up_required'
  | 'session.logged_out_everywhere'
  /** A factor of the account was added, replaced or removed (detail: `factor`, `change`). */
  | 'account.factor_changed'
  /**
   * A backend replaced this session's custom claims (detail: `claims`, the new ones, or null).
   * One event per live session of the user; the session it names gets them at its next refresh.
   */
  | 'session.claims_changed';

export interface SyncSessionEvent {
  type: 'event';
  event: SyncSessionEventName;
  /** The session and device the event concerns (for logged_out_everywhere: the one that asked). */
  session_id: string | null;
  device_id: string | null;
  at: string;
  /** Event-specific details: `reason` and `actor` for revocations, `user_agent` for a new device, … */
  detail: Record<string, unknown>;
}

export type SyncServerMessage =
  | { type: 'ready'; user_id: string; session_id: string; device_id: string }
  | { type: 'snapshot'; namespace: string; seq: number; document: JSONObject }
  /** The operations after the subscriber's `since`, in order; `seq` is where it now stands. */
  | { type: 'catch_up'; namespace: string; seq: number; operations: SyncOperation[] }
  /**
   * A live operation. `prev_seq` is the namespace's sequence number before it: a client whose
   * last applied number is lower has missed one and re-subscribes.
   */
  | ({ type: 'op'; namespace: string; prev_seq: number; device_id: string } & SyncOperation)
  /** The operation is durable (`applied`), or was applied before (`duplicate`). */
  | { type: 'ack'; namespace: string; client_op_id: string; status: 'applied' | 'duplicate'; seq: number }
  /** A refused message; with `client_op_id` the operation was not applied. */
  | {
      type: 'error';
      error: string;
      message: string;
      namespace?: string;
      client_op_id?: string;
      /** For `rate_limited`: when the operation may be sent again. */
      retry_after_ms?: number;
    }
  | SyncSessionEvent
  | { type: 'pong' };

/** Namespaces: 1-32 of [a-z0-9_-], starting with a letter (same rule as the HTTP routes). */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
export const CLIENT_OP_ID_MAX_LENGTH = 64;
