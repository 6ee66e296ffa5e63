import type { EventName, EventPayloads } from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import type { Log } from '../lib/log.js';
import type { SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

const POLL_MS = 1_000;
const PAGE = 500;
/** End times are taken before commit, so a page boundary is re-read this far back. */
const OVERLAP_MS = 5_000;

/** The part of a bus the backstop needs (RedisBus). */
export interface LocalDelivery {
  readonly connected: boolean;
  deliverLocally<K extends EventName>(name: K, payload: EventPayloads[K]): void;
}

/**
 * While Redis is away, other nodes' revocations cannot reach this node's sync sockets and
 * revocation streams by the bus. Requests are safe anyway (every node reads sessions from
 * PostgreSQL), but open sockets and streams are not: so, for as long as the bus is down (and
 * once more when it is back, for the tail of the outage), this reads the sessions that ended
 * from the database every second and delivers them to this node's listeners as the events the
 * bus would have carried. Listeners are idempotent: a revocation they already had is harmless.
 */
export class RevocationBackstop {
  #timer: NodeJS.Timeout | undefined;
  /** End time from which the next read starts; undefined while the bus is up. */
  #since: number | undefined;
  #reading = false;
  /** Sessions already delivered (id → end time), so overlapping reads do not repeat them. */
  readonly #delivered = new Map<string, number>();

  constructor(
    private readonly bus: LocalDelivery,
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly accessTokenTTLMs: number,
    private readonly log: Log,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#reading) return;
    const down = !this.bus.connected;
    if (down && this.#since === undefined) {
      // A revocation just before the outage may not have crossed either.
      this.#since = this.clock.now() - OVERLAP_MS;
      this.log.warn({}, 'event bus down: revocations are read from the database every second');
    }
    if (this.#since === undefined) return;
    this.#reading = true;
    try {
      const readFrom = this.#since;
      const startedAt = this.clock.now();
      await this.#deliverEndedSince(readFrom);
      if (down) this.#since = startedAt - OVERLAP_MS;
      else {
        // Back up, and the outage's tail has been read: the bus carries revocations again.
        this.#since = undefined;
        this.#delivered.clear();
        this.log.info({}, 'event bus back: revocations travel on it again');
      }
    } catch (error) {
      this.log.error({ err: error }, 'reading revocations from the database failed');
    } finally {
      this.#reading = false;
    }
  }

  async #deliverEndedSince(since: number): Promise<void> {
    for (const [id, endedAt] of this.#delivered) if (endedAt < since) this.#delivered.delete(id);
    let after: { endedAt: number; id: string } | undefined;
    for (;;) {
      const ended = await this.store.listEndedSessionsSince(since, PAGE, after);
      for (const session of ended) this.#deliver(session);
      const last = ended.at(-1);
      if (ended.length < PAGE || !last) return;
      after = { endedAt: last.endedAt!, id: last.id };
    }
  }

  #deliver(session: SessionRecord): void {
    const endedAt = session.endedAt!;
    if (this.#delivered.has(session.id)) return;
    this.#delivered.set(session.id, endedAt);
    const base = {
      user_id: session.userId,
      session_id: session.id,
      device_id: session.deviceId,
      at: new Date(endedAt).toISOString(),
    };
    const reason = session.endReason;
    if (reason === 'idle_timeout' || reason === 'absolute_timeout') {
      this.bus.deliverLocally('session.expired', { ...base, reason });
      return;
    }
    this.bus.deliverLocally('session.revoked', {
      ...base,
      reason: reason ?? 'revoked',
      actor:
        reason === 'admin' || reason === 'backend'
          ? reason
          : reason === 'refresh_token_reused'
            ? 'system'
            : 'user',
      access_valid_until: new Date(endedAt + this.accessTokenTTLMs).toISOString(),
    });
  }
}
