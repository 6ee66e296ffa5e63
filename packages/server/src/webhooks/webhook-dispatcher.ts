import { randomUUID } from 'node:crypto';
import type { EventName } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { SessionStore } from '../store/session-store.js';
import type { StoreDatabase } from '../store/transact.js';
import { type RetryPolicy, retryDelayMs } from './retry-delay.js';
import {
  cartHasItems,
  WEBHOOK_LOG_ACTIONS,
  type WebhookLookups,
  webhookMessageFor,
} from './webhook-events.js';
import { endpointLabel, WebhookSender } from './webhook-sender.js';
import { WebhookStore } from './webhook-store.js';

/** Where the dispatcher reports; the app's pino logger fits. Never given the secret or a signature. */
export interface WebhookLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  endpoints: readonly string[];
  /** Required when there are endpoints. */
  sender: WebhookSender | undefined;
  lookups: WebhookLookups;
  /** Schedules retries (`next_attempt_at`); tests move it. */
  clock: Clock;
  /** Lifecycle events wake the dispatcher at once; without them it looks every `pollIntervalMs`. */
  bus: EventBus;
  retry: RetryPolicy;
  /** Default 1000 ms. */
  pollIntervalMs?: number;
  /** Log rows read per query. Default 100. */
  batchSize?: number;
  /** One send's timeout: a lease must outlast it. Default 10 s. */
  sendTimeoutMs?: number;
  /** Jitter source; default Math.random. */
  random?: () => number;
}

/**
 * How long past one send's timeout a node may deliver an endpoint's webhooks without renewing
 * its lease (it renews before every send, so a send can never outlast it). A node that dies
 * holding it is replaced after the lease runs out.
 */
const LEASE_MARGIN_MS = 30_000;

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

/**
 * Delivers lifecycle webhooks from the audit log (docs/decisions/009). One worker per endpoint
 * tails the log from that endpoint's cursor and sends each webhook row in id order, moving the
 * cursor after each 2xx. A failure stops that endpoint's queue at the failed message (head-of-
 * line) until its retry time: order is kept, and other endpoints go on. Delivery is at least
 * once: a crash between the receiver's 2xx and the cursor's commit sends that message again,
 * with the same `webhook-id`.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #stopping = new AbortController();
  readonly #wakers = new Map<string, () => void>();
  readonly #woken = new Set<string>();
  #workers: Promise<void>[] = [];
  #unsubscribe: Array<() => void> = [];
  #log: WebhookLog | undefined;
  /** This dispatcher's name on the delivery leases. */
  readonly #node = randomUUID();

  constructor(options: WebhookDispatcherOptions) {
    if (options.endpoints.length > 0 && !options.sender) {
      throw new Error('webhook endpoints need a signing secret');
    }
    this.#options = { ...options, endpoints: [...new Set(options.endpoints)] };
    this.#pollMs = options.pollIntervalMs ?? 1000;
    this.#batchSize = options.batchSize ?? 100;
  }

  get endpoints(): readonly string[] {
    return this.#options.endpoints;
  }

  /**
   * Gives new endpoints their cursor (at the newest log row: history is not replayed), then
   * starts one worker per endpoint. Resolves once the cursors are committed.
   */
  async start(log: WebhookLog): Promise<void> {
    const { endpoints, store, bus } = this.#options;
    if (endpoints.length === 0 || this.#workers.length > 0) return;
    this.#log = log;
    await store.ensureCursors(endpoints);
    this.#unsubscribe = WAKING_EVENTS.map((name) => bus.subscribe(name, () => this.wake()));
    this.#workers = endpoints.map((endpoint) => this.#run(endpoint));
  }

  /** Stops the workers, aborting requests in flight (their messages are sent again next start). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.wake();
    await Promise.all(this.#workers);
    // Another node may take over at once rather than when the lease runs out.
    await Promise.all(
      this.#options.endpoints.map((endpoint) =>
        this.#options.store.release(endpoint, this.#node).catch(() => undefined),
      ),
    );
  }

  /** Makes every worker look at the log now (new rows, or a retry whose time has come). */
  wake(): void {
    for (const endpoint of this.#options.endpoints) {
      const waker = this.#wakers.get(endpoint);
      if (waker) waker();
      else this.#woken.add(endpoint);
    }
  }

  /** Webhook log rows not yet delivered to the endpoint furthest behind (0 without endpoints). */
  backlog(): Promise<number> {
    return this.#options.store.backlog(this.#options.endpoints, WEBHOOK_LOG_ACTIONS);
  }

  async #run(endpoint: string): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      let waitMs: number;
      try {
        waitMs = await this.#deliverDue(endpoint);
      } catch (error) {
        this.#log?.error({ err: error, endpoint: endpointLabel(endpoint) }, 'webhook delivery pass failed');
        waitMs = this.#pollMs;
      }
      await this.#sleep(endpoint, waitMs);
    }
  }

  /** One pass over what is due for an endpoint; returns how long to wait before the next. */
  async #deliverDue(endpoint: string): Promise<number> {
    const { store, clock, sender, lookups } = this.#options;
    let cursor = await store.findCursor(endpoint);
    if (!cursor) {
      await store.ensureCursors([endpoint]);
      cursor = await store.findCursor(endpoint);
      if (!cursor) return this.#pollMs;
    }
    const now = clock.now();
    if (cursor.nextAttemptAt > now) return Math.min(cursor.nextAttemptAt - now, this.#pollMs);
    // Another node delivers this endpoint while its lease lasts; this one stands by.
    if (!(await this.#holdLease(endpoint))) return this.#pollMs;
    const rows = await store.logsAfter(cursor.position, this.#batchSize);
    /** Where the stored cursor is. */
    let position = cursor.position;
    /** The last row handled: delivered, or passed over as no webhook. */
    let handled = position;
    let headAttempts = cursor.attempts;
    for (const { position: rowPosition, log: row } of rows) {
      if (this.#stopping.signal.aborted) break;
      const message = await webhookMessageFor(row, lookups);
      if (!message) {
        handled = rowPosition;
        continue;
      }
      // A send can take up to its timeout: renew first, so no other node starts the same row.
      if (!(await this.#holdLease(endpoint))) break;
      const result = await sender!.send(endpoint, message, this.#stopping.signal);
      if (!result.ok) {
        if (handled !== position && (await store.advance(endpoint, position, handled))) position = handled;
        // Stopping aborted the request: not the endpoint's failure, and it goes again next start.
        if (result.stopped) return 0;
        const attempts = headAttempts + 1;
        const delayMs = retryDelayMs(attempts, this.#options.retry, this.#options.random);
        await store.recordFailure(endpoint, position, {
          attempts,
          nextAttemptAt: clock.now() + delayMs,
          error: result.error,
        });
        this.#log?.warn(
          {
            endpoint: endpointLabel(endpoint),
            webhook_id: message.id,
            type: message.type,
            attempts,
            retry_in_ms: delayMs,
            error: result.error,
          },
          'webhook delivery failed',
        );
        return Math.min(delayMs, this.#pollMs);
      }
      if (headAttempts > 0) {
        this.#log?.info(
          { endpoint: endpointLabel(endpoint), webhook_id: message.id, attempts: headAttempts + 1 },
          'webhook delivered after retries',
        );
      }
      // Compare-and-set: if the cursor moved under us, start again from where it is.
      if (!(await store.advance(endpoint, position, rowPosition))) return 0;
      position = handled = rowPosition;
      headAttempts = 0;
    }
    if (handled !== position) await store.advance(endpoint, position, handled);
    return rows.length === this.#batchSize ? 0 : this.#pollMs;
  }

  #holdLease(endpoint: string): Promise<boolean> {
    return this.#options.store.lease(
      endpoint,
      this.#node,
      this.#options.clock.now(),
      (this.#options.sendTimeoutMs ?? 10_000) + LEASE_MARGIN_MS,
    );
  }

  #sleep(endpoint: string, ms: number): Promise<void> {
    if (ms <= 0 || this.#woken.delete(endpoint) || this.#stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(endpoint);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wakers.set(endpoint, done);
    });
  }
}

/** The dispatcher the configuration asks for (no endpoints: one that does nothing). */
export function webhookDispatcherFrom(input: {
  config: Config;
  database: StoreDatabase;
  store: SessionStore;
  clock: Clock;
  bus: EventBus;
}): WebhookDispatcher {
  const { config, store } = input;
  return new WebhookDispatcher({
    store: new WebhookStore(input.database),
    endpoints: config.webhookURLs,
    sender:
      config.webhookSecret === undefined
        ? undefined
        : new WebhookSender(config.webhookSecret, systemClock, config.webhookTimeoutMs),
    lookups: { cartHasItems: (userId) => cartHasItems(store, userId) },
    clock: input.clock,
    bus: input.bus,
    sendTimeoutMs: config.webhookTimeoutMs,
    retry: {
      baseMs: config.webhookRetryBaseSeconds * 1000,
      maxMs: config.webhookRetryMaxSeconds * 1000,
    },
  });
}
