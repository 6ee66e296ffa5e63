import { randomUUID } from 'node:crypto';
import { EVENT_NAMES, type EventName, type EventPayloads } from '@sessiond/protocol';
import type { Redis } from 'ioredis';
import type { Log } from '../lib/log.js';
import { closeRedis, openRedis, redactRedisURL } from '../lib/redis-client.js';
import { type EventBus, type EventHandler, InProcessBus } from './event-bus.js';

const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_NAMES);

export interface RedisBusOptions {
  /** `redis://` or `rediss://` URL; its password never reaches a log line or an error. */
  url: string;
  log: Log;
  /** The pub/sub channel all nodes of one deployment share. Default `sessiond:events`. */
  channel?: string;
  /** This node's id on the wire: messages carrying it are its own and not delivered again. Default: random. */
  node?: string;
}

export interface RedisBusConnectOptions extends RedisBusOptions {
  /** How long `connect` waits for the first connection before it gives up. Default 10 s. */
  timeoutMs?: number;
}

/** What travels on the channel. */
interface Envelope {
  node: string;
  name: EventName;
  payload: unknown;
}

/**
 * The event bus of several nodes sharing one Redis. `publish` delivers to this node's handlers at
 * once (an in-process bus) and publishes `{ node, name, payload }` for the other nodes; a
 * dedicated subscriber connection delivers theirs.
 *
 * Redis pub/sub is at-most-once: while Redis is away, events for other nodes are dropped (counted
 * and logged once per outage), never queued, so a publisher never waits on Redis. A node that
 * was cut off learns nothing of what it missed, so `onResume` tells callers to catch up from the
 * database (sync sockets, revocation streams).
 */
export class RedisBus implements EventBus {
  readonly node: string;
  readonly channel: string;
  readonly #url: string;
  readonly #log: Log;
  /** Every event this node hears: its own and the other nodes'. */
  readonly #local: InProcessBus;
  /** Only this node's own events (`local`). */
  readonly #own: InProcessBus;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #resumeHandlers = new Set<() => void>();
  readonly #connectedWaiters = new Set<() => void>();
  /** Counts subscriber connections, so a late SUBSCRIBE reply of a dead one is ignored. */
  #subscriberEpoch = 0;
  #subscribed = false;
  #wasConnected = false;
  #hasConnected = false;
  #closed = false;
  #dropped = 0;
  #droppedThisOutage = 0;
  #lastError: Error | undefined;
  #errorLogged = false;

  /** Opens the bus and waits for its first connection; rejects if Redis cannot be reached in time. */
  static async connect(options: RedisBusConnectOptions): Promise<RedisBus> {
    const bus = new RedisBus(options);
    try {
      await bus.#untilConnected(options.timeoutMs ?? 10_000);
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  /** Starts connecting at once; `connected` says when it is up. Prefer `RedisBus.connect`. */
  constructor(options: RedisBusOptions) {
    this.node = options.node ?? randomUUID();
    this.channel = options.channel ?? 'sessiond:events';
    this.#url = redactRedisURL(options.url);
    this.#log = options.log;
    this.#local = new InProcessBus((error, name) =>
      this.#log.error({ err: error, event: name }, 'event handler failed'),
    );
    this.#own = new InProcessBus((error, name) =>
      this.#log.error({ err: error, event: name }, 'event handler failed'),
    );
    this.#publisher = openRedis(options.url, { connectionName: 'sessiond-bus-publisher' });
    // Subscribing again is ours to do (on every `ready`), so we know when it has happened.
    this.#subscriber = openRedis(options.url, {
      connectionName: 'sessiond-bus-subscriber',
      autoResubscribe: false,
    });
    this.#publisher.on('ready', () => this.#update());
    this.#publisher.on('close', () => this.#update());
    this.#publisher.on('error', (error: Error) => this.#connectionError(error));
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#subscriber.on('close', () => {
      this.#subscribed = false;
      this.#update();
    });
    this.#subscriber.on('error', (error: Error) => this.#connectionError(error));
    this.#subscriber.on('message', (channel: string, message: string) => this.#receive(channel, message));
  }

  /** Both connections are up and the subscriber listens: events flow both ways. */
  get connected(): boolean {
    return (
      !this.#closed &&
      this.#subscribed &&
      this.#publisher.status === 'ready' &&
      this.#subscriber.status === 'ready'
    );
  }

  /** Events not sent to other nodes because Redis was away, since the bus opened. */
  get droppedPublishes(): number {
    return this.#dropped;
  }

  publish<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    // Remote first: a handler that publishes in turn must not overtake this event on the wire.
    this.#publishRemote(name, payload);
    this.#local.publish(name, payload);
    this.#own.publish(name, payload);
  }

  get local(): Pick<EventBus, 'subscribe'> {
    return this.#own;
  }

  /**
   * Hands an event to this node's listeners only: neither published to other nodes nor counted
   * as this node's own. For what this node learns from the database instead of the channel
   * (revocations while Redis is away).
   */
  deliverLocally<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    this.#local.publish(name, payload);
  }

  subscribe<K extends EventName>(name: K, handler: EventHandler<K>): () => void {
    return this.#local.subscribe(name, handler);
  }

  /**
   * Calls `handler` each time the bus is connected again after an outage (never on the first
   * connection), once the subscriber listens again: what other nodes published meanwhile is lost.
   * Returns a function that removes the handler.
   */
  onResume(handler: () => void): () => void {
    this.#resumeHandlers.add(handler);
    return () => this.#resumeHandlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([closeRedis(this.#publisher), closeRedis(this.#subscriber)]);
  }

  #publishRemote(name: EventName, payload: unknown): void {
    if (this.#closed) return;
    if (this.#publisher.status !== 'ready') {
      this.#drop(name);
      return;
    }
    let message: string;
    try {
      message = JSON.stringify({ node: this.node, name, payload } satisfies Envelope);
    } catch (error) {
      this.#log.error({ err: error, event: name }, 'event payload is not JSON; kept on this node');
      return;
    }
    this.#publisher.publish(this.channel, message).catch(() => this.#drop(name));
  }

  #drop(name: EventName): void {
    this.#dropped += 1;
    this.#droppedThisOutage += 1;
    if (this.#droppedThisOutage === 1) {
      this.#log.warn(
        { url: this.#url, event: name },
        'Redis is unreachable: events are delivered on this node only until it returns',
      );
    }
  }

  async #subscribe(): Promise<void> {
    const epoch = ++this.#subscriberEpoch;
    try {
      await this.#subscriber.subscribe(this.channel);
    } catch {
      // The connection closed meanwhile; the next `ready` subscribes again.
      return;
    }
    if (epoch !== this.#subscriberEpoch || this.#subscriber.status !== 'ready') return;
    this.#subscribed = true;
    this.#update();
  }

  #receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let envelope: unknown;
    try {
      envelope = JSON.parse(message);
    } catch {
      this.#log.warn({ channel, bytes: message.length }, 'ignored a bus message that is not JSON');
      return;
    }
    if (!isEnvelope(envelope)) {
      this.#log.warn({ channel, bytes: message.length }, 'ignored a malformed bus message');
      return;
    }
    if (envelope.node === this.node) return;
    this.#local.publish(envelope.name, envelope.payload as EventPayloads[EventName]);
  }

  #connectionError(error: Error): void {
    this.#lastError = error;
    if (this.#errorLogged || this.#closed) return;
    this.#errorLogged = true;
    // The message names host and port at most (ECONNREFUSED, WRONGPASS), never the password.
    this.#log.warn({ url: this.#url, error: error.message }, 'Redis bus connection error; retrying');
  }

  /** Follows `connected`: logs an outage once, and on its end runs the resume handlers. */
  #update(): void {
    const connected = this.connected;
    if (connected === this.#wasConnected) return;
    this.#wasConnected = connected;
    if (!connected) {
      if (!this.#closed) this.#log.warn({ url: this.#url }, 'Redis bus disconnected; reconnecting');
      return;
    }
    const resumed = this.#hasConnected;
    this.#hasConnected = true;
    this.#errorLogged = false;
    this.#lastError = undefined;
    const dropped = this.#droppedThisOutage;
    this.#droppedThisOutage = 0;
    for (const wake of this.#connectedWaiters) wake();
    if (!resumed) return;
    this.#log.info({ url: this.#url, dropped }, 'Redis bus reconnected');
    for (const handler of this.#resumeHandlers) {
      try {
        handler();
      } catch (error) {
        this.#log.error({ err: error }, 'bus resume handler failed');
      }
    }
  }

  #untilConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#connectedWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#connectedWaiters.delete(wake);
        const reason = this.#lastError ? ` (${this.#lastError.message})` : '';
        reject(new Error(`cannot reach Redis at ${this.#url} within ${timeoutMs} ms${reason}`));
      }, timeoutMs);
      this.#connectedWaiters.add(wake);
    });
  }
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const { node, name, payload } = value as Record<string, unknown>;
  return (
    typeof node === 'string' &&
    typeof name === 'string' &&
    KNOWN_EVENTS.has(name) &&
    typeof payload === 'object' &&
    payload !== null
  );
}
