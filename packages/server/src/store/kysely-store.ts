import {
  applyStateOperation,
  type JSONObject,
  type LogAction,
  type StateOperation,
  StateOperationError,
  stateDocumentSize,
} from '@sessiond/protocol';
import { type ExpressionBuilder, type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from './migrations.js';
import type {
  DeviceRecord,
  LogRecord,
  NewLogEntry,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  UserLink,
  UserRecord,
} from './records.js';
import { rotateInOneStatement } from './rotation-function.js';
import {
  fromLogEntry,
  fromSession,
  fromUser,
  locationColumn,
  toDevice,
  toLog,
  toRefreshToken,
  toSession,
  toSigningKey,
  toUser,
} from './row-mappers.js';
import type { Database } from './schema.js';
import {
  type ApplyStateOperationInput,
  type DeviceSighting,
  type DeviceSightingOutcome,
  EmailTakenError,
  type EndSessionInput,
  type EndSessionsInput,
  type EndSSOSessionInput,
  type EraseUserInput,
  type ForgetDeviceInput,
  type RecordStepUpInput,
  type RiskHistory,
  type RotateRefreshTokenInput,
  type RotationOutcome,
  type SessionStore,
  type StateCatchUp,
  type StateOperationOutcome,
  UserErasedError,
} from './session-store.js';
import type { StoreDatabase, Transact } from './transact.js';
import { eraseUserRows, tombstoneUser } from './user-erasure.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Thrown inside a transaction to roll it back and report an outcome instead of an error. */
class Rollback<T> {
  constructor(readonly outcome: T) {}
}

/** Thrown inside a provisioning transaction that lost its link to a concurrent one: rolls it back. */
class LinkTaken extends Error {}

/**
 * The SessionStore on Kysely. It speaks only SQL both SQLite (3.35+) and PostgreSQL accept:
 * compare-and-set UPDATE ... RETURNING decides every race, so no dialect needs row locks.
 */
export class KyselySessionStore implements SessionStore {
  readonly #db: Kysely<Database>;
  readonly #transact: Transact;
  readonly #dialect: Dialect;

  /** Every write goes through `transact`, which decides how (and how many) commits happen. */
  constructor(db: Kysely<Database>, transact: Transact, dialect: Dialect) {
    this.#db = db;
    this.#transact = transact;
    this.#dialect = dialect;
  }

  /**
   * The database and its write path, for the stores of other concerns (webhooks, admin) that
   * share this connection and its group commit.
   */
  get database(): StoreDatabase {
    return { db: this.#db, transact: this.#transact, dialect: this.#dialect };
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.#transact((trx) => trx.insertInto('users').values(fromUser(user)).execute());
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError(`email already registered`);
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('erasedAt', 'is', null)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findLinkedUser(source: string, subject: string): Promise<UserRecord | undefined> {
    const row = await this.#db
      .selectFrom('userLinks')
      .innerJoin('users', 'users.id', 'userLinks.userId')
      .selectAll('users')
      .where('userLinks.source', '=', source)
      .where('userLinks.subject', '=', subject)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async linkOrProvisionUser(input: {
    source: string;
    subject: string;
    newUser: UserRecord;
    now: number;
  }): Promise<{ user: UserRecord; created: boolean }> {
    const linked = await this.findLinkedUser(input.source, input.subject);
    if (linked) return { user: linked, created: false };
    try {
      await this.#transact(async (trx) => {
        await trx.insertInto('users').values(fromUser(input.newUser)).execute();
        const link = await trx
          .insertInto('userLinks')
          .values({
            source: input.source,
            subject: input.subject,
            userId: input.newUser.id,
            createdAt: input.now,
          })
          .onConflict((conflict) => conflict.columns(['source', 'subject']).doNothing())
          .returning('userId')
          .executeTakeFirst();
        // Another caller linked it first: roll back this user, take theirs (below).
        if (!link) throw new LinkTaken();
      });
      return { user: input.newUser, created: true };
    } catch (error) {
      if (!(error instanceof LinkTaken) && !isUniqueViolation(error)) throw error;
      const winner = await this.findLinkedUser(input.source, input.subject);
      if (winner) return { user: winner, created: false };
      throw new EmailTakenError('email already registered');
    }
  }

  async linkUser(link: UserLink): Promise<boolean> {
    const inserted = await this.#transact((trx) =>
      trx
        .insertInto('userLinks')
        .values(link)
        .onConflict((conflict) => conflict.columns(['source', 'subject']).doNothing())
        .returning('userId')
        .executeTakeFirst(),
    );
    return inserted !== undefined;
  }

  async listUserLinks(userId: string): Promise<UserLink[]> {
    const rows = await this.#db
      .selectFrom('userLinks')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('createdAt')
      .execute();
    return rows.map((row) => ({ ...row, createdAt: Number(row.createdAt) }));
  }

  async setSessionClaims(input: {
    userId: string;
    claims: Readonly<Record<string, unknown>> | null;
    now: number;
    log: (session: SessionRecord) => NewLogEntry;
  }): Promise<SessionRecord[]> {
    return this.#transact(async (trx) => {
      const rows = await trx
        .updateTable('sessions')
        .set({ claims: input.claims === null ? null : JSON.stringify(input.claims) })
        .where('userId', '=', input.userId)
        .where('endedAt', 'is', null)
        .where('idleExpiresAt', '>', input.now)
        .where('expiresAt', '>', input.now)
        .returningAll()
        .execute();
      const sessions = rows.map(toSession);
      for (const session of sessions) await insertLog(trx, input.log(session));
      return sessions;
    });
  }

  async recordDeviceSighting(sighting: DeviceSighting): Promise<DeviceSightingOutcome> {
    const { now, ip, secretHash, presentedSecretHash, location, ...fields } = sighting;
    return this.#transact(async (trx) => {
      const inserted = await trx
        .insertInto('devices')
        .values({
          ...fields,
          lastIp: ip,
          location: locationColumn(location),
          trusted: 0,
          trustedAt: null,
          firstSeenAt: now,
          lastSeenAt: now,
          secretHash,
        })
        .onConflict((conflict) => conflict.columns(['userId', 'id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { kind: 'new', device: toDevice(inserted) };
      // Only the holder of the device's secret updates it; a device without one (first seen
      // before binding) takes this sighting's secret and loses its trust. SET reads the old row.
      const updated = await trx
        .updateTable('devices')
        .set((eb) => ({
          lastSeenAt: now,
          lastIp: ip,
          location: locationColumn(location),
          userAgent: fields.userAgent,
          browser: fields.browser,
          os: fields.os,
          deviceType: fields.deviceType,
          // A client that stops sending a name keeps the one it sent before.
          ...(fields.name !== null ? { name: fields.name } : {}),
          ...(fields.platform !== null ? { platform: fields.platform } : {}),
          secretHash: eb.fn.coalesce('secretHash', eb.val(secretHash)),
          trusted: eb.case().when('secretHash', 'is', null).then(0).else(eb.ref('trusted')).end(),
          trustedAt: eb
            .case()
            .when('secretHash', 'is', null)
            .then(eb.val<number | null>(null))
            .else(eb.ref('trustedAt'))
            .end(),
        }))
        .where('userId', '=', sighting.userId)
        .where('id', '=', sighting.id)
        .where((eb) =>
          presentedSecretHash === null
            ? eb('secretHash', 'is', null)
            : eb.or([eb('secretHash', 'is', null), eb('secretHash', '=', presentedSecretHash)]),
        )
        .returningAll()
        .executeTakeFirst();
      if (!updated) return { kind: 'claimed' };
      const device = toDevice(updated);
      return { kind: device.secretHash === presentedSecretHash ? 'recognised' : 'bound', device };
    });
  }

  async findDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const row = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('userId', '=', userId)
      .where('id', '=', deviceId)
      .executeTakeFirst();
    return row && toDevice(row);
  }

  async listDevices(userId: string): Promise<DeviceRecord[]> {
    const rows = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('lastSeenAt', 'desc')
      .execute();
    return rows.map(toDevice);
  }

  async setDeviceTrust(
    userId: string,
    deviceId: string,
    input: { trusted: boolean; idleTimeoutMs: number; log: NewLogEntry },
  ): Promise<DeviceRecord | undefined> {
    const now = input.log.createdAt;
    return this.#transact(async (trx) => {
      const row = await trx
        .updateTable('devices')
        .set({ trusted: input.trusted ? 1 : 0, trustedAt: input.trusted ? now : null })
        .where('userId', '=', userId)
        .where('id', '=', deviceId)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await trx
        .updateTable('sessions')
        .set({ idleTimeoutMs: input.idleTimeoutMs })
        .where('userId', '=', userId)
        .where('deviceId', '=', deviceId)
        .where('endedAt', 'is', null)
        .execute();
      await insertLog(trx, input.log);
      return toDevice(row);
    });
  }

  async forgetDevice(input: ForgetDeviceInput): Promise<SessionRecord[] | undefined> {
    return this.#transact(async (trx) => {
      const deleted = await trx
        .deleteFrom('devices')
        .where('userId', '=', input.userId)
        .where('id', '=', input.deviceId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return undefined;
      const ended = await endMatchingSessions(trx, {
        userId: input.userId,
        deviceId: input.deviceId,
        reason: 'device_forgotten',
        now: input.now,
        log: input.sessionLog,
      });
      await insertLog(trx, input.log);
      return ended;
    });
  }

  async eraseUser(input: EraseUserInput): Promise<SessionRecord[] | undefined> {
    return this.#transact(async (trx) => {
      if (!(await tombstoneUser(trx, input))) return undefined;
      const ended = await endMatchingSessions(trx, {
        userId: input.userId,
        reason: 'user_erased',
        now: input.now,
        log: input.sessionLog,
      });
      await eraseUserRows(trx, input.userId);
      await insertLog(trx, input.log(ended.length));
      return ended;
    });
  }

  async createSession(input: {
    session: SessionRecord;
    refreshToken: { id: string; sessionId: string; tokenHash: string; createdAt: number };
    logs: NewLogEntry[];
  }): Promise<void> {
    await this.#transact(async (trx) => {
      // A sign-in that read the user before an erasure committed must not leave a live session
      // behind. FOR SHARE (PostgreSQL) waits for an erasure holding the row and then reads it as
      // erased; on SQLite, writes run one after another.
      const live = trx
        .selectFrom('users')
        .select('id')
        .where('id', '=', input.session.userId)
        .where('erasedAt', 'is', null);
      const user = await (this.#dialect === 'postgres' ? live.forShare() : live).executeTakeFirst();
      if (!user) throw new UserErasedError('the user has been erased');
      await trx.insertInto('sessions').values(fromSession(input.session)).execute();
      await trx
        .insertInto('refreshTokens')
        .values({
          ...input.refreshToken,
          status: 'active',
          rotatedAt: null,
          successorId: null,
          successorSealed: null,
        })
        .execute();
      for (const log of input.logs) await insertLog(trx, log);
    });
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  async listLiveSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('userId', '=', userId)
      .where('endedAt', 'is', null)
      .where('idleExpiresAt', '>', now)
      .where('expiresAt', '>', now)
      .orderBy('createdAt', 'desc')
      .execute();
    return rows.map(toSession);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('refreshTokens')
      .selectAll()
      .where('tokenHash', '=', tokenHash)
      .executeTakeFirst();
    return row && toRefreshToken(row);
  }

  async rotateRefreshToken(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    // PostgreSQL: the same rules in one stored function, one round trip (decision 038). SQLite
    // runs the units below in-process, where a statement costs no round trip.
    if (this.#dialect === 'postgres') return rotateInOneStatement(this.#db, input);
    const { now } = input;
    try {
      return await this.#transact(async (trx): Promise<RotationOutcome> => {
        const won = await trx
          .updateTable('refreshTokens')
          .set(rotatedTo(input.successor, now))
          .where('tokenHash', '=', input.tokenHash)
          .where('status', '=', 'active')
          .returning(['id', 'sessionId'])
          .executeTakeFirst();
        if (won) return rotateWinner(trx, won, input);
        return classifyLoser(trx, input);
      });
    } catch (error) {
      if (error instanceof Rollback) return error.outcome as RotationOutcome;
      throw error;
    }
  }

  async endSession(input: EndSessionInput): Promise<SessionRecord | undefined> {
    return this.#transact((trx) => endLiveSession(trx, input));
  }

  async endSessions(input: EndSessionsInput): Promise<SessionRecord[]> {
    return this.#transact((trx) => endMatchingSessions(trx, input));
  }

  async endSSOSession(input: EndSSOSessionInput): Promise<SessionRecord[]> {
    return this.#transact(async (trx) => {
      const sso = await endLiveSession(trx, input);
      if (!sso) return [];
      const ended = [sso];
      const authorized = await trx
        .selectFrom('sessions')
        .select('id')
        .where('ssoSessionId', '=', sso.id)
        .where('endedAt', 'is', null)
        .execute();
      for (const { id } of authorized) {
        const session = await endLiveSession(trx, {
          sessionId: id,
          reason: 'sso_session_ended',
          now: input.now,
          log: undefined,
        });
        if (!session) continue;
        await insertLog(trx, input.authorizedLog(session));
        ended.push(session);
      }
      return ended;
    });
  }

  async recordActivity(
    sessionId: string,
    input: { now: number; ip: string | null },
  ): Promise<SessionRecord | undefined> {
    const row = await this.#transact((trx) =>
      trx
        .updateTable('sessions')
        .set((eb) => ({
          lastActivityAt: input.now,
          idleExpiresAt: eb(eb.val(input.now), '+', eb.ref('idleTimeoutMs')),
          ip: input.ip,
        }))
        .where((eb) => liveAt(eb, sessionId, input.now))
        .returningAll()
        .executeTakeFirst(),
    );
    return row && toSession(row);
  }

  async requireStepUp(sessionId: string, log: NewLogEntry): Promise<boolean> {
    return this.#transact(async (trx) => {
      const result = await trx
        .updateTable('sessions')
        .set({ stepUpRequired: 1 })
        .where('id', '=', sessionId)
        .where('endedAt', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await insertLog(trx, log);
      return true;
    });
  }

  async recordStepUp(sessionId: string, input: RecordStepUpInput): Promise<SessionRecord | undefined> {
    const { now } = input;
    return this.#transact(async (trx) => {
      const row = await trx
        .updateTable('sessions')
        .set((eb) => ({
          acr: input.acr,
          authTime: now,
          reauthAt: now,
          reauthFactor: input.factor,
          amr: JSON.stringify(input.amr),
          stepUpRequired: 0,
          lastActivityAt: now,
          idleExpiresAt: eb(eb.val(now), '+', eb.ref('idleTimeoutMs')),
        }))
        .where((eb) => liveAt(eb, sessionId, now))
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await trx
        .updateTable('refreshTokens')
        .set(rotatedTo(input.successor, now))
        .where('sessionId', '=', sessionId)
        .where('status', '=', 'active')
        .execute();
      await insertSuccessor(trx, sessionId, input.successor, now);
      await insertLog(trx, input.log);
      return toSession(row);
    });
  }

  async listEndedSessionsSince(
    since: number,
    limit: number,
    after?: { endedAt: number; id: string },
  ): Promise<SessionRecord[]> {
    let query = this.#db.selectFrom('sessions').selectAll().where('endedAt', '>=', since);
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('endedAt', '>', after.endedAt),
          eb.and([eb('endedAt', '=', after.endedAt), eb('id', '>', after.id)]),
        ]),
      );
    }
    const rows = await query.orderBy('endedAt', 'asc').orderBy('id', 'asc').limit(limit).execute();
    return rows.map(toSession);
  }

  async listTimedOutSessions(now: number, limit: number): Promise<SessionRecord[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('endedAt', 'is', null)
      .where((eb) => eb.or([eb('idleExpiresAt', '<=', now), eb('expiresAt', '<=', now)]))
      .limit(limit)
      .execute();
    return rows.map(toSession);
  }

  async forgetExpiredSuccessors(rotatedBefore: number): Promise<number> {
    const result = await this.#transact((trx) =>
      trx
        .updateTable('refreshTokens')
        .set({ successorSealed: null })
        .where('successorSealed', 'is not', null)
        .where('rotatedAt', '<', rotatedBefore)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows);
  }

  async applyStateOperation(input: ApplyStateOperationInput): Promise<StateOperationOutcome> {
    try {
      return await this.#transact(async (trx) => {
        // Taking the user's next sequence number first locks the user's cursor row until commit:
        // a concurrent operation of the same user (another node, another connection) waits here,
        // then reads the document this one wrote. Reading first would let both apply over the
        // same version and lose one (PostgreSQL's READ COMMITTED; SQLite runs one writer anyway).
        const cursor = await trx
          .insertInto('stateCursors')
          .values({ userId: input.userId, lastSeq: 1 })
          .onConflict((conflict) =>
            conflict.column('userId').doUpdateSet((eb) => ({ lastSeq: eb('stateCursors.lastSeq', '+', 1) })),
          )
          .returning('lastSeq')
          .executeTakeFirstOrThrow();
        const seq = Number(cursor.lastSeq);
        // Anything but an applied operation gives its sequence number back by rolling back.
        const refuse = (outcome: StateOperationOutcome): never => {
          throw new Rollback(outcome);
        };
        const previous = await findStateOperation(trx, input.userId, input.clientOpId);
        if (previous !== undefined) return refuse({ kind: 'duplicate', seq: previous });
        const { document: current, version: previousSeq } = await readDocument(
          trx,
          input.userId,
          input.namespace,
        );
        let document: JSONObject;
        try {
          document = applyStateOperation(current, input.operation);
        } catch (error) {
          if (error instanceof StateOperationError)
            return refuse({ kind: 'rejected', reason: 'invalid_operation', message: error.message });
          throw error;
        }
        const documentBytes = stateDocumentSize(document);
        if (documentBytes > input.maxDocumentBytes) {
          return refuse({
            kind: 'rejected',
            reason: 'state_too_large',
            message: `the ${input.namespace} document would exceed ${input.maxDocumentBytes} bytes`,
          });
        }
        const overQuota = await stateQuotaRefusal(trx, input, { current, next: document, documentBytes });
        if (overQuota !== undefined)
          return refuse({ kind: 'rejected', reason: 'state_quota_exceeded', message: overQuota });
        const serialised = JSON.stringify(document);
        await trx
          .insertInto('stateDocuments')
          .values({
            userId: input.userId,
            namespace: input.namespace,
            document: serialised,
            version: seq,
            updatedAt: input.now,
          })
          .onConflict((conflict) =>
            conflict
              .columns(['userId', 'namespace'])
              .doUpdateSet({ document: serialised, version: seq, updatedAt: input.now }),
          )
          .execute();
        await trx
          .insertInto('stateOperations')
          .values({
            userId: input.userId,
            seq,
            namespace: input.namespace,
            clientOpId: input.clientOpId,
            operation: JSON.stringify(input.operation),
            createdAt: input.now,
          })
          .execute();
        return { kind: 'applied', seq, previousSeq, document };
      });
    } catch (error) {
      if (error instanceof Rollback) return error.outcome as StateOperationOutcome;
      // A replay racing its original past the duplicate check: the log's unique key decides.
      if (!isUniqueViolation(error)) throw error;
      const seq = await findStateOperation(this.#db, input.userId, input.clientOpId);
      if (seq === undefined) throw error;
      return { kind: 'duplicate', seq };
    }
  }

  async readStateDocument(
    userId: string,
    namespace: string,
  ): Promise<{ document: JSONObject; version: number }> {
    return readDocument(this.#db, userId, namespace);
  }

  async catchUpState(input: {
    userId: string;
    namespace: string;
    since: number | undefined;
    limit: number;
  }): Promise<StateCatchUp> {
    const { since } = input;
    const snapshotFrom = async (db: Executor): Promise<StateCatchUp> => {
      const { document, version } = await readDocument(db, input.userId, input.namespace);
      return { kind: 'snapshot', seq: version, document };
    };
    // One read needs no transaction. Otherwise the log is read before the cursor: under
    // PostgreSQL's READ COMMITTED each statement sees its own moment, and a compaction that
    // lands between the two reads then shows in the cursor, so a log it thinned out is never
    // served as complete.
    if (since === undefined) return snapshotFrom(this.#db);
    return this.#transact(async (trx) => {
      const snapshot = () => snapshotFrom(trx);
      const rows = await trx
        .selectFrom('stateOperations')
        .select(['seq', 'namespace', 'clientOpId', 'operation', 'createdAt'])
        .where('userId', '=', input.userId)
        .where('namespace', '=', input.namespace)
        .where('seq', '>', since)
        .orderBy('seq', 'asc')
        .limit(input.limit + 1)
        .execute();
      const cursor = await trx
        .selectFrom('stateCursors')
        .select(['lastSeq', 'compactedSeq'])
        .where('userId', '=', input.userId)
        .executeTakeFirst();
      const lastSeq = cursor ? Number(cursor.lastSeq) : 0;
      const compactedSeq = cursor ? Number(cursor.compactedSeq) : 0;
      // Ahead of the user (a client of another database) or behind what the log still holds.
      if (since > lastSeq || since < compactedSeq) return snapshot();
      if (rows.length > input.limit) return snapshot();
      const operations = rows.map((row) => ({
        seq: Number(row.seq),
        namespace: row.namespace,
        clientOpId: row.clientOpId,
        operation: JSON.parse(row.operation) as StateOperation,
        createdAt: Number(row.createdAt),
      }));
      return { kind: 'operations', seq: operations.at(-1)?.seq ?? since, operations };
    });
  }

  async compactStateOperations(before: number, limit: number): Promise<number> {
    return this.#transact(async (trx) => {
      // Nodes compact one at a time: two batches racing would each raise cursors for rows the
      // other deletes. SQLite has one writer anyway.
      if (this.#dialect === 'postgres') {
        await sql`SELECT pg_advisory_xact_lock(hashtext('sessiond.state_compaction'))`.execute(trx);
      }
      const batch = await trx
        .selectFrom('stateOperations')
        .select(['userId', 'seq'])
        .where('createdAt', '<', before)
        .orderBy('createdAt', 'asc')
        .limit(limit)
        .execute();
      if (batch.length === 0) return 0;
      const highest = new Map<string, number>();
      for (const row of batch)
        highest.set(row.userId, Math.max(highest.get(row.userId) ?? 0, Number(row.seq)));
      // Cursors first, as applyStateOperation takes them (no deadlock with it), and only ever
      // upwards; then the same batch, and of it only rows at or below their user's compacted
      // seq: never a row the cursor does not cover, so catch-up below it is a snapshot.
      const raise = sql.join(
        [...highest].map(
          ([userId, seq]) => sql`WHEN user_id = ${userId} AND compacted_seq < ${seq} THEN ${seq}`,
        ),
        sql` `,
      );
      await trx
        .updateTable('stateCursors')
        .set({ compactedSeq: sql<number>`CASE ${raise} ELSE compacted_seq END` })
        .where('userId', 'in', [...highest.keys()])
        .execute();
      const result = await trx
        .deleteFrom('stateOperations')
        .where(({ eb, refTuple, selectFrom }) =>
          eb(
            refTuple('userId', 'seq'),
            'in',
            selectFrom('stateOperations as o')
              .select(['o.userId', 'o.seq'])
              .where('o.createdAt', '<', before)
              .orderBy('o.createdAt', 'asc')
              .limit(limit)
              .$asTuple('userId', 'seq'),
          ),
        )
        .where((eb) =>
          eb(
            'seq',
            '<=',
            eb
              .selectFrom('stateCursors as c')
              .select('c.compactedSeq')
              .whereRef('c.userId', '=', 'stateOperations.userId'),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async riskHistory(input: {
    userId: string;
    ip: string | null;
    since: number;
    now: number;
  }): Promise<RiskHistory> {
    // The actions are literals, not parameters: only then can either planner prove that the
    // partial indexes of migration 0010 hold the rows asked for.
    const count = async (where: { userId?: string; ip?: string | null; action: LogAction }) => {
      let query = this.#db
        .selectFrom('sessionLogs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', sql.lit(where.action))
        .where('createdAt', '>=', input.since);
      if (where.userId !== undefined) query = query.where('userId', '=', where.userId);
      if (where.ip !== undefined) query = query.where('ip', where.ip === null ? 'is' : '=', where.ip);
      return Number((await query.executeTakeFirstOrThrow()).n);
    };
    const logins = await this.#db
      .selectFrom('sessionLogs')
      .select('ip')
      .where('userId', '=', input.userId)
      .where('action', '=', sql.lit('login'))
      .where('createdAt', '>=', input.since)
      .orderBy('createdAt', 'desc')
      .limit(100)
      .execute();
    const live = await this.#db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('userId', '=', input.userId)
      .where('endedAt', 'is', null)
      .where('idleExpiresAt', '>', input.now)
      .where('expiresAt', '>', input.now)
      .executeTakeFirstOrThrow();
    return {
      failedLoginsForAccount: await count({ userId: input.userId, action: 'login_failed' }),
      failedLoginsFromIP: input.ip === null ? 0 : await count({ ip: input.ip, action: 'login_failed' }),
      recentLoginIPs: logins.map((row) => row.ip),
      liveSessions: Number(live.n),
      refreshTokenReuses: await count({ userId: input.userId, action: 'refresh_reuse_detected' }),
    };
  }

  async countLiveSessions(now: number): Promise<number> {
    // sessions_live_idle_idx (ended_at, idle_expires_at) serves this without reading every row.
    const row = await this.#db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('endedAt', 'is', null)
      .where('idleExpiresAt', '>', now)
      .where('expiresAt', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async startTOTPEnrolment(userId: string, pendingSealed: string): Promise<void> {
    await this.#transact((trx) =>
      trx.updateTable('users').set({ totpPendingSealed: pendingSealed }).where('id', '=', userId).execute(),
    );
  }

  async confirmTOTPEnrolment(
    userId: string,
    input: { pendingSealed: string; now: number; log: NewLogEntry },
  ): Promise<{ replaced: boolean } | undefined> {
    return this.#transact(async (trx) => {
      const before = await trx
        .selectFrom('users')
        .select(['totpEnabledAt', 'totpPendingSealed'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (!before || before.totpPendingSealed !== input.pendingSealed) return undefined;
      const result = await trx
        .updateTable('users')
        .set({ totpSecretSealed: input.pendingSealed, totpPendingSealed: null, totpEnabledAt: input.now })
        .where('id', '=', userId)
        .where('totpPendingSealed', '=', input.pendingSealed)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      await insertLog(trx, input.log);
      return { replaced: before.totpEnabledAt !== null };
    });
  }

  async removeTOTP(userId: string, log: NewLogEntry): Promise<boolean> {
    return this.#transact(async (trx) => {
      const result = await trx
        .updateTable('users')
        .set({ totpSecretSealed: null, totpPendingSealed: null, totpEnabledAt: null })
        .where('id', '=', userId)
        .where('totpEnabledAt', 'is not', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await insertLog(trx, log);
      return true;
    });
  }

  async useTOTPStep(userId: string, step: number): Promise<boolean> {
    const result = await this.#transact((trx) =>
      trx
        .updateTable('users')
        .set({ totpLastStep: step })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('totpLastStep', 'is', null), eb('totpLastStep', '<', step)]))
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async appendLog(entry: NewLogEntry): Promise<void> {
    await this.#transact((trx) => insertLog(trx, entry));
  }

  async listLogs(query: { userId: string; limit: number; beforeId?: number }): Promise<LogRecord[]> {
    let select = this.#db.selectFrom('sessionLogs').selectAll().where('userId', '=', query.userId);
    if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
    const rows = await select.orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toLog);
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signingKeys').selectAll().orderBy('createdAt', 'asc').execute();
    return rows.map(toSigningKey);
  }

  async addSigningKey(
    key: SigningKeyRecord,
    options: { unlessOneIsActive?: boolean } = {},
  ): Promise<boolean> {
    return this.#transact(async (trx) => {
      // Two nodes rotating at once (or starting for the first time at once) would each retire
      // what they see and add their own key: two active keys, each node signing with one the
      // other does not know yet. PostgreSQL serialises them here; SQLite has one writer anyway.
      if (this.#dialect === 'postgres') {
        await sql`SELECT pg_advisory_xact_lock(hashtext('sessiond.signing_keys'))`.execute(trx);
      }
      if (options.unlessOneIsActive) {
        const active = await trx
          .selectFrom('signingKeys')
          .select('kid')
          .where('retiredAt', 'is', null)
          .executeTakeFirst();
        if (active) return false;
      }
      await trx
        .updateTable('signingKeys')
        .set({ retiredAt: key.createdAt })
        .where('retiredAt', 'is', null)
        .execute();
      await trx
        .insertInto('signingKeys')
        .values({
          kid: key.kid,
          alg: key.alg,
          publicJwk: key.publicJWK,
          privateKeySealed: key.privateKeySealed,
          createdAt: key.createdAt,
          retiredAt: key.retiredAt,
        })
        .execute();
      return true;
    });
  }

  async ping(): Promise<void> {
    await this.#db.selectFrom('users').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }
}

async function readDocument(
  db: Executor,
  userId: string,
  namespace: string,
): Promise<{ document: JSONObject; version: number }> {
  const row = await db
    .selectFrom('stateDocuments')
    .select(['document', 'version'])
    .where('userId', '=', userId)
    .where('namespace', '=', namespace)
    .executeTakeFirst();
  return row
    ? { document: JSON.parse(row.document) as JSONObject, version: Number(row.version) }
    : { document: {}, version: 0 };
}

// --- state quotas (issue 12) ------------------------------------------------------------

/**
 * Why the user's quota refuses turning `current` into `next` (of `documentBytes`) in the
 * input's namespace, or undefined. Called inside applyStateOperation's transaction after the
 * user's cursor row was taken (a row lock until commit on PostgreSQL; one writer on SQLite), so
 * it sees every earlier operation of the user and no concurrent one: two operations cannot pass
 * the quota together. Empty documents count for nothing, so emptying one frees its namespace.
 */
async function stateQuotaRefusal(
  db: Executor,
  input: ApplyStateOperationInput,
  change: { current: JSONObject; next: JSONObject; documentBytes: number },
): Promise<string | undefined> {
  const quota = input.userQuota;
  if (quota === undefined || isEmptyDocument(change.next)) return undefined;
  const others = await db
    .selectFrom('stateDocuments')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('namespaces'),
      // Stored documents are their JSON text: octet_length is stateDocumentSize, in SQL.
      eb.fn.sum<number | string | null>(sql`octet_length(${sql.ref('document')})`).as('bytes'),
    ])
    .where('userId', '=', input.userId)
    .where('namespace', '<>', input.namespace)
    .where('document', '<>', '{}')
    .executeTakeFirstOrThrow();
  if (isEmptyDocument(change.current) && Number(others.namespaces) >= quota.maxNamespaces)
    return `at most ${quota.maxNamespaces} state namespaces may hold data; empty one first`;
  const total = Number(others.bytes ?? 0) + change.documentBytes;
  // Growth only: an operation that shrinks the document goes through even over the quota.
  if (total > quota.maxBytes && change.documentBytes > stateDocumentSize(change.current))
    return `the user's state would exceed ${quota.maxBytes} bytes across namespaces`;
  return undefined;
}

function isEmptyDocument(document: JSONObject): boolean {
  return Object.keys(document).length === 0;
}

async function findStateOperation(
  db: Executor,
  userId: string,
  clientOpId: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('stateOperations')
    .select('seq')
    .where('userId', '=', userId)
    .where('clientOpId', '=', clientOpId)
    .executeTakeFirst();
  return row ? Number(row.seq) : undefined;
}

async function insertLog(db: Executor, entry: NewLogEntry): Promise<void> {
  await db.insertInto('sessionLogs').values(fromLogEntry(entry)).execute();
}

/** The update that retires a refresh token in favour of `successor` (sealed for the grace window). */
function rotatedTo(successor: { id: string; sealed: string }, now: number) {
  return {
    status: 'rotated',
    rotatedAt: now,
    successorId: successor.id,
    successorSealed: successor.sealed,
  } as const;
}

/** Not ended, and neither deadline reached at `now`. */
function liveAt(eb: ExpressionBuilder<Database, 'sessions'>, sessionId: string, now: number) {
  return eb.and([
    eb('id', '=', sessionId),
    eb('endedAt', 'is', null),
    eb('idleExpiresAt', '>', now),
    eb('expiresAt', '>', now),
  ]);
}

async function insertSuccessor(
  trx: Transaction<Database>,
  sessionId: string,
  successor: { id: string; tokenHash: string },
  now: number,
): Promise<void> {
  await trx
    .insertInto('refreshTokens')
    .values({
      id: successor.id,
      sessionId,
      tokenHash: successor.tokenHash,
      status: 'active',
      createdAt: now,
      rotatedAt: null,
      successorId: null,
      successorSealed: null,
    })
    .execute();
}

async function rotateWinner(
  trx: Transaction<Database>,
  won: { id: string; sessionId: string },
  input: RotateRefreshTokenInput,
): Promise<RotationOutcome> {
  const { now } = input;
  const previous = await trx
    .selectFrom('sessions')
    .select(['ip', 'userAgent'])
    .where('id', '=', won.sessionId)
    .executeTakeFirstOrThrow();
  // Only a session that is live right now may slide; a timed-out one is reported, not revived.
  const slid = await trx
    .updateTable('sessions')
    .set((eb) => ({
      lastActivityAt: now,
      idleExpiresAt: eb(eb.val(now), '+', eb.ref('idleTimeoutMs')),
      ip: input.ip,
      userAgent: input.userAgent,
      refreshCount: eb('refreshCount', '+', 1),
    }))
    .where((eb) => liveAt(eb, won.sessionId, now))
    .returningAll()
    .executeTakeFirst();
  if (!slid) {
    const row = await trx
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', won.sessionId)
      .executeTakeFirstOrThrow();
    throw new Rollback<RotationOutcome>({ kind: 'session_ended', session: toSession(row) });
  }
  const session = toSession(slid);
  await insertSuccessor(trx, session.id, input.successor, now);
  await insertLog(trx, refreshLog(session, input, { success: true }));
  return { kind: 'rotated', session, previous };
}

async function classifyLoser(
  trx: Transaction<Database>,
  input: RotateRefreshTokenInput,
): Promise<RotationOutcome> {
  const { now } = input;
  const tokenRow = await trx
    .selectFrom('refreshTokens')
    .selectAll()
    .where('tokenHash', '=', input.tokenHash)
    .executeTakeFirst();
  if (!tokenRow) return { kind: 'not_found' };
  const token = toRefreshToken(tokenRow);
  const sessionRow = await trx
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', token.sessionId)
    .executeTakeFirst();
  if (!sessionRow) return { kind: 'not_found' };
  const session = toSession(sessionRow);
  if (session.endedAt !== null || token.status === 'revoked') return { kind: 'session_ended', session };
  // A session past a deadline is over whatever token comes back; the caller marks it expired.
  if (session.idleExpiresAt <= now || session.expiresAt <= now) return { kind: 'session_ended', session };

  const inGrace = token.rotatedAt !== null && now - token.rotatedAt < input.graceMs;
  if (inGrace && token.successorSealed && token.successorId) {
    const successor = await trx
      .selectFrom('refreshTokens')
      .select('status')
      .where('id', '=', token.successorId)
      .executeTakeFirst();
    if (successor?.status === 'active') {
      await insertLog(trx, refreshLog(session, input, { success: true, detail: { grace: true } }));
      return { kind: 'grace', session, successorSealed: token.successorSealed };
    }
  }

  // Reuse is theft: a replaced token came back outside the one honest case. Revoke the whole
  // session (every generation of its refresh token) and record it, in this transaction.
  const ended = await endLiveSession(trx, {
    sessionId: session.id,
    reason: 'refresh_token_reused',
    now,
    log: {
      ...refreshLog(session, input, { success: false }),
      action: 'refresh_reuse_detected',
      error: 'refresh_token_reused',
      actor: 'system',
      detail: { rotated_at: token.rotatedAt, grace_ms: input.graceMs },
    },
  });
  return { kind: 'reused', session: ended ?? session };
}

function refreshLog(
  session: SessionRecord,
  input: RotateRefreshTokenInput,
  outcome: { success: boolean; detail?: Record<string, unknown> },
): NewLogEntry {
  return {
    action: 'refresh',
    success: outcome.success,
    userId: session.userId,
    sessionId: session.id,
    deviceId: session.deviceId,
    ip: input.ip,
    userAgent: input.userAgent,
    detail: outcome.detail ?? null,
    createdAt: input.now,
  };
}

/** endLiveSession for every live session of a user that matches the filters. */
async function endMatchingSessions(
  trx: Transaction<Database>,
  input: EndSessionsInput,
): Promise<SessionRecord[]> {
  let query = trx
    .selectFrom('sessions')
    .select('id')
    .where('userId', '=', input.userId)
    .where('endedAt', 'is', null);
  if (input.exceptSessionId) query = query.where('id', '!=', input.exceptSessionId);
  if (input.deviceId) query = query.where('deviceId', '=', input.deviceId);
  const ended: SessionRecord[] = [];
  for (const { id } of await query.execute()) {
    const session = await endLiveSession(trx, {
      sessionId: id,
      reason: input.reason,
      now: input.now,
      log: undefined,
    });
    if (!session) continue;
    await insertLog(trx, input.log(session));
    ended.push(session);
  }
  return ended;
}

async function endLiveSession(
  trx: Transaction<Database>,
  input: Omit<EndSessionInput, 'log'> & { log: NewLogEntry | undefined },
): Promise<SessionRecord | undefined> {
  const row = await trx
    .updateTable('sessions')
    .set({ endedAt: input.now, endReason: input.reason })
    .where('id', '=', input.sessionId)
    .where('endedAt', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  await trx
    .updateTable('refreshTokens')
    .set({ status: 'revoked', successorSealed: null })
    .where('sessionId', '=', input.sessionId)
    .where('status', '!=', 'revoked')
    .execute();
  if (input.log) await insertLog(trx, input.log);
  return toSession(row);
}

/** SQLite reports SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; PostgreSQL reports SQLSTATE 23505. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
