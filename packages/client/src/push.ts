import type { SessiondCall } from './passkeys.js';

/** The notification kinds sessiond pushes (decision 037). */
export type PushKind = 'cart_reminder' | 'new_sign_in' | 'refresh_token_reused';

/** The user's opt-out as the server keeps it. */
export interface PushPreferences {
  enabled: boolean;
  kinds: Record<PushKind, boolean>;
}

/** A subscription as `PushSubscription.toJSON()` gives it. */
export interface PushSubscriptionJSONLike {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

/** The part of a browser PushSubscription the helper uses. */
export interface PushSubscriptionLike {
  readonly options?: { readonly applicationServerKey: ArrayBuffer | null };
  toJSON(): PushSubscriptionJSONLike;
  unsubscribe(): Promise<boolean>;
}

/** The part of a ServiceWorkerRegistration the helper uses: its `pushManager`. */
export interface PushRegistrationLike {
  readonly pushManager: {
    getSubscription(): Promise<PushSubscriptionLike | null>;
    subscribe(options: {
      userVisibleOnly: boolean;
      applicationServerKey: Uint8Array;
    }): Promise<PushSubscriptionLike>;
  };
}

/** `client.push`: this device's Web Push subscription and the user's opt-out. */
export interface PushControls {
  /** sessiond's VAPID public key (base64url), the `applicationServerKey` to subscribe with. */
  vapidKey(): Promise<string>;
  /**
   * Subscribes the service worker's registration with sessiond's key (the browser asks for the
   * notification permission if it was not granted) and registers it as this device's
   * subscription, replacing any earlier one. A subscription made with another key is replaced.
   */
  subscribe(registration: PushRegistrationLike): Promise<PushSubscriptionJSONLike>;
  /** Removes this device's subscription at sessiond, and in the browser when given the registration. */
  unsubscribe(registration?: PushRegistrationLike): Promise<boolean>;
  /** Turns every kind on or off (`true`/`false`), or the kinds named. */
  setEnabled(enabled: boolean | Partial<Record<PushKind, boolean>>): Promise<PushPreferences>;
  /** Whether this device is subscribed, and the user's preferences. */
  status(): Promise<{ subscribed: boolean; preferences: PushPreferences }>;
}

export function pushControls(call: SessiondCall): PushControls {
  const vapidKey = async (): Promise<string> =>
    (await call<{ public_key: string }>('/api/auth/push/vapid-key', { method: 'GET' })).public_key;
  return {
    vapidKey,
    async subscribe(registration) {
      const key = base64urlBytes(await vapidKey());
      let subscription = await registration.pushManager.getSubscription();
      const current = subscription?.options?.applicationServerKey;
      if (subscription && current && !sameBytes(new Uint8Array(current), key)) {
        // Subscribed with another server's key: a push signed with ours would be refused.
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription ??= await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key,
      });
      const json = subscription.toJSON();
      await call('/api/auth/push/subscription', { method: 'POST', body: json });
      return json;
    },
    async unsubscribe(registration) {
      const answer = await call<{ deleted: boolean }>('/api/auth/push/subscription', { method: 'DELETE' });
      const subscription = await registration?.pushManager.getSubscription();
      await subscription?.unsubscribe();
      return answer.deleted;
    },
    async setEnabled(enabled) {
      const body = typeof enabled === 'boolean' ? { enabled } : { kinds: enabled };
      const answer = await call<{ preferences: PushPreferences }>('/api/auth/push/preferences', {
        method: 'PUT',
        body,
      });
      return answer.preferences;
    },
    async status() {
      return call<{ subscribed: boolean; preferences: PushPreferences }>('/api/auth/push/subscription', {
        method: 'GET',
      });
    },
  };
}

function base64urlBytes(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
