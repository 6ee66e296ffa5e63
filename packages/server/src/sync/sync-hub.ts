import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { SyncConnection } from './sync-connection.js';
import { SESSION_EVENTS_FOR_DEVICES } from './wire.js';

type SessionEventName = keyof typeof SESSION_EVENTS_FOR_DEVICES;
const SESSION_EVENT_NAMES = Object.keys(SESSION_EVENTS_FOR_DEVICES) as SessionEventName[];

/** Dead peers (no pong since the last ping) are dropped after at most two of these. */
const HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * Every authenticated sync socket of this node, by user. Listens on the bus (so a Redis bus can
 * feed it from other nodes unchanged): operations go to the user's subscribed sockets, session
 * events to all of the user's sockets, and a revoked or expired session's sockets are closed.
 */
export class SyncHub {
  readonly #byUser = new Map<string, Set<SyncConnection>>();
  readonly #unsubscribe: Array<() => void> = [];
  #heartbeat: NodeJS.Timeout | undefined;

  /**
   * `onRevokedSocketClosed`: called with the milliseconds from a revocation (its event's time, on
   * `clock`) to the close frame of each of its sockets here (the dashboard's health, metrics.ts).
   */
  constructor(
    bus: EventBus,
    private readonly options: { clock?: Clock; onRevokedSocketClosed?: (ms: number) => void } = {},
  ) {
    this.#unsubscribe.push(
      bus.subscribe('state.changed', (e) => {
        if (e.user_id === null || e.device_id === null) return;
        const operation = {
          type: 'op' as const,
          namespace: e.namespace,
          seq: e.seq,
          prev_seq: e.prev_seq,
          client_op_id: e.client_op_id,
          device_id: e.device_id,
          operation: e.operation as never,
        };
        for (const connection of this.#connectionsOf(e.user_id)) connection.deliver(operation);
      }),
      bus.subscribe('session.expired', (e) => this.#endSession(e.user_id, e.session_id, 'session_expired')),
      // Operations other nodes applied while the bus was away never came: read them.
      bus.onResume(() => {
        for (const connection of this.#all()) connection.resync();
      }),
    );
    for (const name of SESSION_EVENT_NAMES) this.#unsubscribe.push(this.#forward(bus, name));
  }

  /** Open authenticated sockets on this node. */
  get size(): number {
    let count = 0;
    for (const connections of this.#byUser.values()) count += connections.size;
    return count;
  }

  add(connection: SyncConnection): void {
    const userId = connection.writer?.userId;
    if (userId === undefined) return;
    let connections = this.#byUser.get(userId);
    if (!connections) {
      connections = new Set();
      this.#byUser.set(userId, connections);
    }
    connections.add(connection);
  }

  remove(connection: SyncConnection): void {
    const userId = connection.writer?.userId;
    if (userId === undefined) return;
    const connections = this.#byUser.get(userId);
    connections?.delete(connection);
    if (connections?.size === 0) this.#byUser.delete(userId);
  }

  startHeartbeat(): void {
    this.#heartbeat = setInterval(() => {
      for (const connections of this.#byUser.values())
        for (const connection of connections) connection.heartbeat();
    }, HEARTBEAT_INTERVAL_MS);
    this.#heartbeat.unref();
  }

  /**
   * Closes every socket with 1012 (service restart: reconnect elsewhere and catch up) and stops
   * listening: this node is shutting down.
   */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const connection of this.#all()) connection.end('service_restart');
  }

  #forward(bus: EventBus, name: SessionEventName): () => void {
    return bus.subscribe(name, (payload) => {
      if (payload.user_id === null) return;
      const event = SESSION_EVENTS_FOR_DEVICES[name](payload as never);
      for (const connection of this.#connectionsOf(payload.user_id)) connection.notify(event);
      // Told first, then closed: the revoked device learns why its socket went away.
      if (name === 'session.revoked') {
        const closed = this.#endSession(payload.user_id, payload.session_id, 'session_revoked');
        const { clock, onRevokedSocketClosed } = this.options;
        if (closed > 0 && clock && onRevokedSocketClosed) {
          const ms = clock.now() - Date.parse(payload.at);
          for (let i = 0; i < closed; i += 1) onRevokedSocketClosed(ms);
        }
      }
    });
  }

  #all(): SyncConnection[] {
    return [...this.#byUser.values()].flatMap((set) => [...set]);
  }

  #connectionsOf(userId: string): SyncConnection[] {
    return [...(this.#byUser.get(userId) ?? [])];
  }

  #endSession(
    userId: string | null,
    sessionId: string | null,
    reason: 'session_revoked' | 'session_expired',
  ): number {
    if (userId === null || sessionId === null) return 0;
    let closed = 0;
    for (const connection of this.#connectionsOf(userId)) {
      if (connection.writer?.sessionId === sessionId) {
        connection.end(reason);
        closed += 1;
      }
    }
    return closed;
  }
}
