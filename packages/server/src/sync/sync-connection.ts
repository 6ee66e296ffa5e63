import {
  CLIENT_OP_ID_MAX_LENGTH,
  type ErrorCode,
  NAMESPACE_PATTERN,
  SYNC_CLOSE_CODES,
  type SyncCloseReason,
  type SyncServerMessage,
  type SyncSessionEvent,
} from '@sessiond/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { isSessiondError, SessiondError } from '../errors.js';
import { isStorageFailure, storageUnavailable } from '../http/storage-errors.js';
import type { Authenticated, Authenticator } from '../sessions/authenticator.js';
import { type SessionEnding, timeoutReason } from '../sessions/session-ending.js';
import type { SessionStore } from '../store/session-store.js';
import type { StateService, StateWriter } from './state-service.js';
import { SubscribeLimiter, type SubscribeLimits } from './subscribe-limiter.js';
import { syncOperation } from './wire.js';

/** How long a connection may stay unauthenticated. */
export const AUTH_TIMEOUT_MS = 10_000;
/** Malformed messages tolerated before the connection is closed as broken. */
const MAX_PROTOCOL_ERRORS = 20;
/** Deadlines further out are re-checked this often (and timers cannot exceed 2^31 ms anyway). */
const MAX_TIMER_MS = 60 * 60 * 1000;

const Namespace = z.string().regex(NAMESPACE_PATTERN);
const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), access_token: z.string().min(1).max(8192) }),
  z.strictObject({
    type: z.literal('subscribe'),
    namespace: Namespace,
    since: z.number().int().min(0).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), namespace: Namespace }),
  z.strictObject({
    type: z.literal('apply'),
    namespace: Namespace,
    client_op_id: z.string().min(1).max(CLIENT_OP_ID_MAX_LENGTH),
    // Checked by parseStateOperation, shared with clients.
    operation: z.unknown(),
  }),
  z.strictObject({ type: z.literal('ping') }),
]);
type ClientMessage = z.infer<typeof ClientMessage>;

export interface SyncConnectionDeps {
  authenticator: Authenticator;
  state: StateService;
  store: SessionStore;
  ending: SessionEnding;
  clock: Clock;
  log: FastifyBaseLogger;
  limits: {
    /** Unsent bytes past which the socket is closed as a slow consumer (4408). */
    maxBufferedBytes: number;
    subscribes: SubscribeLimits;
  };
  /** Called once the connection knows its user, and once when it closes. */
  onAuthenticated(connection: SyncConnection): void;
  onClosed(connection: SyncConnection): void;
}

/** A live op for one namespace, as the hub hands it over. */
export type LiveOperation = Extract<SyncServerMessage, { type: 'op' }>;

interface Subscription {
  /** The `since` this subscription was read from (undefined: a snapshot). */
  requested: number | undefined;
  /** The last sequence number sent for this namespace. */
  seq: number;
  /** Live operations that arrived while catch-up was being read; sent after it, in order. */
  pending: LiveOperation[] | undefined;
}

/**
 * One device's socket: authenticates it (token in the handshake or in the first message), then
 * carries subscriptions, operations and session events. The connection is bound to a session,
 * not to a token: it closes the moment that session is revoked (the hub calls `end`) or reaches a
 * deadline (its own timer, in case the sweeper has not noticed yet).
 */
export class SyncConnection {
  #writer: StateWriter | undefined;
  readonly #subscriptions = new Map<string, Subscription>();
  #timer: NodeJS.Timeout | undefined;
  #protocolErrors = 0;
  #closed = false;
  readonly #subscribeLimiter: SubscribeLimiter;
  /** The one authentication of this socket, once started (handshake token or `auth` message). */
  #authentication: Promise<void> | undefined;
  /** Cleared by each heartbeat, set by the peer's pong. */
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: SyncConnectionDeps,
    credential: { token: string } | undefined,
  ) {
    this.#subscribeLimiter = new SubscribeLimiter(deps.clock, deps.limits.subscribes);
    socket.on('message', (data, isBinary) => {
      this.#receive(data.toString(), isBinary).catch((error: unknown) => this.#failed(error));
    });
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.#cleanUp());
    socket.on('error', (error) => this.deps.log.debug({ err: error }, 'sync socket error'));
    if (credential)
      this.#authentication = this.#authenticate(credential.token).catch((error: unknown) =>
        this.#failed(error),
      );
    else {
      this.#timer = setTimeout(
        () => this.end('unauthenticated', { error: 'token_missing', message: 'no access token in time' }),
        AUTH_TIMEOUT_MS,
      );
    }
  }

  get writer(): StateWriter | undefined {
    return this.#writer;
  }

  /** Hands over a live operation of the user's, if this connection subscribes to its namespace. */
  deliver(operation: LiveOperation): void {
    const subscription = this.#subscriptions.get(operation.namespace);
    if (!subscription) return;
    if (subscription.pending) subscription.pending.push(operation);
    else if (operation.seq > subscription.seq) {
      subscription.seq = operation.seq;
      this.#send(operation);
    }
  }

  /**
   * Catches every subscription up from the last sequence number sent on it: after the bus was
   * away, operations applied on other nodes never arrived as live ones.
   */
  resync(): void {
    const writer = this.#writer;
    if (!writer || this.#closed) return;
    for (const [namespace, subscription] of this.#subscriptions) {
      // One still catching up reads the log after the outage anyway.
      if (!subscription.pending) void this.#subscribe(writer, namespace, subscription.seq);
    }
  }

  notify(event: SyncSessionEvent): void {
    this.#send(event);
  }

  /** Closes with one of the protocol's codes (the reason is the code's name), after `notice` if given. */
  end(reason: SyncCloseReason, notice?: { error: ErrorCode; message: string }): void {
    if (this.#closed) return;
    if (notice) this.#send({ type: 'error', ...notice });
    this.#cleanUp();
    this.socket.close(SYNC_CLOSE_CODES[reason], reason);
  }

  heartbeat(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  async #receive(text: string, isBinary: boolean): Promise<void> {
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol');
      message = ClientMessage.parse(JSON.parse(text));
    } catch {
      this.#protocolError('a message must be one JSON object of the sync protocol (see docs/api.md)');
      return;
    }
    if (message.type === 'auth') {
      // One credential per socket: a second one (or one racing the handshake's) is refused.
      if (this.#authentication || this.#writer) this.#protocolError('already authenticated');
      else {
        this.#authentication = this.#authenticate(message.access_token);
        await this.#authentication;
      }
      return;
    }
    // Messages right behind a handshake token wait for it to be checked, in order.
    if (!this.#writer) await this.#authentication;
    if (!this.#writer) {
      this.end('unauthenticated', {
        error: 'token_missing',
        message: 'the first message must be {"type":"auth"}',
      });
      return;
    }
    switch (message.type) {
      case 'subscribe':
        return this.#requestSubscribe(this.#writer, message.namespace, message.since);
      case 'unsubscribe':
        this.#subscriptions.delete(message.namespace);
        return;
      case 'apply':
        return this.#apply(this.#writer, message);
      case 'ping':
        this.#send({ type: 'pong' });
        return;
    }
  }

  async #authenticate(token: string): Promise<void> {
    clearTimeout(this.#timer);
    let auth: Authenticated;
    try {
      auth = await this.deps.authenticator.authenticate(token);
    } catch (error) {
      if (!isSessiondError(error)) throw error;
      this.end('unauthenticated', { error: error.code, message: error.message });
      return;
    }
    if (this.#closed) return;
    const { session } = auth;
    this.#writer = { userId: session.userId, sessionId: session.id, deviceId: session.deviceId };
    this.deps.onAuthenticated(this);
    this.#send({
      type: 'ready',
      user_id: session.userId,
      session_id: session.id,
      device_id: session.deviceId,
    });
    this.#watchDeadline(Math.min(session.idleExpiresAt, session.expiresAt));
  }

  /** Re-reads the session at its deadline: activity elsewhere may have moved the idle one. */
  #watchDeadline(deadline: number): void {
    clearTimeout(this.#timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.deps.clock.now()));
    this.#timer = setTimeout(
      () => this.#checkSession().catch((error: unknown) => this.#failed(error)),
      delay,
    );
    this.#timer.unref();
  }

  async #checkSession(): Promise<void> {
    const sessionId = this.#writer?.sessionId;
    if (!sessionId || this.#closed) return;
    const session = await this.deps.store.findSession(sessionId);
    if (!session || session.endedAt !== null) {
      const expired = session?.endReason === 'idle_timeout' || session?.endReason === 'absolute_timeout';
      this.end(expired ? 'session_expired' : 'session_revoked');
      return;
    }
    if (timeoutReason(session, this.deps.clock.now())) {
      // Logged and published once; the hub closes every socket of the session on the event.
      await this.deps.ending.expireIfDue(session);
      this.end('session_expired');
      return;
    }
    this.#watchDeadline(Math.min(session.idleExpiresAt, session.expiresAt));
  }

  /**
   * A client's `subscribe`: rate-limited per socket, then answered from what this socket already
   * has where that suffices, so a repeated subscribe costs no read and no second document.
   */
  async #requestSubscribe(writer: StateWriter, namespace: string, since: number | undefined): Promise<void> {
    const waitMs = this.#subscribeLimiter.take();
    if (waitMs > 0) {
      this.#send({
        type: 'error',
        error: 'rate_limited',
        message: `too many subscribes; retry in ${waitMs} ms`,
        namespace,
        retry_after_ms: waitMs,
      });
      return;
    }
    const current = this.#subscriptions.get(namespace);
    if (current?.pending && covers(current.requested, since)) {
      // The answer being read starts at or before this `since`: it answers this request too.
      return;
    }
    if (current && !current.pending && since === current.seq) {
      // Everything up to `seq` went out on this socket, in order: the client misses nothing.
      this.#send({ type: 'catch_up', namespace, seq: current.seq, operations: [] });
      return;
    }
    // No `since` (the client asks for the document: its copy drifted) or an older one (a gap).
    return this.#subscribe(writer, namespace, since);
  }

  async #subscribe(writer: StateWriter, namespace: string, since: number | undefined): Promise<void> {
    // Registered before reading, so nothing published meanwhile is missed; sent after, in order.
    const subscription: Subscription = { requested: since, seq: since ?? 0, pending: [] };
    this.#subscriptions.set(namespace, subscription);
    let missed: Awaited<ReturnType<StateService['catchUp']>>;
    try {
      missed = await this.deps.state.catchUp(writer.userId, namespace, since);
    } catch (error) {
      // Not subscribed after all: nothing may pile up for a namespace the client never gets.
      if (this.#subscriptions.get(namespace) === subscription) this.#subscriptions.delete(namespace);
      this.#failed(error, { namespace });
      return;
    }
    if (this.#subscriptions.get(namespace) !== subscription) return;
    this.#send(
      missed.kind === 'snapshot'
        ? { type: 'snapshot', namespace, seq: missed.seq, document: missed.document }
        : { type: 'catch_up', namespace, seq: missed.seq, operations: missed.operations.map(syncOperation) },
    );
    const pending = subscription.pending ?? [];
    subscription.seq = missed.seq;
    subscription.pending = undefined;
    for (const operation of pending) this.deliver(operation);
  }

  async #apply(writer: StateWriter, message: Extract<ClientMessage, { type: 'apply' }>): Promise<void> {
    const { namespace, client_op_id } = message;
    try {
      const result = await this.deps.state.apply(writer, {
        namespace,
        clientOpId: client_op_id,
        operation: message.operation,
      });
      this.#send({ type: 'ack', namespace, client_op_id, status: result.status, seq: result.seq });
    } catch (error) {
      if (!(error instanceof SessiondError)) {
        this.#failed(error, { namespace, client_op_id });
        return;
      }
      this.#send({
        type: 'error',
        error: error.code,
        message: error.message,
        namespace,
        client_op_id,
        ...(error.retryAfterMs !== undefined ? { retry_after_ms: error.retryAfterMs } : {}),
      });
    }
  }

  /**
   * A store or bug failure: logged, reported as storage_unavailable (the storage refused the
   * write) or internal_error, with what it concerns (so the client can retry that operation or
   * subscription); the connection stays up.
   */
  #failed(error: unknown, about: { namespace?: string; client_op_id?: string } = {}): void {
    if (isStorageFailure(error)) {
      // Disk full, database down: nothing was kept; the client keeps the operation and resends.
      const refusal = storageUnavailable(error, this.deps.log);
      this.#send({
        type: 'error',
        error: refusal.code,
        message: refusal.message,
        retry_after_ms: 1000,
        ...about,
      });
      return;
    }
    this.deps.log.error({ err: error }, 'sync message failed');
    this.#send({
      type: 'error',
      error: 'internal_error',
      message: 'sessiond could not handle this message',
      ...about,
    });
  }

  #protocolError(message: string): void {
    this.#protocolErrors += 1;
    if (this.#protocolErrors > MAX_PROTOCOL_ERRORS) {
      this.end('protocol_error', { error: 'invalid_message', message: 'too many malformed messages' });
    } else this.#send({ type: 'error', error: 'invalid_message', message });
  }

  #send(message: SyncServerMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // Checked before sending, so a message larger than the bound still reaches a client that
    // keeps up, and a socket holds at most the bound plus one message (the close frame waits
    // behind them, so a client that reads again learns the code).
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.deps.limits.maxBufferedBytes) {
      this.deps.log.warn(
        { buffered_bytes: buffered, max_buffered_bytes: this.deps.limits.maxBufferedBytes },
        'sync socket closed: the client does not read what it is sent (slow_consumer)',
      );
      this.end('slow_consumer');
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  #cleanUp(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#subscriptions.clear();
    this.deps.onClosed(this);
  }
}

/** Whether an answer read from `read` (undefined: a snapshot) covers a request from `wanted`. */
function covers(read: number | undefined, wanted: number | undefined): boolean {
  return read === undefined || (wanted !== undefined && read <= wanted);
}
