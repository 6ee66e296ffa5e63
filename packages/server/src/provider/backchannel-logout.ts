import type { EventName, LogAction } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { LogRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { StoreDatabase } from '../store/transact.js';
import type { SigningKeyRing } from '../tokens/signing-key-ring.js';
import {
  configuredOutbox,
  type MessageKind,
  type OutboxChannel,
  type OutboxDispatcher,
} from '../webhooks/outbox-dispatcher.js';
import { type DeliveryResult, describeFailure, endpointLabel } from '../webhooks/webhook-sender.js';
import type { RegisteredClient } from './client-registry.js';
import { LogoutTokenSigner } from './logout-token.js';

/**
 * The audit actions that end a session: each ended session has exactly one such row, written in
 * the transaction that ended it (logout; revoke, revoke-all, admin, backend, device forgotten and
 * the SSO cascade as `session_revoked`; a refresh token's reuse; an idle or absolute expiry).
 */
export const SESSION_END_ACTIONS = [
  'logout',
  'session_revoked',
  'refresh_reuse_detected',
  'session_expired',
] as const satisfies readonly LogAction[];

const END_ACTIONS: ReadonlySet<string> = new Set(SESSION_END_ACTIONS);

const WAKING_EVENTS: readonly EventName[] = ['session.revoked', 'session.expired', 'refresh_token.reused'];

/** Logout tokens as the outbox dispatcher carries them (docs/decisions/030). */
export const LOGOUT_TOKEN_KIND: MessageKind = {
  noun: 'logout token',
  idField: 'logout_id',
  actions: SESSION_END_ACTIONS,
  wakingEvents: WAKING_EVENTS,
};

/** A logout owed to a client: which session of whose ended, told by which log row. */
export interface LogoutMessage {
  /** `logout_<log row id>`: the same on every attempt (the token's `jti` is new each time). */
  id: string;
  type: 'backchannel_logout';
  userId: string;
  sessionId: string;
}

/** The cursor of a client's logout tokens: by client id, so a changed URI carries on where it was. */
export function backchannelCursorKey(clientId: string): string {
  return `backchannel_logout:${clientId}`;
}

/**
 * Sends one logout token (§2.5): `POST` form-encoded `logout_token=<JWT>`. A 2xx is delivered;
 * anything else, a redirect included (not followed), a network error or no answer within the
 * timeout, is a failure to retry.
 */
export class LogoutTokenSender {
  constructor(
    private readonly signer: LogoutTokenSigner,
    private readonly timeoutMs: number,
  ) {}

  async send(
    client: RegisteredClient & { backchannelLogoutURI: string },
    message: LogoutMessage,
    stop: AbortSignal,
  ): Promise<DeliveryResult> {
    const token = await this.signer.sign({
      clientId: client.id,
      userId: message.userId,
      sessionId: message.sessionId,
    });
    try {
      const response = await fetch(client.backchannelLogoutURI, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'sessiond-backchannel-logout',
          // §2.5: the response must not be cached.
          'cache-control': 'no-store',
        },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), stop]),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, error: `HTTP ${response.status}`, stopped: false };
    } catch (error) {
      return { ok: false, error: describeFailure(error), stopped: stop.aborted };
    }
  }
}

/**
 * One client's logout tokens: every ending row of a session of that client becomes one. The
 * session is read when the row is handled (its client is not in the row); it has ended by then,
 * since the row commits with the end.
 */
export function backchannelLogoutChannel(
  client: RegisteredClient & { backchannelLogoutURI: string },
  deps: { store: Pick<SessionStore, 'findSession'>; sender: LogoutTokenSender },
): OutboxChannel<LogoutMessage> {
  return {
    key: backchannelCursorKey(client.id),
    label: `${client.id} ${endpointLabel(client.backchannelLogoutURI)}`,
    messageFor: (row) => logoutMessageFor(row, client.id, deps.store),
    send: (message, stop) => deps.sender.send(client, message, stop),
  };
}

async function logoutMessageFor(
  row: LogRecord,
  clientId: string,
  store: Pick<SessionStore, 'findSession'>,
): Promise<LogoutMessage | undefined> {
  if (!END_ACTIONS.has(row.action) || row.sessionId === null) return undefined;
  const session = await store.findSession(row.sessionId);
  if (!session || session.clientId !== clientId || session.endedAt === null) return undefined;
  return {
    id: `logout_${row.id}`,
    type: 'backchannel_logout',
    userId: session.userId,
    sessionId: session.id,
  };
}

/** Clients that asked for back-channel logout. */
function backchannelClients(
  clients: readonly RegisteredClient[],
): Array<RegisteredClient & { backchannelLogoutURI: string }> {
  return clients.filter(
    (client): client is RegisteredClient & { backchannelLogoutURI: string } =>
      client.backchannelLogoutURI !== undefined,
  );
}

/**
 * The dispatcher of logout tokens: one channel per client with a `backchannel_logout_uri`, on
 * the webhooks' cursors, leases and retry settings (no such client: one that does nothing).
 */
export function backchannelLogoutDispatcherFrom(input: {
  config: Config;
  database: StoreDatabase;
  store: SessionStore;
  clock: Clock;
  bus: EventBus;
  keys: SigningKeyRing;
}): OutboxDispatcher {
  const { config } = input;
  const sender = new LogoutTokenSender(
    new LogoutTokenSigner(input.keys, systemClock, config.issuer),
    config.webhookTimeoutMs,
  );
  const channels = backchannelClients(config.clientRegistry).map((client) =>
    backchannelLogoutChannel(client, { store: input.store, sender }),
  );
  return configuredOutbox(LOGOUT_TOKEN_KIND, channels, input);
}
