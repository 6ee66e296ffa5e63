import type { ServerResponse } from 'node:http';

/** A creator's live stream, as the banner shows it. */
export interface LiveEvent {
  id: string;
  creator: string;
  title: string;
}

/**
 * The shop's live events, pushed to every open page as server-sent events. This is the app's
 * own data, not a user's: one feed for everyone, so it does not belong in a per-user sessiond
 * document (decision 033). Whether a user dismissed the banner is theirs, and is synced.
 */
export class LiveEvents {
  #current: LiveEvent | null = null;
  readonly #listeners = new Set<ServerResponse>();
  #counter = 0;

  get current(): LiveEvent | null {
    return this.#current;
  }

  start(input: { creator: string; title: string }): LiveEvent {
    this.#counter += 1;
    this.#current = { id: `live-${Date.now().toString(36)}-${this.#counter}`, ...input };
    this.#broadcast();
    return this.#current;
  }

  end(): void {
    this.#current = null;
    this.#broadcast();
  }

  /** Holds `response` open as an event stream; it gets the current event at once, then each change. */
  subscribe(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    this.#listeners.add(response);
    response.on('close', () => this.#listeners.delete(response));
    response.write(this.#message());
  }

  close(): void {
    for (const response of this.#listeners) response.end();
    this.#listeners.clear();
  }

  #message(): string {
    return `event: live\ndata: ${JSON.stringify({ event: this.#current })}\n\n`;
  }

  #broadcast(): void {
    const message = this.#message();
    for (const response of this.#listeners) response.write(message);
  }
}
