import type { EventName } from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import type { PushConfig } from '../config.js';
import type { RateCounters } from '../ratelimit/rate-counters.js';
import type { LogRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { MessageKind, OutboxChannel, OutboxLog } from '../webhooks/outbox-dispatcher.js';
import type { DeliveryResult } from '../webhooks/webhook-sender.js';
import { PUSH_LOG_ACTIONS, type PushMessage, pushKindFor, pushMessageFor } from './push-notifications.js';
import type { PushSender } from './push-sender.js';
import type { PushStore, StoredSubscription } from './push-store.js';

/** The outbox cursor of Web Push: one for all users (decision 037). */
export const PUSH_CURSOR_KEY = 'web_push';

const WAKING_EVENTS: readonly EventName[] = ['session.expired', 'device.new', 'refresh_token.reused'];

/** Pushes as the outbox dispatcher carries them. */
export const PUSH_KIND: MessageKind = {
  noun: 'push',
  idField: 'push_id',
  actions: PUSH_LOG_ACTIONS,
  wakingEvents: WAKING_EVENTS,
};

const HOUR_MS = 3_600_000;

/** What the message of the head row still owes: the outbox retries one message at a time. */
interface HeadState {
  id: string;
  /** Device ids not yet delivered to. */
  remaining: Set<string>;
  attempts: number;
}

export interface PushChannelDeps {
  pushes: PushStore;
  store: Pick<SessionStore, 'findDevice'>;
  cartHasItems(userId: string): Promise<boolean>;
  sender: PushSender;
  counters: RateCounters;
  clock: Clock;
  config: Pick<PushConfig, 'limitPerHour' | 'maxAttempts' | 'sessionsURL' | 'cartURL'>;
  log: OutboxLog;
}

/**
 * Web Push on the audit-log outbox: a row of a push kind becomes a message when the user has a
 * subscription it is for, has not turned the kind off, and (for a cart reminder) still has items
 * in the cart, all read when the row is handled. Sending counts the message against the user's
 * hourly limit once, then pushes to each subscription: 2xx delivered, 404/410 drops the
 * subscription, a permanent refusal is given up; other failures make the outbox retry the rest
 * with backoff, up to `maxAttempts`, after which the message is given up so one broken push
 * service cannot stop everyone's notifications for long.
 */
export function pushChannel(deps: PushChannelDeps): OutboxChannel<PushMessage> {
  let head: HeadState | undefined;

  const targetsOf = async (message: PushMessage): Promise<StoredSubscription[]> => {
    const { audience } = message;
    if ('only' in audience) {
      const one = await deps.pushes.find(message.userId, audience.only);
      return one ? [one] : [];
    }
    const all = await deps.pushes.listForUser(message.userId);
    return all.filter((subscription) => subscription.deviceId !== audience.exceptDeviceId);
  };

  const messageFor = async (row: LogRecord): Promise<PushMessage | undefined> => {
    const kind = pushKindFor(row);
    if (!kind || row.userId === null) return undefined;
    const userId = row.userId;
    const preferences = await deps.pushes.preferences(userId);
    if (!preferences.enabled || preferences.disabled.includes(kind)) return undefined;
    const device = row.deviceId === null ? undefined : await deps.store.findDevice(userId, row.deviceId);
    const message = pushMessageFor({ ...row, userId }, kind, device, deps.config);
    if ((await targetsOf(message)).length === 0) return undefined;
    if (kind === 'cart_reminder' && !(await deps.cartHasItems(userId))) return undefined;
    return message;
  };

  const send = async (message: PushMessage, stop: AbortSignal): Promise<DeliveryResult> => {
    const { log } = deps;
    const targets = await targetsOf(message);
    if (head?.id !== message.id) {
      const window = await deps.counters.hit(`push:${message.userId}`, HOUR_MS, deps.clock.now());
      if (window.count > deps.config.limitPerHour) {
        log.warn({ push_id: message.id, type: message.type }, 'push dropped: user over the hourly limit');
        head = undefined;
        return { ok: true };
      }
      head = { id: message.id, remaining: new Set(targets.map((t) => t.deviceId)), attempts: 0 };
    }
    const state = head;
    let lastError = '';
    for (const target of targets) {
      if (!state.remaining.has(target.deviceId)) continue;
      const outcome = await deps.sender.send(target, message, stop);
      if (outcome.kind === 'failed') {
        if (outcome.stopped) return { ok: false, error: outcome.error, stopped: true };
        lastError = outcome.error;
        continue;
      }
      state.remaining.delete(target.deviceId);
      if (outcome.kind === 'gone') {
        await deps.pushes.dropExpired(target);
        log.info({ push_id: message.id, status: outcome.status }, 'push subscription expired: dropped');
      } else if (outcome.kind === 'rejected') {
        log.warn({ push_id: message.id, status: outcome.status }, 'push refused by the push service');
      }
    }
    // A subscription removed or replaced since is no longer owed anything.
    const live = new Set(targets.map((t) => t.deviceId));
    for (const deviceId of state.remaining) if (!live.has(deviceId)) state.remaining.delete(deviceId);
    if (state.remaining.size === 0) {
      head = undefined;
      return { ok: true };
    }
    state.attempts += 1;
    if (state.attempts >= deps.config.maxAttempts) {
      log.warn(
        { push_id: message.id, type: message.type, attempts: state.attempts, error: lastError },
        'push given up',
      );
      head = undefined;
      return { ok: true };
    }
    return { ok: false, error: lastError, stopped: false };
  };

  return { key: PUSH_CURSOR_KEY, label: 'web push', messageFor, send };
}
