import type { LogAction } from '@sessiond/protocol';
import type { PushConfig } from '../config.js';
import type { DeviceRecord, LogRecord } from '../store/records.js';
import type { PushKind } from './push-store.js';

/** The audit actions that may become a push (decision 037). */
export const PUSH_LOG_ACTIONS = [
  'session_expired',
  'new_device_login',
  'refresh_reuse_detected',
] as const satisfies readonly LogAction[];

/**
 * What the service worker receives, decrypted (the `sessiond-push` payload): it shows `title` and
 * `body` and opens `url` on a click. No token, id or address: the push service and the lock screen
 * see nothing that signs anyone in, and the page at `url` asks for sign-in itself.
 */
export interface PushPayload {
  v: 1;
  kind: PushKind;
  title: string;
  body: string;
  /** The app page to open, or null (the service worker opens its scope). */
  url: string | null;
  /** Same tag, one notification: a newer one replaces it on screen. */
  tag: string;
  /** ISO time of the event. */
  at: string;
}

/** A push owed for one log row: to whom, and with what delivery hints (RFC 8030 §5.2, §5.3). */
export interface PushMessage {
  /** `push_<log row id>`: the same on every attempt. */
  id: string;
  type: PushKind;
  userId: string;
  /** Push to this device only, or to every device of the user but `exceptDeviceId`. */
  audience: { only: string } | { exceptDeviceId: string | null };
  payload: PushPayload;
  /** Seconds the push service keeps the message for an offline browser. */
  ttlSeconds: number;
  urgency: 'normal' | 'high';
  /** RFC 8030 §5.4: a redelivery of the same row replaces one still queued at the push service. */
  topic: string;
}

/** The kind of push a log row is, if any. */
export function pushKindFor(row: LogRecord): PushKind | undefined {
  if (row.userId === null) return undefined;
  switch (row.action) {
    case 'session_expired':
      return row.detail?.reason === 'idle_timeout' ? 'cart_reminder' : undefined;
    case 'new_device_login':
      return 'new_sign_in';
    case 'refresh_reuse_detected':
      return 'refresh_token_reused';
    default:
      return undefined;
  }
}

/** How a device is named in a notification: its name, else browser and system, else a fallback. */
export function deviceLabel(device: DeviceRecord | undefined): string {
  if (!device) return 'a new device';
  if (device.name) return device.name;
  const parts = [device.browser, device.os].filter((part): part is string => Boolean(part));
  if (parts.length === 2) return `${parts[0]} on ${parts[1]}`;
  return parts[0] ?? device.platform ?? 'a new device';
}

/** The message for a row of a known kind. `device` is the row's device (the new one, the reuser). */
export function pushMessageFor(
  row: LogRecord & { userId: string },
  kind: PushKind,
  device: DeviceRecord | undefined,
  config: Pick<PushConfig, 'sessionsURL' | 'cartURL'>,
): PushMessage {
  const at = new Date(row.createdAt).toISOString();
  const base = { id: `push_${row.id}`, type: kind, userId: row.userId, topic: `r${row.id}` };
  switch (kind) {
    case 'cart_reminder':
      return {
        ...base,
        // The device whose session ran out is where the cart was being filled.
        audience: { only: row.deviceId ?? '' },
        payload: {
          v: 1,
          kind,
          title: 'Your cart is waiting',
          body: 'You left items in your cart. Sign in again to pick up where you left off.',
          url: config.cartURL ?? null,
          tag: 'sessiond-cart',
          at,
        },
        ttlSeconds: 24 * 3600,
        urgency: 'normal',
      };
    case 'new_sign_in':
      return {
        ...base,
        // The new device is the one to ask about, not to ask.
        audience: { exceptDeviceId: row.deviceId },
        payload: {
          v: 1,
          kind,
          title: `New sign-in on ${deviceLabel(device)} — was this you?`,
          body: 'If it was not you, open your sessions and sign that one out.',
          url: config.sessionsURL ?? null,
          tag: `sessiond-sign-in-${row.id}`,
          at,
        },
        ttlSeconds: 12 * 3600,
        urgency: 'high',
      };
    case 'refresh_token_reused':
      return {
        ...base,
        // The session is already revoked; every device hears it, the one that was signed out too.
        audience: { exceptDeviceId: null },
        payload: {
          v: 1,
          kind,
          title: 'A session of yours was signed out for safety',
          body: `An old sign-in token was used again on ${deviceLabel(device)}. Check your sessions.`,
          url: config.sessionsURL ?? null,
          tag: `sessiond-reuse-${row.id}`,
          at,
        },
        ttlSeconds: 12 * 3600,
        urgency: 'high',
      };
  }
}
