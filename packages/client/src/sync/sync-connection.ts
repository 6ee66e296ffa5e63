import {
  SYNC_CLOSE_CODES,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
  type SyncClientMessage,
  type SyncServerMessage,
  type SyncSessionEvent,
} from '@sessiond/protocol';
import { backoffDelay } from '../backoff.js';
import type { Platform } from '../platform.js';
import type { SessionStorage } from '../storage.js';
import { type PendingOperation, SyncDocument } from './sync-document.js';

/** The part of the WebSocket API the client uses: the browser's, React Native's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
/**
 * A WebSocket class: the global one in browsers and React Native, `ws` in Node. Typed loosely
 * on purpose (their declared types differ); the client uses only the WebSocketLike members.
 */
export type WebSocketConstructor = new (url: string, protocols: string[]) => object;

const OPEN = 1;
/** A silent socket is presumed dead after this (tunnels drop packets without closing anything). */
const PING_INTERVAL_MS = 25_000;

export interface SyncConnectionOptions {
  baseUrl: string;
  webSocket: WebSocketConstructor;
  platform: Platform;
  storage: SessionStorage;
  storagePrefix: string;
  retry: { baseMs: number; capMs: number };
  /** The access token to authenticate with (bearer), or undefined (cookie: the handshake carries it). */
  accessToken(): Promise<string | undefined>;
  /** The token was refused: refresh it; false if the session is gone. */
  renewCredentials(): Promise<boolean>;
  onSessionEvent(event: SyncSessionEvent): void;
  /** The server closed the socket because the session ended. */
  onSessionEnded(reason: 'revoked' | 'expired'): void;
}

/**
 * The client's one sync socket: opens while a user is signed in and some namespace is synced,
 * authenticates with the first message, subscribes every document from its last sequence
 * number, and reconnects with backoff and jitter after anything but the session's end.
 */
export class SyncConnection {
  readonly #documents = new Map<string, SyncDocument>();
  #socket: WebSocketLike | undefined;
  #userId: string | undefined;
  #attempt = 0;
  #reconnectTimer: unknown;
  /** When the pending reconnect is due, and whether it is a `sleep` (someone awaits it). */
  #reconnect: { at: number; held: boolean } | undefined;
  #pingTimer: unknown;
  #heardFrom = 0;
  readonly #stopWaking: () => void;
  /** The server said `ready`: authenticated, subscriptions may go. */
  #ready = false;

  constructor(private readonly options: SyncConnectionOptions) {
    // Back from the background or offline: no need to wait out the backoff.
    this.#stopWaking = options.platform.onWake(() => {
      if (this.#userId !== undefined && this.#socket === undefined) this.#connectNow();
    });
  }

  document(namespace: string): SyncDocument {
    let document = this.#documents.get(namespace);
    if (!document) {
      document = new SyncDocument(
        namespace,
        this.options.storage,
        {
          send: (ns, pending) => this.#send(applyMessage(ns, pending)),
          resubscribe: (ns, since) => this.#send(subscribeMessage(ns, since)),
          awaited: () => this.#holdReconnect(),
        },
        this.options.platform,
        randomId,
      );
      this.#documents.set(namespace, document);
      const loaded = document;
      void loaded.load(this.#storageKey(namespace)).then(() => {
        if (this.#socket?.readyState === OPEN && this.#ready) this.#subscribe(loaded);
      });
      if (this.#userId !== undefined && this.#socket === undefined) this.#connectNow();
    }
    return document;
  }

  /** The signed-in user changed (undefined: signed out): documents reload, the socket follows. */
  async setUser(userId: string | undefined): Promise<void> {
    if (userId === this.#userId) return;
    this.#userId = userId;
    this.#disconnect();
    await Promise.all([...this.#documents.values()].map((d) => d.load(this.#storageKey(d.namespace))));
    if (userId !== undefined && this.#documents.size > 0) this.#connectNow();
  }

  close(): void {
    this.#userId = undefined;
    this.#stopWaking();
    this.#disconnect();
  }

  #storageKey(namespace: string): string | undefined {
    return this.#userId === undefined
      ? undefined
      : `${this.options.storagePrefix}.sync.${this.#userId}.${namespace}`;
  }

  #connectNow(): void {
    this.#cancelReconnect();
    if (this.#socket !== undefined || this.#userId === undefined) return;
    const url = new URL(SYNC_PATH, this.options.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket: WebSocketLike;
    try {
      socket = new this.options.webSocket(url.toString(), [SYNC_SUBPROTOCOL]) as WebSocketLike;
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    this.#ready = false;
    socket.onopen = () => void this.#authenticate(socket);
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return;
      this.#heardFrom = this.options.platform.now();
      this.#receive(JSON.parse(String(event.data)) as SyncServerMessage);
    };
    socket.onclose = (event) => {
      if (this.#socket === socket) void this.#closed(event.code);
    };
    socket.onerror = () => {
      // A close event always follows; that is where reconnecting is decided.
    };
  }

  async #authenticate(socket: WebSocketLike): Promise<void> {
    const token = await this.options.accessToken();
    if (this.#socket !== socket) return;
    if (token !== undefined)
      socket.send(JSON.stringify({ type: 'auth', access_token: token } satisfies SyncClientMessage));
    this.#heardFrom = this.options.platform.now();
    this.#schedulePing(socket);
  }

  #receive(message: SyncServerMessage): void {
    switch (message.type) {
      case 'ready':
        this.#attempt = 0;
        this.#ready = true;
        for (const document of this.#documents.values()) this.#subscribe(document);
        return;
      case 'event':
        this.options.onSessionEvent(message);
        return;
      case 'pong':
        return;
      default:
        if ('namespace' in message && message.namespace !== undefined) {
          this.#documents.get(message.namespace)?.receive(message);
        }
    }
  }

  #subscribe(document: SyncDocument): void {
    // A document that has never synced asks for the snapshot: smaller than the whole log.
    this.#send(subscribeMessage(document.namespace, document.seq === 0 ? undefined : document.seq));
  }

  async #closed(code: number): Promise<void> {
    this.#socket = undefined;
    this.#ready = false;
    this.options.platform.cancel(this.#pingTimer);
    for (const document of this.#documents.values()) document.disconnected();
    if (this.#userId === undefined) return;
    if (code === SYNC_CLOSE_CODES.session_revoked) return this.options.onSessionEnded('revoked');
    if (code === SYNC_CLOSE_CODES.session_expired) return this.options.onSessionEnded('expired');
    if (code === SYNC_CLOSE_CODES.unauthenticated && !(await this.options.renewCredentials())) return;
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = backoffDelay(this.#attempt, this.options.retry);
    this.#attempt += 1;
    this.#armReconnect(delay);
  }

  /**
   * Waits `delay`, then connects. Nobody awaiting it, a background `schedule`; while someone
   * awaits a document's `settled()`, a `sleep`, so a Node program awaiting it through an outage
   * is not ended mid-await (issue 12, decision 021).
   */
  #armReconnect(delay: number): void {
    const { platform } = this.options;
    this.#cancelReconnect();
    const held = [...this.#documents.values()].some((d) => d.awaited);
    const reconnect = { at: platform.now() + delay, held };
    this.#reconnect = reconnect;
    const fire = () => {
      if (this.#reconnect !== reconnect) return;
      this.#reconnect = undefined;
      this.#connectNow();
    };
    if (held) void platform.sleep(delay).then(fire);
    else this.#reconnectTimer = platform.schedule(fire, delay);
  }

  /** A document is now awaited: a background reconnect wait becomes one that is held. */
  #holdReconnect(): void {
    const pending = this.#reconnect;
    if (pending && !pending.held) this.#armReconnect(Math.max(0, pending.at - this.options.platform.now()));
  }

  #cancelReconnect(): void {
    this.options.platform.cancel(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#reconnect = undefined;
  }

  #schedulePing(socket: WebSocketLike): void {
    this.#pingTimer = this.options.platform.schedule(() => {
      if (this.#socket !== socket) return;
      if (this.options.platform.now() - this.#heardFrom > 2 * PING_INTERVAL_MS) {
        // No pong to the last ping: give up on this socket and reconnect.
        this.#socket = undefined;
        socket.close();
        void this.#closed(1006);
        return;
      }
      this.#send({ type: 'ping' });
      this.#schedulePing(socket);
    }, PING_INTERVAL_MS);
  }

  #disconnect(): void {
    this.#cancelReconnect();
    this.options.platform.cancel(this.#pingTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#ready = false;
    this.#attempt = 0;
    for (const document of this.#documents.values()) document.disconnected();
    socket?.close(1000, 'client closed');
  }

  #send(message: SyncClientMessage): void {
    if (this.#socket?.readyState === OPEN && this.#ready) this.#socket.send(JSON.stringify(message));
  }
}

function applyMessage(namespace: string, pending: PendingOperation): SyncClientMessage {
  return { type: 'apply', namespace, client_op_id: pending.client_op_id, operation: pending.operation };
}

function subscribeMessage(namespace: string, since: number | undefined): SyncClientMessage {
  return since === undefined ? { type: 'subscribe', namespace } : { type: 'subscribe', namespace, since };
}

/** A unique prefix for this device's operation ids (crypto.randomUUID where there is one). */
function randomId(): string {
  const c = globalThis.crypto as { randomUUID?: () => string } | undefined;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
