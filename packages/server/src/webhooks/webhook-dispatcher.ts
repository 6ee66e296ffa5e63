import type { EventName } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { SessionStore } from '../store/session-store.js';
import type { StoreDatabase } from '../store/transact.js';
import {
  configuredOutbox,
  type MessageKind,
  type OutboxChannel,
  type OutboxDispatcher,
} from './outbox-dispatcher.js';
import {
  cartHasItems,
  WEBHOOK_LOG_ACTIONS,
  type WebhookLookups,
  type WebhookMessage,
  webhookMessageFor,
} from './webhook-events.js';
import { endpointLabel, WebhookSender } from './webhook-sender.js';

/** Bus events whose audit rows are webhooks: each wakes the dispatcher. */
const WAKING_EVENTS: readonly EventName[] = [
  'session.created',
  'session.refreshed',
  'session.revoked',
  'session.expired',
  'session.step_up_required',
  'refresh_token.reused',
  'device.new',
];

/** Lifecycle webhooks as the outbox dispatcher carries them (docs/decisions/009). */
export const WEBHOOK_KIND: MessageKind = {
  noun: 'webhook',
  idField: 'webhook_id',
  actions: WEBHOOK_LOG_ACTIONS,
  wakingEvents: WAKING_EVENTS,
};

/** One webhook endpoint: its cursor is keyed by its URL, as it always was. */
export function webhookChannel(
  endpoint: string,
  sender: WebhookSender,
  lookups: WebhookLookups,
): OutboxChannel<WebhookMessage> {
  return {
    key: endpoint,
    label: endpointLabel(endpoint),
    messageFor: (row) => webhookMessageFor(row, lookups),
    send: (message, stop) => sender.send(endpoint, message, stop),
  };
}

/** The dispatcher the configuration asks for (no endpoints: one that does nothing). */
export function webhookDispatcherFrom(input: {
  config: Config;
  database: StoreDatabase;
  store: SessionStore;
  clock: Clock;
  bus: EventBus;
}): OutboxDispatcher {
  const { config, store } = input;
  const endpoints = [...new Set(config.webhookURLs)];
  if (endpoints.length > 0 && config.webhookSecret === undefined) {
    throw new Error('webhook endpoints need a signing secret');
  }
  const lookups: WebhookLookups = { cartHasItems: (userId) => cartHasItems(store, userId) };
  const sender =
    config.webhookSecret === undefined
      ? undefined
      : new WebhookSender(config.webhookSecret, systemClock, config.webhookTimeoutMs);
  const channels = sender ? endpoints.map((endpoint) => webhookChannel(endpoint, sender, lookups)) : [];
  return configuredOutbox(WEBHOOK_KIND, channels, input);
}
