/**
 * How long each kind of personal data is kept (SESSIOND_RETENTION_*, decision 034). The
 * defaults and why they are what they are live in config.ts and docs/privacy.md.
 */
export interface RetentionPolicy {
  /** Audit log rows (`session_logs`), by their time. */
  readonly auditLogDays: number;
  /** Sessions that ended (revoked, logged out, expired), by their end time, with their refresh tokens. */
  readonly endedSessionsDays: number;
  /** Devices not signed in from for this long that have no session left that has not ended. */
  readonly devicesDays: number;
  /** State operations (the op log of sync), by their time: SESSIOND_STATE_OP_RETENTION_DAYS. */
  readonly stateOperationsDays: number;
  /** Rows one delete statement removes at most. */
  readonly batchSize: number;
}

/** What retention deletes, as the metrics label it. */
export const RETENTION_KINDS = [
  'audit_log',
  'ended_sessions',
  'refresh_tokens',
  'devices',
  'state_operations',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows of each kind older than these times (epoch ms) are past their retention at `now`. */
export interface RetentionCutoffs {
  auditLogBefore: number;
  endedSessionsBefore: number;
  devicesLastSeenBefore: number;
  stateOperationsBefore: number;
}

export function retentionCutoffs(policy: RetentionPolicy, now: number): RetentionCutoffs {
  return {
    auditLogBefore: now - policy.auditLogDays * DAY_MS,
    endedSessionsBefore: now - policy.endedSessionsDays * DAY_MS,
    devicesLastSeenBefore: now - policy.devicesDays * DAY_MS,
    stateOperationsBefore: now - policy.stateOperationsDays * DAY_MS,
  };
}
