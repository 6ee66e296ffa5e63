import type {
  LogAction,
  WebhookBody,
  WebhookEventData,
  WebhookEventType,
  WebhookPayloads,
} from '@sessiond/protocol';
import type { LogRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

/**
 * The audit-log actions that become webhooks. The others are not lifecycle changes of a session
 * (`login_failed`, `step_up`, `device_trusted`) or are already told another way
 * (`device_forgotten`: each session it ended has its own `session_revoked` row).
 */
export const WEBHOOK_LOG_ACTIONS = [
  'login',
  'refresh',
  'logout',
  'session_revoked',
  'session_expired',
  'refresh_reuse_detected',
  'step_up_required',
  'new_device_login',
  'user_erased',
] as const satisfies readonly LogAction[];

/** A webhook ready to sign and send: `body` is the exact JSON that is signed. */
export interface WebhookMessage {
  /** `msg_<log row id>`: the same on every redelivery, so receivers can deduplicate. */
  id: string;
  logId: number;
  type: WebhookEventType;
  body: string;
}

/** What building a message may need to look up. */
export interface WebhookLookups {
  /** Whether the user's `cart` state document holds at least one item. */
  cartHasItems(userId: string): Promise<boolean>;
}

/** The webhook message id of a log row. */
export function webhookMessageId(logId: number): string {
  return `msg_${logId}`;
}

/**
 * The webhook a log row becomes, or undefined for a row that is not one (see
 * WEBHOOK_LOG_ACTIONS; a grace-window refresh rotated nothing, so it is not `session.refreshed`).
 */
export async function webhookMessageFor(
  row: LogRecord,
  lookups: WebhookLookups,
): Promise<WebhookMessage | undefined> {
  const type = webhookTypeFor(row);
  if (!type) return undefined;
  const data = webhookData(row);
  let body: WebhookBody;
  if (type === 'session.idle_expired') {
    body = {
      type,
      timestamp: data.at,
      data: {
        ...data,
        cart_has_items: row.userId === null ? false : await lookups.cartHasItems(row.userId),
      } satisfies WebhookPayloads['session.idle_expired'],
    };
  } else if (type === 'user.erased') {
    const revoked = row.detail?.sessions_revoked;
    body = {
      type,
      timestamp: data.at,
      data: { ...data, sessions_revoked: typeof revoked === 'number' ? revoked : 0 },
    };
  } else body = { type, timestamp: data.at, data };
  return { id: webhookMessageId(row.id), logId: row.id, type, body: JSON.stringify(body) };
}

/** The webhook type of a log row, or undefined if it sends none. */
export function webhookTypeFor(row: LogRecord): WebhookEventType | undefined {
  switch (row.action) {
    case 'login':
      return 'session.created';
    case 'refresh':
      return row.success && row.detail?.grace !== true ? 'session.refreshed' : undefined;
    case 'logout':
    case 'session_revoked':
      return 'session.revoked';
    case 'session_expired':
      return row.detail?.reason === 'idle_timeout' ? 'session.idle_expired' : 'session.expired';
    case 'refresh_reuse_detected':
      return 'refresh_token.reused';
    case 'step_up_required':
      return 'session.step_up_required';
    case 'new_device_login':
      return 'device.new';
    case 'user_erased':
      return 'user.erased';
    default:
      return undefined;
  }
}

function webhookData(row: LogRecord): WebhookEventData {
  return {
    user_id: row.userId,
    session_id: row.sessionId,
    device_id: row.deviceId,
    // A step-up flagged by the risk engine on a refresh is a system row; the use it judged is in `detail`.
    ip: row.ip ?? stringOrNull(row.detail?.ip),
    user_agent: row.userAgent ?? stringOrNull(row.detail?.user_agent),
    actor: row.actor,
    reason: reasonOf(row),
    at: new Date(row.createdAt).toISOString(),
  };
}

function reasonOf(row: LogRecord): string | null {
  // Reuse rows carry their timing in `detail`; the reason is the revocation they record.
  if (row.action === 'refresh_reuse_detected') return 'refresh_token_reused';
  return stringOrNull(row.detail?.reason);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** `cart_has_items` as the app reads it: a non-empty `items` object in the user's `cart` document. */
export async function cartHasItems(
  store: Pick<SessionStore, 'readStateDocument'>,
  userId: string,
): Promise<boolean> {
  const { document } = await store.readStateDocument(userId, 'cart');
  const items = document.items;
  return (
    typeof items === 'object' && items !== null && !Array.isArray(items) && Object.keys(items).length > 0
  );
}
