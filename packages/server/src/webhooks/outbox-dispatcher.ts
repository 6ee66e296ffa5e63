import { randomUUID } from 'node:crypto';
import type { EventName, LogAction } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { LogRecord } from '../store/records.js';
import type { StoreDatabase } from '../store/transact.js';
import { type RetryPolicy, retryDelayMs } from './retry-delay.js';
import type { DeliveryResult } from './webhook-sender.js';
import { WebhookStore } from './webhook-store.js';

/** Where the dispatcher reports; the app's pino logger fits. Never given a secret, signature or token. */
export interface OutboxLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A message one log row became, ready to send. Its id is the same on every attempt. */
export interface OutboxMessage {
  id: string;
  type: string;
}

/**
 * One receiver fed from the audit log: a webhook endpoint, or a client's back-channel logout URI.
 * It owns a cursor (`key` in `webhook_cursors`) and says which rows are its messages and how one
 * is sent.
 */
export interface OutboxChannel<M extends OutboxMessage = OutboxMessage> {
  /** The cursor's name; unique across every kind of channel. */
  readonly key: string;
  /** How logs name the receiver: no credentials, query or fragment. */
  readonly label: string;
  /** The message `row` is for this channel, or undefined to pass over it. */
  messageFor(row: LogRecord): Promise<M | undefined>;
  /** One attempt; never throws. */
  send(message: M, stop: AbortSignal): Promise<DeliveryResult>;
}

/** What kind of messages a dispatcher carries: for its logs, its backlog and what wakes it. */
export interface MessageKind {
  /** In log lines: `${noun} delivery failed`. */
  noun: string;
  /** The log field naming a message's id (`webhook_id`). */
  idField: string;
  /** The log actions its messages come from (the backlog counts these). */
  actions: readonly LogAction[];
  /** Bus events whose log rows may be messages: each wakes the dispatcher. */
  wakingEvents: readonly EventName[];
}

export interface OutboxDispatcherOptions {
  kind: MessageKind;
  channels: readonly OutboxChannel[];
  store: WebhookStore;
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
 * How long past one send's timeout a node may deliver a channel's messages without renewing
 * its lease (it renews before every send, so a send can never outlast it). A node that dies
 * holding it is replaced after the lease runs out.
 */
const LEASE_MARGIN_MS = 30_000;

/**
 * Delivers messages computed from the audit log (docs/decisions/009, 030): webhooks, logout
 * tokens. One worker per channel tails the log from that channel's cursor and sends each of its
 * rows in id order, moving the cursor after each 2xx. A failure stops that channel's queue at
 * the failed message (head-of-line) until its retry time: order is kept, and other channels go
 * on. Delivery is at least once: a crash between the receiver's 2xx and the cursor's commit
 * sends that message again, with the same id.
 */
export class OutboxDispatcher {
  readonly #options: OutboxDispatcherOptions;
  readonly #channels: readonly OutboxChannel[];
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #stopping = new AbortController();
  readonly #wakers = new Map<string, () => void>();
  readonly #woken = new Set<string>();
  #workers: Promise<void>[] = [];
  #unsubscribe: Array<() => void> = [];
  #log: OutboxLog | undefined;
  /** This dispatcher's name on the delivery leases. */
  readonly #node = randomUUID();

  constructor(options: OutboxDispatcherOptions) {
    const byKey = new Map(options.channels.map((channel) => [channel.key, channel]));
    this.#channels = [...byKey.values()];
    this.#options = options;
    this.#pollMs = options.pollIntervalMs ?? 1000;
    this.#batchSize = options.batchSize ?? 100;
  }

  /** The channels' cursor keys. */
  get keys(): readonly string[] {
    return this.#channels.map((channel) => channel.key);
  }

  /**
   * Gives new channels their cursor (at the newest log row: history is not replayed), then
   * starts one worker per channel. Resolves once the cursors are committed.
   */
  async start(log: OutboxLog): Promise<void> {
    const { store, bus, kind } = this.#options;
    if (this.#channels.length === 0 || this.#workers.length > 0) return;
    this.#log = log;
    await store.ensureCursors(this.keys);
    this.#unsubscribe = kind.wakingEvents.map((name) => bus.subscribe(name, () => this.wake()));
    this.#workers = this.#channels.map((channel) => this.#run(channel));
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
      this.keys.map((key) => this.#options.store.release(key, this.#node).catch(() => undefined)),
    );
  }

  /** Makes every worker look at the log now (new rows, or a retry whose time has come). */
  wake(): void {
    for (const key of this.keys) {
      const waker = this.#wakers.get(key);
      if (waker) waker();
      else this.#woken.add(key);
    }
  }

  /** Rows of this kind's actions not yet passed by the channel furthest behind (0 without channels). */
  backlog(): Promise<number> {
    return this.#options.store.backlog(this.keys, this.#options.kind.actions);
  }

  async #run(channel: OutboxChannel): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      let waitMs: number;
      try {
        waitMs = await this.#deliverDue(channel);
      } catch (error) {
        this.#log?.error(
          { err: error, endpoint: channel.label },
          `${this.#options.kind.noun} delivery pass failed`,
        );
        waitMs = this.#pollMs;
      }
      await this.#sleep(channel.key, waitMs);
    }
  }

  /** One pass over what is due for a channel; returns how long to wait before the next. */
  async #deliverDue(channel: OutboxChannel): Promise<number> {
    const { store, clock, kind } = this.#options;
    const { key } = channel;
    let cursor = await store.findCursor(key);
    if (!cursor) {
      await store.ensureCursors([key]);
      cursor = await store.findCursor(key);
      if (!cursor) return this.#pollMs;
    }
    const now = clock.now();
    if (cursor.nextAttemptAt > now) return Math.min(cursor.nextAttemptAt - now, this.#pollMs);
    // Another node delivers this channel while its lease lasts; this one stands by.
    if (!(await this.#holdLease(key))) return this.#pollMs;
    const rows = await store.logsAfter(cursor.position, this.#batchSize);
    /** Where the stored cursor is. */
    let position = cursor.position;
    /** The last row handled: delivered, or passed over as no message of this channel. */
    let handled = position;
    let headAttempts = cursor.attempts;
    for (const { position: rowPosition, log: row } of rows) {
      if (this.#stopping.signal.aborted) break;
      const message = await channel.messageFor(row);
      if (!message) {
        handled = rowPosition;
        continue;
      }
      // A send can take up to its timeout: renew first, so no other node starts the same row.
      if (!(await this.#holdLease(key))) break;
      const result = await channel.send(message, this.#stopping.signal);
      if (!result.ok) {
        if (handled !== position && (await store.advance(key, position, handled))) position = handled;
        // Stopping aborted the request: not the receiver's failure, and it goes again next start.
        if (result.stopped) return 0;
        const attempts = headAttempts + 1;
        const delayMs = retryDelayMs(attempts, this.#options.retry, this.#options.random);
        await store.recordFailure(key, position, {
          attempts,
          nextAttemptAt: clock.now() + delayMs,
          error: result.error,
        });
        this.#log?.warn(
          {
            endpoint: channel.label,
            [kind.idField]: message.id,
            type: message.type,
            attempts,
            retry_in_ms: delayMs,
            error: result.error,
          },
          `${kind.noun} delivery failed`,
        );
        return Math.min(delayMs, this.#pollMs);
      }
      if (headAttempts > 0) {
        this.#log?.info(
          { endpoint: channel.label, [kind.idField]: message.id, attempts: headAttempts + 1 },
          `${kind.noun} delivered after retries`,
        );
      }
      // Compare-and-set: if the cursor moved under us, start again from where it is.
      if (!(await store.advance(key, position, rowPosition))) return 0;
      position = handled = rowPosition;
      headAttempts = 0;
    }
    if (handled !== position) await store.advance(key, position, handled);
    return rows.length === this.#batchSize ? 0 : this.#pollMs;
  }

  #holdLease(key: string): Promise<boolean> {
    return this.#options.store.lease(
      key,
      this.#node,
      this.#options.clock.now(),
      (this.#options.sendTimeoutMs ?? 10_000) + LEASE_MARGIN_MS,
    );
  }

  #sleep(key: string, ms: number): Promise<void> {
    if (ms <= 0 || this.#woken.delete(key) || this.#stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wakers.set(key, done);
    });
  }
}

/**
 * An outbox of `kind` over `channels` with the deployment's delivery settings: the webhook
 * timeout and retry backoff (SESSIOND_WEBHOOK_TIMEOUT_MS, SESSIOND_WEBHOOK_RETRY_*) serve every
 * kind, and every kind keeps its cursors in the webhook cursor table.
 */
export function configuredOutbox(
  kind: MessageKind,
  channels: readonly OutboxChannel[],
  input: {
    config: Pick<Config, 'webhookTimeoutMs' | 'webhookRetryBaseSeconds' | 'webhookRetryMaxSeconds'>;
    database: StoreDatabase;
    clock: Clock;
    bus: EventBus;
  },
): OutboxDispatcher {
  const { config } = input;
  return new OutboxDispatcher({
    kind,
    channels,
    store: new WebhookStore(input.database),
    clock: input.clock,
    bus: input.bus,
    sendTimeoutMs: config.webhookTimeoutMs,
    retry: {
      baseMs: config.webhookRetryBaseSeconds * 1000,
      maxMs: config.webhookRetryMaxSeconds * 1000,
    },
  });
}
