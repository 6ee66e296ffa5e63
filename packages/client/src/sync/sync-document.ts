import {
  applyStateOperation,
  type JSONObject,
  parseStateOperation,
  type StateOperation,
  StateOperationError,
  type SyncOperation,
  type SyncServerMessage,
} from '@sessiond/protocol';
import { atom, type ReadableAtom } from 'nanostores';
import type { SessionStorage } from '../storage.js';

/** An operation applied locally and not yet known to be in the server's log. */
export interface PendingOperation {
  client_op_id: string;
  operation: StateOperation;
  created_at: number;
}

/** What the document keeps in storage: enough to show the last state and resend edits offline. */
interface PersistedDocument {
  seq: number;
  document: JSONObject;
  pending: PendingOperation[];
}

export interface SyncStatus {
  /** The socket is open and this namespace is caught up. */
  live: boolean;
  /** Local edits the server has not confirmed yet (the outbox). */
  pending: number;
  /** The last server sequence number applied to `confirmed`. */
  seq: number;
  /** The last operation the server refused (it will not be applied), if any. */
  rejected: { client_op_id: string; error: string; message: string } | null;
}

/** What a document needs from the connection: a way to send, and to ask for a catch-up. */
export interface DocumentLink {
  send(namespace: string, pending: PendingOperation): void;
  resubscribe(namespace: string, since: number | undefined): void;
  /** Someone now awaits `settled()`: waits to reconnect must keep a Node process alive. */
  awaited(): void;
}

const SETTLED_MEMORY = 10_000;
/** How long to wait before retrying what the server failed to do (internal_error). */
const RETRY_MS = 1_000;

/** The document's view of time: the client's platform. */
export interface DocumentClock {
  now(): number;
  /** Background retries (nothing awaits them): the platform's `schedule`. */
  schedule(callback: () => void, ms: number): unknown;
}

type LiveMessage = Extract<SyncServerMessage, { namespace?: string }>;

/** What `client.sync(namespace)` returns. */
export interface SyncedDocument<T extends JSONObject = JSONObject> {
  readonly namespace: string;
  /** The document as this device sees it (server state plus local edits), as a nanostores store. */
  readonly value: ReadableAtom<T>;
  readonly status: ReadableAtom<SyncStatus>;
  /** Local edits the server has not confirmed yet, oldest first. */
  readonly pending: readonly PendingOperation[];
  /** Resolves once the signed-in user's copy (and offline outbox) is loaded from storage. */
  readonly ready: Promise<void>;
  /** Applies locally at once, queues for the server; returns the `client_op_id`. */
  apply(operation: StateOperation): string;
  /** Resolves when the server has confirmed every local edit made so far. */
  settled(): Promise<void>;
}

/**
 * One namespace of the user's state, the Replicache way: `confirmed` is the server's document at
 * `seq`; local operations wait in `pending` (persisted, so they survive a restart offline) and
 * the visible value is `confirmed` with `pending` replayed on top. Every server operation, ours
 * included, lands in `confirmed` in sequence order; ours then leaves `pending` by its
 * `client_op_id`. So edits from elsewhere rebase local ones, and each applies exactly once.
 */
export class SyncDocument<T extends JSONObject = JSONObject> implements SyncedDocument<T> {
  readonly #value = atom<T>({} as T);
  readonly #status = atom<SyncStatus>({ live: false, pending: 0, seq: 0, rejected: null });
  #confirmed: JSONObject = {};
  #seq = 0;
  #pending: PendingOperation[] = [];
  /** Sent on the current connection, awaiting the server. */
  readonly #inFlight = new Set<string>();
  #live = false;
  /** The storage key of the signed-in user's copy; undefined while signed out or loading. */
  #storageKey: string | undefined;
  #loading: string | undefined;
  #ready: Promise<void> = Promise.resolve();
  #writes: Promise<void> = Promise.resolve();
  readonly #idleWaiters = new Set<() => void>();
  #counter = 0;
  /** Recently confirmed or refused ids (ours and other tabs'): never written back as pending. */
  readonly #settled = new Set<string>();

  constructor(
    readonly namespace: string,
    private readonly storage: SessionStorage,
    private readonly link: DocumentLink,
    private readonly clock: DocumentClock,
    private readonly randomId: () => string,
  ) {}

  /** The document as this device sees it: the server's, with local edits on top. */
  get value(): ReadableAtom<T> {
    return this.#value;
  }

  get status(): ReadableAtom<SyncStatus> {
    return this.#status;
  }

  /** The operations waiting for the server, oldest first. */
  get pending(): readonly PendingOperation[] {
    return this.#pending;
  }

  /**
   * Applies an operation locally at once and queues it for the server; returns its
   * `client_op_id`. Throws StateOperationError if it is malformed or clashes with the document.
   */
  apply(operation: StateOperation): string {
    if (this.#storageKey === undefined) {
      throw new StateOperationError('not signed in, or not loaded yet: await `ready` after signing in');
    }
    const checked = parseStateOperation(operation);
    applyStateOperation(this.#value.get(), checked);
    this.#counter += 1;
    const pending = {
      client_op_id: `${this.randomId()}-${this.#counter}`,
      operation: checked,
      created_at: this.clock.now(),
    };
    this.#pending.push(pending);
    this.#changed();
    if (this.#live) this.#sendOne(pending);
    return pending.client_op_id;
  }

  /** Resolves when the server has confirmed every local edit made so far. */
  settled(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    const settled = new Promise<void>((resolve) => this.#idleWaiters.add(resolve));
    this.link.awaited();
    return settled;
  }

  /** Whether anyone awaits `settled()`. */
  get awaited(): boolean {
    return this.#idleWaiters.size > 0;
  }

  // --- driven by the connection ---------------------------------------------------------

  /** Resolves once the signed-in user's copy is loaded; `apply` throws before. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Loads the user's persisted document and outbox (sign-in, or a restart offline). */
  load(storageKey: string | undefined): Promise<void> {
    this.#ready = this.#load(storageKey);
    return this.#ready;
  }

  async #load(storageKey: string | undefined): Promise<void> {
    if (storageKey === this.#loading) return;
    this.#loading = storageKey;
    this.#storageKey = undefined;
    this.#live = false;
    this.#inFlight.clear();
    const stored = storageKey ? await this.#read(storageKey) : undefined;
    if (this.#loading !== storageKey) return;
    this.#storageKey = storageKey;
    this.#confirmed = stored?.document ?? {};
    this.#seq = stored?.seq ?? 0;
    this.#pending = stored?.pending ?? [];
    this.#changed({ persist: false });
  }

  /** The last sequence number applied, to subscribe from. */
  get seq(): number {
    return this.#seq;
  }

  disconnected(): void {
    this.#live = false;
    this.#inFlight.clear();
    this.#publishStatus();
  }

  receive(message: LiveMessage): void {
    switch (message.type) {
      case 'snapshot':
        this.#confirmed = message.document;
        this.#seq = message.seq;
        this.#caughtUp();
        return;
      case 'catch_up':
        // A catch-up may overlap what already arrived live (the server resends after an outage).
        for (const operation of message.operations) if (operation.seq > this.#seq) this.#confirm(operation);
        this.#seq = Math.max(this.#seq, message.seq);
        this.#caughtUp();
        return;
      case 'op':
        if (message.seq <= this.#seq) return;
        if (message.prev_seq > this.#seq) {
          // An operation of this namespace never reached us: ask for what we missed.
          this.#live = false;
          this.link.resubscribe(this.namespace, this.#seq);
          return;
        }
        this.#confirm(message);
        this.#changed();
        return;
      case 'ack':
        this.#inFlight.delete(message.client_op_id);
        // Applied before (a replay): if our log is past it, it is already in `confirmed`.
        if (message.seq <= this.#seq) this.#drop(message.client_op_id);
        else if (message.status === 'duplicate') this.link.resubscribe(this.namespace, this.#seq);
        this.#changed();
        return;
      case 'error':
        if (message.client_op_id !== undefined) {
          this.#refused(message.client_op_id, message.error, message.message, message.retry_after_ms);
        } else {
          // The subscription itself failed on the server: ask again shortly, or when it says
          // (a `rate_limited` subscribe carries `retry_after_ms`; asking sooner is refused again).
          this.clock.schedule(
            () => this.link.resubscribe(this.namespace, this.#seq || undefined),
            message.retry_after_ms ?? RETRY_MS,
          );
        }
        return;
    }
  }

  #refused(clientOpId: string, error: string, message: string, retryAfterMs: number | undefined): void {
    this.#inFlight.delete(clientOpId);
    const pending = this.#pending.find((p) => p.client_op_id === clientOpId);
    if (!pending) return;
    if (error === 'rate_limited' || error === 'internal_error' || error === 'storage_unavailable') {
      // Kept: sent again once the server has room.
      this.clock.schedule(() => {
        if (this.#live && this.#pending.includes(pending)) this.#sendOne(pending);
      }, retryAfterMs ?? RETRY_MS);
      return;
    }
    this.#drop(clientOpId);
    this.#status.set({ ...this.#status.get(), rejected: { client_op_id: clientOpId, error, message } });
    this.#changed();
  }

  #caughtUp(): void {
    this.#live = true;
    this.#changed();
    // Everything not yet confirmed goes (again): replays of applied ones come back as duplicates.
    for (const pending of this.#pending) this.#sendOne(pending);
  }

  #confirm(operation: SyncOperation): void {
    try {
      this.#confirmed = applyStateOperation(this.#confirmed, operation.operation);
    } catch (error) {
      // The server applied it, so our copy has drifted: start again from a snapshot.
      if (!(error instanceof StateOperationError)) throw error;
      this.#live = false;
      this.link.resubscribe(this.namespace, undefined);
    }
    this.#seq = operation.seq;
    this.#drop(operation.client_op_id);
  }

  #drop(clientOpId: string): void {
    this.#pending = this.#pending.filter((p) => p.client_op_id !== clientOpId);
    this.#inFlight.delete(clientOpId);
    this.#settled.add(clientOpId);
    if (this.#settled.size > SETTLED_MEMORY) this.#settled.delete(this.#settled.values().next().value!);
  }

  #sendOne(pending: PendingOperation): void {
    if (this.#inFlight.has(pending.client_op_id)) return;
    this.#inFlight.add(pending.client_op_id);
    this.link.send(this.namespace, pending);
  }

  /** Recomputes the visible value (rebase), publishes, persists. */
  #changed(options: { persist: boolean } = { persist: true }): void {
    let visible = this.#confirmed;
    for (const { operation } of this.#pending) {
      try {
        visible = applyStateOperation(visible, operation);
      } catch {
        // Clashes after a rebase: the server will refuse it too, and say so.
      }
    }
    this.#value.set(visible as T);
    this.#publishStatus();
    if (options.persist) this.#persist();
    if (this.#pending.length === 0) {
      for (const resolve of this.#idleWaiters) resolve();
      this.#idleWaiters.clear();
    }
  }

  #publishStatus(): void {
    this.#status.set({
      ...this.#status.get(),
      live: this.#live,
      pending: this.#pending.length,
      seq: this.#seq,
    });
  }

  /**
   * Writes in order, one at a time; a failed write is retried by the next change. Other tabs of
   * the same user share the key: their queued edits found in storage are kept unless this tab
   * has seen them settled, so a tab closed offline leaves its outbox to the next one.
   */
  #persist(): void {
    const key = this.#storageKey;
    if (key === undefined) return;
    const mine = [...this.#pending];
    const state = { seq: this.#seq, document: this.#confirmed };
    this.#writes = this.#writes
      .then(async () => {
        const stored = await this.#read(key);
        const ids = new Set(mine.map((p) => p.client_op_id));
        const others = (stored?.pending ?? []).filter(
          (p) => !ids.has(p.client_op_id) && !this.#settled.has(p.client_op_id),
        );
        const newer = stored !== undefined && stored.seq > state.seq ? stored : state;
        const next: PersistedDocument = {
          seq: newer.seq,
          document: newer.document,
          pending: [...others, ...mine],
        };
        await this.storage.set(key, JSON.stringify(next));
      })
      .catch(() => undefined);
  }

  async #read(key: string): Promise<PersistedDocument | undefined> {
    try {
      const raw = await this.storage.get(key);
      return raw ? (JSON.parse(raw) as PersistedDocument) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Resolves when every write so far has reached storage. */
  flushed(): Promise<void> {
    return this.#writes;
  }
}
