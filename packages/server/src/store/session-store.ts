import type { AssuranceLevel, JSONObject, SessionEndReason, StateOperation } from '@sessiond/protocol';
import type { GeoLocation } from '../privacy/geo-locator.js';
import type { RiskHistory } from '../risk/risk-engine.js';
import type {
  DeviceRecord,
  LogRecord,
  NewLogEntry,
  NewRefreshToken,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  StepUpFactor,
  UserLink,
  UserRecord,
} from './records.js';

/** Everything the store needs to know about a sign-in from a device. */
export interface DeviceSighting {
  userId: string;
  id: string;
  name: string | null;
  platform: string | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  userAgent: string | null;
  ip: string | null;
  /** Where the sign-in came from (SESSIOND_GEOIP): replaces the device's location; null clears it. */
  location?: GeoLocation | null;
  now: number;
  /** The hash of a fresh device secret: bound to the device if it has none yet. */
  secretHash: string;
  /** The hash of the secret the client presented for this device id, if any. */
  presentedSecretHash: string | null;
}

/**
 * - `new`: first sign-in of this user from this device id; the device now has `secretHash`.
 * - `bound`: a device first seen before device binding: it now has `secretHash` and, until
 *   the user trusts it again, no trust (nothing proved it is the device that was trusted).
 * - `recognised`: the presented secret is the device's.
 * - `claimed`: the id is a known device of the user's, but the secret is missing or wrong; the
 *   device record is left untouched (the caller signs in as a new device instead).
 */
export type DeviceSightingOutcome =
  | { kind: 'new' | 'bound' | 'recognised'; device: DeviceRecord }
  | { kind: 'claimed' };

export interface RotateRefreshTokenInput {
  tokenHash: string;
  /** The would-be successor; stored only if this caller wins the rotation. */
  successor: { id: string; tokenHash: string; sealed: string };
  now: number;
  graceMs: number;
  ip: string | null;
  userAgent: string | null;
}

/**
 * - `rotated`: this caller won; the successor it passed in is now the live token.
 * - `grace`: the token was rotated less than `graceMs` ago and its successor is still unused;
 *   the caller gets that same successor (sealed) so honest races converge on one token.
 * - `reused`: any other presentation of a replaced token. The session has been revoked.
 * - `session_ended`: the token belongs to a session that already ended.
 * - `not_found`: no such token.
 */
export type RotationOutcome =
  /** `previous`: where the session was used from before this refresh (the risk engine compares). */
  | { kind: 'rotated'; session: SessionRecord; previous: { ip: string | null; userAgent: string | null } }
  | { kind: 'grace'; session: SessionRecord; successorSealed: string }
  | { kind: 'reused'; session: SessionRecord }
  | { kind: 'session_ended'; session: SessionRecord }
  | { kind: 'not_found' };

export interface EndSessionInput {
  sessionId: string;
  reason: SessionEndReason;
  now: number;
  /** Written in the same transaction, only if this call is the one that ends the session. */
  log: NewLogEntry;
}

export interface EndSSOSessionInput extends EndSessionInput {
  /** The log row for each session the SSO session authorized that this call ends. */
  authorizedLog: (session: SessionRecord) => NewLogEntry;
}

export interface EndSessionsInput {
  userId: string;
  reason: SessionEndReason;
  now: number;
  /** Keep this session live (revoke-all "keep current"). */
  exceptSessionId?: string;
  /** Only the sessions on this device (forgetting a device). */
  deviceId?: string;
  /** The log row for each session ended. */
  log: (session: SessionRecord) => NewLogEntry;
}

/**
 * Storage, named after domain operations. Each method is atomic on its own; where concurrent
 * callers race, the contract says who wins. Every write is durable when the promise resolves.
 * The conformance suite in test/store/ holds each implementation to these contracts.
 */
export interface SessionStore {
  /** Inserts a user. Rejects with EmailTakenError if the (normalised) email exists. */
  createUser(user: UserRecord): Promise<void>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;

  /** The user that `source` (`backend:<id>`, `oidc:<issuer>`) knows as `subject`, if linked. */
  findLinkedUser(source: string, subject: string): Promise<UserRecord | undefined>;
  /**
   * The user linked to (source, subject), provisioning `newUser` and the link in one transaction
   * when there is none. Of concurrent callers for one (source, subject) exactly one creates, and
   * all get the same user. Rejects with EmailTakenError if `newUser`'s email is another user's.
   */
  linkOrProvisionUser(input: {
    source: string;
    subject: string;
    newUser: UserRecord;
    now: number;
  }): Promise<{ user: UserRecord; created: boolean }>;
  /** Links (source, subject) to an existing user; false if that pair is linked already (to anyone). */
  linkUser(link: UserLink): Promise<boolean>;
  listUserLinks(userId: string): Promise<UserLink[]>;
  /**
   * Replaces the custom claims of every live session of the user, writing `log` for each, in one
   * transaction; returns the sessions changed (their next access token carries the claims).
   */
  setSessionClaims(input: {
    userId: string;
    claims: Readonly<Record<string, unknown>> | null;
    now: number;
    log: (session: SessionRecord) => NewLogEntry;
  }): Promise<SessionRecord[]>;

  /**
   * Records a sign-in from a device: inserts it if this user never used it (`new`), else, if the
   * presented secret is the device's (or the device has none yet), refreshes its last-seen
   * fields. Of concurrent first sightings exactly one is `new`; the others are `claimed`.
   */
  recordDeviceSighting(sighting: DeviceSighting): Promise<DeviceSightingOutcome>;
  findDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  listDevices(userId: string): Promise<DeviceRecord[]>;
  /**
   * Sets trust, applies `idleTimeoutMs` to the device's live sessions and writes the log row,
   * in one transaction; undefined if no such device.
   */
  setDeviceTrust(
    userId: string,
    deviceId: string,
    input: { trusted: boolean; idleTimeoutMs: number; log: NewLogEntry },
  ): Promise<DeviceRecord | undefined>;
  /**
   * Forgets a device in one transaction: deletes its record, ends its live sessions (reason
   * `device_forgotten`, a log row each) and writes `log`. Undefined if there was no such device.
   */
  forgetDevice(input: ForgetDeviceInput): Promise<SessionRecord[] | undefined>;

  /**
   * Erases a user (decision 036) in one transaction: the user row becomes a tombstone (no email,
   * password or factor; found by no look-up), every live session ends (reason `user_erased`, a
   * `sessionLog` row each), the account's personal data is deleted and what security keeps is
   * pseudonymised (store/user-erasure.ts), and `log` is written last with the count of sessions
   * ended. Returns those sessions, or undefined if there is no such user or it was erased
   * already: of concurrent erasures exactly one erases.
   */
  eraseUser(input: EraseUserInput): Promise<SessionRecord[] | undefined>;

  /**
   * Inserts a session, its first refresh token and its log rows in one transaction. Rejects
   * with UserErasedError if the user has been erased meanwhile (a sign-in racing the erasure).
   */
  createSession(input: {
    session: SessionRecord;
    refreshToken: NewRefreshToken;
    logs: NewLogEntry[];
  }): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** Sessions not ended and not past either deadline at `now`, newest first. */
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;

  /**
   * Rotates a refresh token: marks it rotated, stores the successor, slides the session and
   * logs `refresh`, in one transaction. Of concurrent callers with the same token exactly one
   * gets `rotated`; the others get `grace` (inside the window) with that winner's successor.
   * A replaced token presented any other way revokes the session and logs
   * `refresh_reuse_detected` in the same transaction (`reused`).
   */
  rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome>;

  /**
   * Ends a live session, revokes its refresh tokens and writes the log row, in one transaction.
   * Returns the ended session, or undefined if it was already ended (exactly one caller wins).
   */
  endSession(input: EndSessionInput): Promise<SessionRecord | undefined>;
  /** endSession for each live session of a user that matches; returns those it ended. */
  endSessions(input: EndSessionsInput): Promise<SessionRecord[]>;
  /**
   * Ends an SSO session (client `sessiond`) as endSession does and, if this call is the one that
   * ends it, every live session it authorized (`ssoSessionId` = it; reason `sso_session_ended`,
   * an `authorizedLog` row each), in one transaction. Returns the SSO session first, then those;
   * empty if the SSO session had already ended (exactly one caller wins, and cascades).
   */
  endSSOSession(input: EndSSOSessionInput): Promise<SessionRecord[]>;
  /**
   * Slides the idle deadline (now + the session's idle timeout) of a session that is live at
   * `now`; returns the updated session, or undefined if it has ended or timed out.
   */
  recordActivity(
    sessionId: string,
    input: { now: number; ip: string | null },
  ): Promise<SessionRecord | undefined>;
  /** Marks a live session as needing step-up and logs why, atomically; false if not live. */
  requireStepUp(sessionId: string, log: NewLogEntry): Promise<boolean>;
  /**
   * After a successful step-up: raises the session's assurance, clears the step-up flag and
   * rotates its refresh token to `successor` exactly as a refresh would (the replaced token
   * keeps its grace window), logs, in one transaction. Undefined if the session is not live.
   */
  recordStepUp(sessionId: string, input: RecordStepUpInput): Promise<SessionRecord | undefined>;
  /**
   * Sessions that ended at or after `since`, ordered by (end time, id), strictly after `after`
   * when given: a keyset cursor, so pages never skip sessions that ended in the same millisecond
   * (a revoke-all ends them all at once). The revocation stream's backlog.
   */
  listEndedSessionsSince(
    since: number,
    limit: number,
    after?: { endedAt: number; id: string },
  ): Promise<SessionRecord[]>;
  /** Live (not ended) sessions whose idle or absolute deadline is at or before `now`. */
  listTimedOutSessions(now: number, limit: number): Promise<SessionRecord[]>;
  /** Drops sealed successors of tokens rotated before `rotatedBefore` (grace window over). */
  forgetExpiredSuccessors(rotatedBefore: number): Promise<number>;

  /**
   * Applies one state operation: reads the document, applies, checks the size, takes the
   * user's next sequence number, stores document and log entry, in one transaction. Exactly once
   * per (user, clientOpId), concurrent replays included.
   */
  applyStateOperation(input: ApplyStateOperationInput): Promise<StateOperationOutcome>;
  /** A namespace's document (`{}` if never written) and the sequence number it reflects. */
  readStateDocument(userId: string, namespace: string): Promise<{ document: JSONObject; version: number }>;
  /**
   * What a client that applied a namespace's operations up to `since` is missing, read in one
   * transaction: the operations after it in sequence order, or the document when the log cannot
   * say (no `since`, compacted past it, more than `limit` missed, or `since` ahead of the user).
   */
  catchUpState(input: {
    userId: string;
    namespace: string;
    since: number | undefined;
    limit: number;
  }): Promise<StateCatchUp>;
  /**
   * Deletes up to `limit` of the operations created before `before`, oldest first, in one
   * transaction; returns how many. Catch-up below them is a snapshot. Callers loop.
   */
  compactStateOperations(before: number, limit: number): Promise<number>;

  /**
   * What the risk engine weighs at a sign-in, since `since`: failed logins for the account and
   * from the IP, the IPs of the account's sign-ins, refresh-token reuses, and live sessions now.
   */
  riskHistory(input: { userId: string; ip: string | null; since: number; now: number }): Promise<RiskHistory>;

  /**
   * Starts a TOTP enrolment: stores the new secret, sealed, as pending. The enabled factor, if
   * any, is untouched until the enrolment is confirmed.
   */
  startTOTPEnrolment(userId: string, pendingSealed: string): Promise<void>;
  /**
   * Makes the pending secret the enabled factor and writes `log`, in one transaction, if the
   * pending secret is still `pendingSealed` (a newer enrolment started meanwhile wins). Returns
   * whether a factor was enabled before (a replacement) or undefined if nothing was confirmed.
   */
  confirmTOTPEnrolment(
    userId: string,
    input: { pendingSealed: string; now: number; log: NewLogEntry },
  ): Promise<{ replaced: boolean } | undefined>;
  /** Removes the TOTP factor (enabled and pending) and writes `log`, atomically; false if none. */
  removeTOTP(userId: string, log: NewLogEntry): Promise<boolean>;
  /**
   * Records that the TOTP code of `step` was used, if no code of that step or a later one was:
   * false means a replayed code (RFC 6238 §5.2).
   */
  useTOTPStep(userId: string, step: number): Promise<boolean>;

  appendLog(entry: NewLogEntry): Promise<void>;
  /** A user's log, newest first, strictly older than `beforeId` when given. */
  listLogs(query: { userId: string; limit: number; beforeId?: number }): Promise<LogRecord[]>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Adds a key and marks every other unretired key retired at `key.createdAt`, atomically.
   * Concurrent callers (other nodes) are serialised: afterwards exactly one key is active. With
   * `unlessOneIsActive`, adds nothing when a key is already active (a first start racing
   * another node's: both end up with the one key). Answers whether the key was added.
   */
  addSigningKey(key: SigningKeyRecord, options?: { unlessOneIsActive?: boolean }): Promise<boolean>;

  /** Live sessions right now, across users (the active-sessions gauge). */
  countLiveSessions(now: number): Promise<number>;

  /** Readiness probe: a trivial round trip. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface EraseUserInput {
  userId: string;
  now: number;
  /** The log row of each live session the erasure ends. */
  sessionLog: (session: SessionRecord) => NewLogEntry;
  /** The `user_erased` row, given how many sessions were ended; written after the pseudonymisation. */
  log: (sessionsRevoked: number) => NewLogEntry;
}

export interface RecordStepUpInput {
  acr: AssuranceLevel;
  /** The factor the user re-authenticated with (recorded as the session's `reauthFactor`). */
  factor: StepUpFactor;
  /** The session's RFC 8176 methods after the step-up (its old ones and the factor's). */
  amr: readonly string[];
  now: number;
  successor: { id: string; tokenHash: string; sealed: string };
  log: NewLogEntry;
}

export interface ForgetDeviceInput {
  userId: string;
  deviceId: string;
  now: number;
  sessionLog: (session: SessionRecord) => NewLogEntry;
  log: NewLogEntry;
}

export interface ApplyStateOperationInput {
  userId: string;
  namespace: string;
  /** The client's idempotency key: an operation is applied at most once per user and key. */
  clientOpId: string;
  operation: StateOperation;
  now: number;
  maxDocumentBytes: number;
  /** Per-user bounds over all of the user's namespaces; none when absent. */
  userQuota?: StateUserQuota;
}

// --- state quotas (issue 12) ------------------------------------------------------------

/**
 * Bounds on one user's whole state, checked inside `applyStateOperation`'s transaction after
 * the user's cursor row is taken, so the user's concurrent operations are checked one after
 * another and cannot pass the bounds together. An operation that does not grow the user's total
 * (or empties a namespace) is never refused: a user over a lowered quota can still shrink.
 */
export interface StateUserQuota {
  /** Namespaces whose document is not empty (`{}`). */
  maxNamespaces: number;
  /** Sum of the UTF-8 JSON bytes of the user's documents. */
  maxBytes: number;
}

/**
 * - `applied`: stored under the next per-user sequence number, the document updated;
 *   `previousSeq` is the document's version before (0 for a new document).
 * - `duplicate`: this `clientOpId` was applied before (as `seq`); nothing changed.
 * - `rejected`: the operation clashes with the document, would make it too large, or would pass
 *   the user's quota; nothing changed.
 */
export type StateOperationOutcome =
  | { kind: 'applied'; seq: number; previousSeq: number; document: JSONObject }
  | { kind: 'duplicate'; seq: number }
  | {
      kind: 'rejected';
      reason: 'invalid_operation' | 'state_too_large' | 'state_quota_exceeded';
      message: string;
    };

export type StateCatchUp =
  | { kind: 'operations'; seq: number; operations: StateOperationRecord[] }
  | { kind: 'snapshot'; seq: number; document: JSONObject };

export interface StateOperationRecord {
  seq: number;
  namespace: string;
  clientOpId: string;
  operation: StateOperation;
  createdAt: number;
}

export type { RiskHistory };

export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';
}

/** The user a session was being created for has been erased (decision 036). */
export class UserErasedError extends Error {
  override readonly name = 'UserErasedError';
}
