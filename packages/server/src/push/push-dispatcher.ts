import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { RateCounters } from '../ratelimit/rate-counters.js';
import type { SessionStore } from '../store/session-store.js';
import type { StoreDatabase } from '../store/transact.js';
import { configuredOutbox, type OutboxDispatcher, type OutboxLog } from '../webhooks/outbox-dispatcher.js';
import { cartHasItems } from '../webhooks/webhook-events.js';
import { PUSH_KIND, pushChannel } from './push-channel.js';
import { PushSender } from './push-sender.js';
import type { PushStore } from './push-store.js';
import type { VAPIDKeys } from './vapid-keys.js';

/**
 * The Web Push dispatcher: one channel on the outbox's cursors and leases (decision 037), so
 * across nodes one delivers each row (the bus reaches every node, and each would push).
 */
export function pushDispatcherFrom(input: {
  config: Config;
  database: StoreDatabase;
  store: SessionStore;
  pushes: PushStore;
  keys: VAPIDKeys;
  counters: RateCounters;
  clock: Clock;
  bus: EventBus;
  log: OutboxLog;
}): OutboxDispatcher {
  const { config, store } = input;
  const channel = pushChannel({
    pushes: input.pushes,
    store,
    cartHasItems: (userId) => cartHasItems(store, userId),
    sender: new PushSender(input.keys, config.webhookTimeoutMs),
    counters: input.counters,
    clock: input.clock,
    config: config.push,
    log: input.log,
  });
  return configuredOutbox(PUSH_KIND, [channel], input);
}
