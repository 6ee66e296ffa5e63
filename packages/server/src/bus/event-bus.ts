import type { EventName, EventPayloads } from '@sessiond/protocol';

export type EventHandler<K extends EventName> = (payload: EventPayloads[K]) => void;

/**
 * Carries lifecycle events between the parts of the server (revocation stream, WebSocket hub,
 * webhooks, metrics). The in-process bus is the default; a Redis bus with the same interface
 * fans out across nodes.
 */
export interface EventBus {
  publish<K extends EventName>(name: K, payload: EventPayloads[K]): void;
  /** Every event of the deployment (this node's and, on Redis, the others'). Returns an unsubscribe function. */
  subscribe<K extends EventName>(name: K, handler: EventHandler<K>): () => void;
  /** Only the events published on this node: for counting (metrics), where a shared feed counts twice. */
  readonly local: Pick<EventBus, 'subscribe'>;
  /** Whether events reach every node; false while Redis is away (each node then serves alone). */
  readonly connected: boolean;
  /**
   * Calls `handler` when fan-out comes back after an outage: what other nodes published
   * meanwhile never arrived, so listeners catch up from the database. Returns an unsubscribe.
   */
  onResume(handler: () => void): () => void;
}

/** Synchronous fan-out inside one process. A throwing handler never breaks the publisher. */
export class InProcessBus implements EventBus {
  readonly #handlers = new Map<EventName, Set<(payload: unknown) => void>>();

  constructor(private readonly onHandlerError: (error: unknown, name: EventName) => void = () => {}) {}

  publish<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    for (const handler of this.#handlers.get(name) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        this.onHandlerError(error, name);
      }
    }
  }

  /** One process is the whole deployment: everything is local, and always connected. */
  get local(): this {
    return this;
  }

  get connected(): boolean {
    return true;
  }

  onResume(): () => void {
    return () => {};
  }

  subscribe<K extends EventName>(name: K, handler: EventHandler<K>): () => void {
    let handlers = this.#handlers.get(name);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(name, handlers);
    }
    const wrapped = handler as (payload: unknown) => void;
    handlers.add(wrapped);
    return () => handlers.delete(wrapped);
  }
}
