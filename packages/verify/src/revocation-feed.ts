import { readServerSentEvents } from './sse-reader.js';

export type FeedStatus = 'connecting' | 'live' | 'down';

export interface RevocationFeedOptions {
  url: string;
  headers: Record<string, string>;
  now: () => number;
  onStatus: (status: FeedStatus, error?: unknown) => void;
  /** Keep each revocation this much longer than its tokens' last `exp` (the verifier's leeway). */
  retainExtraMs?: number;
  /** Called for each revocation the stream delivers (replayed ones included). */
  onRevoked?: (sessionId: string) => void;
  /** First reconnect delay cap; doubles per failure up to `maxBackoffMs` (full jitter). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The server pings every 15 s; this long without a byte means the connection is dead. */
  heartbeatTimeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Follows `GET /api/revocations/stream` and remembers every revoked session until the last
 * access token it could have issued has expired. Reconnects with `Last-Event-ID` and backoff;
 * the server replays what was missed and then sends `ready`, and only then is the feed `live`
 * again, so a revocation made while the stream was down is known before anyone trusts it.
 */
export class RevocationFeed {
  readonly #revoked = new Map<string, number>();
  readonly #options: Required<Omit<RevocationFeedOptions, 'fetch' | 'onRevoked'>> &
    Pick<RevocationFeedOptions, 'onRevoked'> & { fetch: typeof fetch };
  #status: FeedStatus = 'connecting';
  #lastEventId: string | undefined;
  #abort = new AbortController();
  #closed = false;
  #running: Promise<void> | undefined;
  #readyWaiters: Array<() => void> = [];

  constructor(options: RevocationFeedOptions) {
    this.#options = {
      initialBackoffMs: 250,
      maxBackoffMs: 30_000,
      heartbeatTimeoutMs: 45_000,
      retainExtraMs: 0,
      ...options,
      fetch: options.fetch ?? fetch,
    };
  }

  get status(): FeedStatus {
    return this.#status;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Resolves when the feed is live (or at once if it is). */
  live(): Promise<void> {
    if (this.#status === 'live') return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  isRevoked(sessionId: string): boolean {
    const until = this.#revoked.get(sessionId);
    if (until === undefined) return false;
    if (until <= this.#options.now()) {
      this.#revoked.delete(sessionId);
      return false;
    }
    return true;
  }

  /** How many revocations are remembered (their tokens could still be presented). */
  get size(): number {
    return this.#revoked.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await this.#running;
    // Nobody waits forever on a feed that will never be live again.
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        await this.#follow(() => {
          failures = 0;
        });
        if (!this.#closed) this.#setStatus('down', new Error('revocation stream ended'));
      } catch (error) {
        if (this.#closed) return;
        this.#setStatus('down', error);
      }
      failures += 1;
      const cap = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** (failures - 1));
      await sleep(Math.random() * cap, this.#abort.signal);
    }
  }

  async #follow(onLive: () => void): Promise<void> {
    const connection = new AbortController();
    const abortConnection = () => connection.abort();
    this.#abort.signal.addEventListener('abort', abortConnection);
    let watchdog: NodeJS.Timeout | undefined;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(abortConnection, this.#options.heartbeatTimeoutMs);
    };
    try {
      feed();
      const headers: Record<string, string> = { ...this.#options.headers, accept: 'text/event-stream' };
      if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
      const response = await this.#options.fetch(this.#options.url, { headers, signal: connection.signal });
      if (!response.ok || !response.body)
        throw new Error(`revocation stream answered HTTP ${response.status}`);
      for await (const event of readServerSentEvents(response.body, feed)) {
        if (event.id !== undefined) this.#lastEventId = event.id;
        if (event.event === 'revoked') this.#remember(event.data);
        else if (event.event === 'ready') {
          onLive();
          this.#setStatus('live');
        }
      }
    } finally {
      clearTimeout(watchdog);
      this.#abort.signal.removeEventListener('abort', abortConnection);
      connection.abort();
    }
  }

  #remember(data: string): void {
    const event = JSON.parse(data) as { session_id?: unknown; access_valid_until?: unknown };
    if (typeof event.session_id !== 'string' || typeof event.access_valid_until !== 'string') return;
    const until = Date.parse(event.access_valid_until) + this.#options.retainExtraMs;
    if (Number.isNaN(until) || until <= this.#options.now()) return;
    this.#revoked.set(event.session_id, until);
    this.#options.onRevoked?.(event.session_id);
  }

  #setStatus(status: FeedStatus, error?: unknown): void {
    if (status === 'live') {
      for (const resolve of this.#readyWaiters.splice(0)) resolve();
      const now = this.#options.now();
      for (const [sessionId, until] of this.#revoked) if (until <= now) this.#revoked.delete(sessionId);
    }
    if (status === this.#status) return;
    this.#status = status;
    this.#options.onStatus(status, error);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
