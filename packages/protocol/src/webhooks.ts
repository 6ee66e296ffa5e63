import type { Actor } from './events.js';

/**
 * Webhook event types: the lifecycle events sessiond delivers to the app's own backend, signed
 * per Standard Webhooks. Each comes from one audit-log row; docs/events.md#webhooks maps them.
 */
export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.refreshed',
  'session.revoked',
  'session.expired',
  'session.idle_expired',
  'refresh_token.reused',
  'session.step_up_required',
  'device.new',
  'user.erased',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The `data` of every webhook; times are ISO 8601. Fields that do not apply are null. */
export interface WebhookEventData {
  user_id: string | null;
  session_id: string | null;
  device_id: string | null;
  /** Address and user agent of the request behind the event; null for what the system did alone. */
  ip: string | null;
  user_agent: string | null;
  /** Who ended or flagged the session; null when the user's own client did it through a request. */
  actor: Actor | null;
  /** Why: a revocation or expiry reason, or the step-up reason. */
  reason: string | null;
  at: string;
}

export interface WebhookPayloads {
  'session.created': WebhookEventData;
  'session.refreshed': WebhookEventData;
  'session.revoked': WebhookEventData;
  'session.expired': WebhookEventData;
  /** `cart_has_items`: the user's `cart` state document holds at least one item. */
  'session.idle_expired': WebhookEventData & { cart_has_items: boolean };
  'refresh_token.reused': WebhookEventData;
  'session.step_up_required': WebhookEventData;
  'device.new': WebhookEventData;
  /** The account was erased (decision 036); `sessions_revoked`: how many live sessions it ended. */
  'user.erased': WebhookEventData & { sessions_revoked: number };
}

/** A webhook body as Standard Webhooks shapes it: `timestamp` is when the event happened. */
export type WebhookBody<K extends WebhookEventType = WebhookEventType> = {
  [T in K]: { type: T; timestamp: string; data: WebhookPayloads[T] };
}[K];
