import type { SecretBox } from '../lib/crypto.js';
import { sha256 } from '../lib/crypto.js';
import type { StoreDatabase } from '../store/transact.js';
import type { PushTarget } from './push-subscription-input.js';

/** The kinds of notification sessiond pushes; each can be turned off per user. */
export const PUSH_KINDS = ['cart_reminder', 'new_sign_in', 'refresh_token_reused'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

/** A user's opt-out: `enabled` false silences every kind; `disabled` lists kinds turned off. */
export interface PushPreferences {
  enabled: boolean;
  disabled: readonly PushKind[];
}

/** One device's subscription, opened. */
export interface StoredSubscription extends PushTarget {
  userId: string;
  deviceId: string;
  endpointHash: string;
  createdAt: number;
}

const DEFAULT_PREFERENCES: PushPreferences = Object.freeze({ enabled: true, disabled: Object.freeze([]) });

/**
 * Push subscriptions (one per device of a user, sealed: the endpoint and keys let anyone push to
 * that browser) and the users' preferences (migration 0015). Each write is one transaction.
 */
export class PushStore {
  constructor(
    private readonly database: StoreDatabase,
    private readonly box: SecretBox,
  ) {}

  /**
   * Makes `target` the subscription of the user's device, replacing the device's previous one,
   * and takes the endpoint from whichever other user or device held it (a browser signed in as
   * someone else since): one endpoint, one owner, so nobody is pushed another's notifications.
   */
  async save(input: { userId: string; deviceId: string; target: PushTarget; now: number }): Promise<void> {
    const endpointHash = sha256(input.target.endpoint);
    await this.database.transact(async (trx) => {
      await trx.deleteFrom('pushSubscriptions').where('endpointHash', '=', endpointHash).execute();
      await trx
        .deleteFrom('pushSubscriptions')
        .where('userId', '=', input.userId)
        .where('deviceId', '=', input.deviceId)
        .execute();
      await trx
        .insertInto('pushSubscriptions')
        .values({
          userId: input.userId,
          deviceId: input.deviceId,
          endpointHash,
          subscriptionSealed: this.box.seal(JSON.stringify(input.target)),
          createdAt: input.now,
        })
        .execute();
    });
  }

  /** Removes the device's subscription; true if there was one. */
  async remove(userId: string, deviceId: string): Promise<boolean> {
    const result = await this.database.transact((trx) =>
      trx
        .deleteFrom('pushSubscriptions')
        .where('userId', '=', userId)
        .where('deviceId', '=', deviceId)
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Drops a subscription the push service says is gone (404/410, RFC 8030 §7.3), only if it is
   * still the one that answered: a device that re-subscribed meanwhile keeps its new one.
   */
  async dropExpired(
    subscription: Pick<StoredSubscription, 'userId' | 'deviceId' | 'endpointHash'>,
  ): Promise<void> {
    await this.database.transact((trx) =>
      trx
        .deleteFrom('pushSubscriptions')
        .where('userId', '=', subscription.userId)
        .where('deviceId', '=', subscription.deviceId)
        .where('endpointHash', '=', subscription.endpointHash)
        .execute(),
    );
  }

  async find(userId: string, deviceId: string): Promise<StoredSubscription | undefined> {
    const row = await this.database.db
      .selectFrom('pushSubscriptions')
      .selectAll()
      .where('userId', '=', userId)
      .where('deviceId', '=', deviceId)
      .executeTakeFirst();
    return row && this.#open(row);
  }

  async listForUser(userId: string): Promise<StoredSubscription[]> {
    const rows = await this.database.db
      .selectFrom('pushSubscriptions')
      .selectAll()
      .where('userId', '=', userId)
      .orderBy('deviceId')
      .execute();
    return rows.map((row) => this.#open(row));
  }

  async preferences(userId: string): Promise<PushPreferences> {
    const row = await this.database.db
      .selectFrom('pushPreferences')
      .select(['enabled', 'disabledKinds'])
      .where('userId', '=', userId)
      .executeTakeFirst();
    if (!row) return DEFAULT_PREFERENCES;
    const disabled = (JSON.parse(row.disabledKinds) as string[]).filter((kind): kind is PushKind =>
      (PUSH_KINDS as readonly string[]).includes(kind),
    );
    return { enabled: Number(row.enabled) === 1, disabled };
  }

  async setPreferences(userId: string, preferences: PushPreferences, now: number): Promise<void> {
    const values = {
      enabled: preferences.enabled ? 1 : 0,
      disabledKinds: JSON.stringify([...new Set(preferences.disabled)].sort()),
      updatedAt: now,
    };
    await this.database.transact((trx) =>
      trx
        .insertInto('pushPreferences')
        .values({ userId, ...values })
        .onConflict((conflict) => conflict.column('userId').doUpdateSet(values))
        .execute(),
    );
  }

  #open(row: {
    userId: string;
    deviceId: string;
    endpointHash: string;
    subscriptionSealed: string;
    createdAt: number;
  }): StoredSubscription {
    const target = JSON.parse(this.box.open(row.subscriptionSealed)) as PushTarget;
    return {
      userId: row.userId,
      deviceId: row.deviceId,
      endpointHash: row.endpointHash,
      createdAt: Number(row.createdAt),
      endpoint: target.endpoint,
      p256dh: target.p256dh,
      auth: target.auth,
    };
  }
}
