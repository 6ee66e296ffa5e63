import type { Clock } from '../clock.js';
import type { SessionStore } from '../store/session-store.js';
import { type RetentionKind, type RetentionPolicy, retentionCutoffs } from './retention-policy.js';
import type { RetentionStore } from './retention-store.js';

/**
 * Batches one pass deletes of one kind at most: a database years behind its retention (the
 * first start after an upgrade) catches up over several passes, and the sweeper's other work
 * (expiring sessions) never waits behind a long purge.
 */
export const MAX_BATCHES_PER_PASS = 100;

/**
 * A clock skew between nodes and a transaction's length (seconds, both) can order an outbox's
 * rows a little out of time order: ended sessions are kept this much longer than the oldest
 * row the slowest outbox has not delivered, which may need to read them (back-channel logout).
 */
export const OUTBOX_TIME_MARGIN_MS = 60 * 60 * 1000;

/** Where a pass reports; the metrics take it. */
export interface RetentionReport {
  deleted(kind: RetentionKind, rows: number): void;
  /** A pass finished (epoch ms of the injected clock). */
  ran(at: number): void;
}

export type RetentionPass = Record<RetentionKind, number>;

/**
 * Enforces the retention policy (decision 034), called by the sweeper every interval: deletes
 * old audit rows (never one an outbox has not delivered), ended sessions with their refresh
 * tokens (never one an undelivered row may read), devices gone quiet with no session left, and
 * old state operations. Each kind in bounded batches (RetentionStore).
 */
export class RetentionSweep {
  constructor(
    private readonly deps: {
      store: RetentionStore;
      sessions: Pick<SessionStore, 'compactStateOperations'>;
      clock: Clock;
      policy: RetentionPolicy;
      /** The cursor keys of every outbox this node runs (webhooks, back-channel logout). */
      outboxKeys: () => readonly string[];
      report?: RetentionReport;
    },
  ) {}

  async run(): Promise<RetentionPass> {
    const { store, policy, clock } = this.deps;
    const now = clock.now();
    const cutoffs = retentionCutoffs(policy, now);
    const limit = policy.batchSize;
    const pass: RetentionPass = {
      audit_log: 0,
      ended_sessions: 0,
      refresh_tokens: 0,
      devices: 0,
      state_operations: 0,
    };
    const hold = await store.outboxHold(this.deps.outboxKeys());
    const endedBefore =
      hold?.pendingSince === undefined
        ? cutoffs.endedSessionsBefore
        : Math.min(cutoffs.endedSessionsBefore, hold.pendingSince - OUTBOX_TIME_MARGIN_MS);

    pass.audit_log = await this.#batches('audit_log', limit, () =>
      store.deleteAuditLogs({
        before: cutoffs.auditLogBefore,
        ...(hold ? { delivered: hold.position } : {}),
        limit,
      }),
    );
    pass.ended_sessions = await this.#batches('ended_sessions', limit, async () => {
      const deleted = await store.deleteEndedSessions({ endedBefore, limit });
      pass.refresh_tokens += deleted.refreshTokens;
      this.deps.report?.deleted('refresh_tokens', deleted.refreshTokens);
      return deleted.sessions;
    });
    // After the sessions: a device whose last sessions just went may go in the same pass.
    pass.devices = await this.#batches('devices', limit, () =>
      store.deleteIdleDevices({ lastSeenBefore: cutoffs.devicesLastSeenBefore, limit }),
    );
    pass.state_operations = await this.#batches('state_operations', limit, () =>
      this.deps.sessions.compactStateOperations(cutoffs.stateOperationsBefore, limit),
    );
    this.deps.report?.ran(now);
    return pass;
  }

  /** Runs `batch` until it deletes fewer than `limit` rows, or MAX_BATCHES_PER_PASS times. */
  async #batches(kind: RetentionKind, limit: number, batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_PASS; i += 1) {
      const deleted = await batch();
      total += deleted;
      this.deps.report?.deleted(kind, deleted);
      if (deleted < limit) break;
    }
    return total;
  }
}
