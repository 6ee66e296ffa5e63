import type { DeviceRecord, NewLogEntry, SessionRecord } from './records.js';
import type {
  DeviceSighting,
  DeviceSightingOutcome,
  EndSessionInput,
  EndSessionsInput,
  EndSSOSessionInput,
  EraseUserInput,
  ForgetDeviceInput,
  RecordStepUpInput,
  RotateRefreshTokenInput,
  RotationOutcome,
  SessionStore,
} from './session-store.js';

const MAX_CACHED_ENTRIES = 50_000;

/**
 * Serves `findSession` (read on every authenticated request) and `findDevice` (on every refresh)
 * from memory (docs/decisions/005). Valid only while this process is the sole writer of sessions, as with
 * the embedded SQLite store. Every write that can change a session drops its entry before the
 * write starts and again once it is durable, and bumps a generation counter so a read that was
 * in flight across a write never puts its stale row back. So a revoked session is never served
 * as live after the revocation was acknowledged. Deadlines are still checked per request
 * against the clock; the cache only saves the row.
 */
export class CachedSessionStore implements SessionStore {
  readonly #sessions = new Map<string, Readonly<SessionRecord>>();
  /** Devices by `userId deviceId`, read on every refresh for the grant's `trusted` flag. */
  readonly #devices = new Map<string, Readonly<DeviceRecord>>();
  #generation = 0;

  constructor(private readonly inner: SessionStore) {}

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const cached = this.#sessions.get(id);
    if (cached) return cached;
    const generation = this.#generation;
    const session = await this.inner.findSession(id);
    if (session && generation === this.#generation) remember(this.#sessions, id, session);
    return session;
  }

  async findDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const key = `${userId} ${deviceId}`;
    const cached = this.#devices.get(key);
    if (cached) return cached;
    const generation = this.#generation;
    const device = await this.inner.findDevice(userId, deviceId);
    if (device && generation === this.#generation) remember(this.#devices, key, device);
    return device;
  }

  async recordDeviceSighting(sighting: DeviceSighting): Promise<DeviceSightingOutcome> {
    const key = `${sighting.userId} ${sighting.id}`;
    this.#forgetDevice(key);
    const result = await this.inner.recordDeviceSighting(sighting);
    this.#forgetDevice(key);
    return result;
  }

  async rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    const outcome = await this.inner.rotateRefreshToken(input);
    if (outcome.kind !== 'not_found') this.#forget([outcome.session.id]);
    return outcome;
  }

  endSession(input: EndSessionInput): Promise<SessionRecord | undefined> {
    return this.#around([input.sessionId], () => this.inner.endSession(input));
  }

  async setSessionClaims(input: Parameters<SessionStore['setSessionClaims']>[0]): Promise<SessionRecord[]> {
    this.#forgetUser(input.userId);
    const changed = await this.inner.setSessionClaims(input);
    this.#forgetUser(input.userId);
    return changed;
  }

  async endSessions(input: EndSessionsInput): Promise<SessionRecord[]> {
    this.#forgetUser(input.userId);
    const ended = await this.inner.endSessions(input);
    this.#forgetUser(input.userId);
    return ended;
  }

  async endSSOSession(input: EndSSOSessionInput): Promise<SessionRecord[]> {
    this.#forget([input.sessionId]);
    const ended = await this.inner.endSSOSession(input);
    // The sessions it authorized are known only now; none is served as live after this returns.
    this.#forget([input.sessionId, ...ended.map((session) => session.id)]);
    return ended;
  }

  recordActivity(
    sessionId: string,
    input: { now: number; ip: string | null },
  ): Promise<SessionRecord | undefined> {
    return this.#around([sessionId], () => this.inner.recordActivity(sessionId, input));
  }

  requireStepUp(sessionId: string, log: NewLogEntry): Promise<boolean> {
    return this.#around([sessionId], () => this.inner.requireStepUp(sessionId, log));
  }

  recordStepUp(sessionId: string, input: RecordStepUpInput): Promise<SessionRecord | undefined> {
    return this.#around([sessionId], () => this.inner.recordStepUp(sessionId, input));
  }

  async forgetDevice(input: ForgetDeviceInput): Promise<SessionRecord[] | undefined> {
    this.#forgetUser(input.userId);
    const ended = await this.inner.forgetDevice(input);
    this.#forgetUser(input.userId);
    return ended;
  }

  async eraseUser(input: EraseUserInput): Promise<SessionRecord[] | undefined> {
    this.#forgetUser(input.userId);
    const ended = await this.inner.eraseUser(input);
    this.#forgetUser(input.userId);
    return ended;
  }

  async setDeviceTrust(
    ...args: Parameters<SessionStore['setDeviceTrust']>
  ): ReturnType<SessionStore['setDeviceTrust']> {
    const [userId] = args;
    this.#forgetUser(userId);
    const device = await this.inner.setDeviceTrust(...args);
    this.#forgetUser(userId);
    return device;
  }

  // Everything else touches no session row: plain delegation.
  createUser: SessionStore['createUser'] = (user) => this.inner.createUser(user);
  findUserByEmail: SessionStore['findUserByEmail'] = (email) => this.inner.findUserByEmail(email);
  findUserById: SessionStore['findUserById'] = (id) => this.inner.findUserById(id);
  listDevices: SessionStore['listDevices'] = (userId) => this.inner.listDevices(userId);
  createSession: SessionStore['createSession'] = (input) => this.inner.createSession(input);
  listLiveSessions: SessionStore['listLiveSessions'] = (userId, now) =>
    this.inner.listLiveSessions(userId, now);
  findRefreshToken: SessionStore['findRefreshToken'] = (hash) => this.inner.findRefreshToken(hash);
  listEndedSessionsSince: SessionStore['listEndedSessionsSince'] = (since, limit, after) =>
    this.inner.listEndedSessionsSince(since, limit, after);
  listTimedOutSessions: SessionStore['listTimedOutSessions'] = (now, limit) =>
    this.inner.listTimedOutSessions(now, limit);
  forgetExpiredSuccessors: SessionStore['forgetExpiredSuccessors'] = (before) =>
    this.inner.forgetExpiredSuccessors(before);
  applyStateOperation: SessionStore['applyStateOperation'] = (input) => this.inner.applyStateOperation(input);
  readStateDocument: SessionStore['readStateDocument'] = (userId, namespace) =>
    this.inner.readStateDocument(userId, namespace);
  catchUpState: SessionStore['catchUpState'] = (input) => this.inner.catchUpState(input);
  compactStateOperations: SessionStore['compactStateOperations'] = (before, limit) =>
    this.inner.compactStateOperations(before, limit);
  appendLog: SessionStore['appendLog'] = (entry) => this.inner.appendLog(entry);
  countLiveSessions: SessionStore['countLiveSessions'] = (now) => this.inner.countLiveSessions(now);
  riskHistory: SessionStore['riskHistory'] = (input) => this.inner.riskHistory(input);
  startTOTPEnrolment: SessionStore['startTOTPEnrolment'] = (userId, sealed) =>
    this.inner.startTOTPEnrolment(userId, sealed);
  confirmTOTPEnrolment: SessionStore['confirmTOTPEnrolment'] = (userId, input) =>
    this.inner.confirmTOTPEnrolment(userId, input);
  removeTOTP: SessionStore['removeTOTP'] = (userId, log) => this.inner.removeTOTP(userId, log);
  findLinkedUser: SessionStore['findLinkedUser'] = (source, subject) =>
    this.inner.findLinkedUser(source, subject);
  linkOrProvisionUser: SessionStore['linkOrProvisionUser'] = (input) => this.inner.linkOrProvisionUser(input);
  linkUser: SessionStore['linkUser'] = (link) => this.inner.linkUser(link);
  listUserLinks: SessionStore['listUserLinks'] = (userId) => this.inner.listUserLinks(userId);
  useTOTPStep: SessionStore['useTOTPStep'] = (userId, step) => this.inner.useTOTPStep(userId, step);
  listLogs: SessionStore['listLogs'] = (query) => this.inner.listLogs(query);
  listSigningKeys: SessionStore['listSigningKeys'] = () => this.inner.listSigningKeys();
  addSigningKey: SessionStore['addSigningKey'] = (key, options) => this.inner.addSigningKey(key, options);
  ping: SessionStore['ping'] = () => this.inner.ping();
  close: SessionStore['close'] = () => this.inner.close();

  async #around<T>(sessionIds: string[], write: () => Promise<T>): Promise<T> {
    this.#forget(sessionIds);
    try {
      return await write();
    } finally {
      this.#forget(sessionIds);
    }
  }

  #forget(sessionIds: string[]): void {
    this.#generation += 1;
    for (const id of sessionIds) this.#sessions.delete(id);
  }

  #forgetDevice(key: string): void {
    this.#generation += 1;
    this.#devices.delete(key);
  }

  /** Drops every cached session and device of a user (writes that touch several of them). */
  #forgetUser(userId: string): void {
    this.#generation += 1;
    for (const [id, session] of this.#sessions) if (session.userId === userId) this.#sessions.delete(id);
    for (const [key, device] of this.#devices) if (device.userId === userId) this.#devices.delete(key);
  }
}

function remember<T extends object>(cache: Map<string, Readonly<T>>, key: string, value: T): void {
  if (cache.size >= MAX_CACHED_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, Object.freeze(value));
}
