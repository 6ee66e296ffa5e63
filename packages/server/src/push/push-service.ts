import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { PushConfig } from '../config.js';
import { SessiondError } from '../errors.js';
import { PUSH_KINDS, type PushKind, type PushPreferences, type PushStore } from './push-store.js';
import { type PushSubscriptionBody, pushTargetOf, subscriptionProblem } from './push-subscription-input.js';
import type { VAPIDKeys } from './vapid-keys.js';

/** A preferences change: `enabled` for every kind, `kinds` per kind; what is not named stays. */
export interface PreferencesChange {
  enabled?: boolean;
  kinds?: Partial<Record<PushKind, boolean>>;
}

/** The signed-in user's side of Web Push: the key to subscribe with, subscriptions, opt-out. */
export class PushService {
  constructor(
    private readonly deps: {
      keys: VAPIDKeys;
      pushes: PushStore;
      clock: Clock;
      config: Pick<PushConfig, 'allowHTTPEndpoints'>;
    },
  ) {}

  get vapidPublicKey(): string {
    return this.deps.keys.publicKey;
  }

  /** Makes `body` the subscription of this device (replacing its previous one). */
  async subscribe(
    owner: { userId: string; deviceId: string },
    body: z.infer<typeof PushSubscriptionBody>,
  ): Promise<{ createdAt: number }> {
    const problem = subscriptionProblem(body, { allowHTTP: this.deps.config.allowHTTPEndpoints });
    if (problem) throw new SessiondError('invalid_request', problem);
    const now = this.deps.clock.now();
    await this.deps.pushes.save({ ...owner, target: pushTargetOf(body), now });
    return { createdAt: now };
  }

  unsubscribe(owner: { userId: string; deviceId: string }): Promise<boolean> {
    return this.deps.pushes.remove(owner.userId, owner.deviceId);
  }

  /** The device has a subscription, and the user's preferences. */
  async status(owner: { userId: string; deviceId: string }): Promise<{
    subscribed: boolean;
    preferences: PushPreferences;
  }> {
    const [subscription, preferences] = await Promise.all([
      this.deps.pushes.find(owner.userId, owner.deviceId),
      this.deps.pushes.preferences(owner.userId),
    ]);
    return { subscribed: subscription !== undefined, preferences };
  }

  async setPreferences(userId: string, change: PreferencesChange): Promise<PushPreferences> {
    const current = await this.deps.pushes.preferences(userId);
    const disabled = new Set(current.disabled);
    for (const kind of PUSH_KINDS) {
      const on = change.kinds?.[kind];
      if (on === true) disabled.delete(kind);
      if (on === false) disabled.add(kind);
    }
    const next: PushPreferences = {
      enabled: change.enabled ?? current.enabled,
      disabled: [...disabled].sort(),
    };
    await this.deps.pushes.setPreferences(userId, next, this.deps.clock.now());
    return next;
  }
}

/** Preferences on the wire: `{enabled, kinds: {cart_reminder: true, ...}}`. */
export function preferencesView(preferences: PushPreferences): {
  enabled: boolean;
  kinds: Record<PushKind, boolean>;
} {
  const kinds = Object.fromEntries(PUSH_KINDS.map((kind) => [kind, !preferences.disabled.includes(kind)]));
  return { enabled: preferences.enabled, kinds: kinds as Record<PushKind, boolean> };
}
