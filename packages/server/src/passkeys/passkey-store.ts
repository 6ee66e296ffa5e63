import type { NewLogEntry } from '../store/records.js';
import { fromLogEntry } from '../store/row-mappers.js';
import type { Database } from '../store/schema.js';
import type { StoreDatabase } from '../store/transact.js';

/** A registered WebAuthn credential (migration 0011). Times are epoch milliseconds. */
export interface PasskeyRecord {
  /** The credential id, base64url; unique across all users. */
  id: string;
  userId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter as last seen (0: it keeps none). */
  counter: number;
  transports: string[];
  aaguid: string | null;
  /** `singleDevice` or `multiDevice` (a synced passkey). */
  deviceType: string;
  backedUp: boolean;
  name: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What a successful assertion changes on its passkey. */
export interface PasskeyUse {
  counter: number;
  backedUp: boolean;
  now: number;
}

const num = (value: number | string): number => Number(value);

/**
 * The `passkeys` table. Each write is one statement or one transaction with its audit row, so
 * the change and its log row commit together (or neither does), on SQLite and PostgreSQL alike.
 */
export class PasskeyStore {
  constructor(private readonly database: StoreDatabase) {}

  async find(id: string): Promise<PasskeyRecord | undefined> {
    const row = await this.database.db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toPasskey(row) : undefined;
  }

  /** The user's passkeys, oldest first. */
  async listForUser(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.database.db
      .selectFrom('passkeys')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('createdAt')
      .orderBy('id')
      .execute();
    return rows.map(toPasskey);
  }

  async hasAny(userId: string): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('passkeys')
      .select('id')
      .where('userId', '=', userId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Stores a new passkey with its audit row. False (nothing written) if a passkey with that
   * credential id exists, whoever's it is: the primary key decides, so of two concurrent
   * registrations of one credential exactly one is stored.
   */
  async add(passkey: PasskeyRecord, log: NewLogEntry): Promise<boolean> {
    return this.database.transact(async (trx) => {
      const inserted = await trx
        .insertInto('passkeys')
        .values(fromPasskey(passkey))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await trx.insertInto('sessionLogs').values(fromLogEntry(log)).execute();
      return true;
    });
  }

  /** Removes one of the user's passkeys with its audit row; false if the user has no such passkey. */
  async remove(userId: string, id: string, log: NewLogEntry): Promise<boolean> {
    return this.database.transact(async (trx) => {
      const deleted = await trx
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('userId', '=', userId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await trx.insertInto('sessionLogs').values(fromLogEntry(log)).execute();
      return true;
    });
  }

  /**
   * Records a verified assertion: compare-and-set on the counter, so the new counter is stored
   * only if it is still above the stored one (or both are 0: an authenticator that keeps no
   * counter). False when it is not: the counter went back or stood still, or a concurrent use got
   * there first with a higher one.
   */
  async recordUse(id: string, use: PasskeyUse): Promise<boolean> {
    const updated = await this.database.transact((trx) =>
      trx
        .updateTable('passkeys')
        .set({ counter: use.counter, backedUp: use.backedUp ? 1 : 0, lastUsedAt: use.now })
        .where('id', '=', id)
        .where((eb) => (use.counter === 0 ? eb('counter', '=', 0) : eb('counter', '<', use.counter)))
        .executeTakeFirst(),
    );
    return Number(updated.numUpdatedRows) > 0;
  }
}

function fromPasskey(passkey: PasskeyRecord): Database['passkeys'] {
  return {
    id: passkey.id,
    userId: passkey.userId,
    publicKey: passkey.publicKey,
    counter: passkey.counter,
    transports: JSON.stringify(passkey.transports),
    aaguid: passkey.aaguid,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp ? 1 : 0,
    name: passkey.name,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt,
  };
}

function toPasskey(row: {
  id: string;
  userId: string;
  publicKey: string;
  counter: number | string;
  transports: string | null;
  aaguid: string | null;
  deviceType: string;
  backedUp: number | string;
  name: string | null;
  createdAt: number | string;
  lastUsedAt: number | string | null;
}): PasskeyRecord {
  return {
    id: row.id,
    userId: row.userId,
    publicKey: row.publicKey,
    counter: num(row.counter),
    transports: row.transports ? (JSON.parse(row.transports) as string[]) : [],
    aaguid: row.aaguid,
    deviceType: row.deviceType,
    backedUp: num(row.backedUp) === 1,
    name: row.name,
    createdAt: num(row.createdAt),
    lastUsedAt: row.lastUsedAt === null ? null : num(row.lastUsedAt),
  };
}
