import { RESOURCE_SERVER } from '../helpers/test-server.js';

export interface StreamEvent {
  event: string;
  id: string | undefined;
  data: string;
  /** `Date.now()` when the event's last line arrived. */
  at: number;
}

/** `GET /api/revocations/stream` as a resource server reads it: events recorded to wait on. */
export interface RevocationSubscriber {
  readonly events: StreamEvent[];
  /** The next event (after those already taken) named `event` that matches `where`. */
  next(event: string, where?: (event: StreamEvent) => boolean, timeoutMs?: number): Promise<StreamEvent>;
  close(): void;
}

/**
 * Opens the revocation stream on `baseURL` with HTTP Basic credentials and parses server-sent
 * events (WHATWG HTML §9.2: `field: value` lines, a blank line ends an event) over `fetch`.
 */
export async function openRevocationStream(baseURL: string): Promise<RevocationSubscriber> {
  const abort = new AbortController();
  const credentials = Buffer.from(`${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`).toString('base64');
  const response = await fetch(new URL('/api/revocations/stream', baseURL), {
    headers: { authorization: `Basic ${credentials}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`revocation stream answered ${response.status}: ${await response.text()}`);
  }
  const events: StreamEvent[] = [];
  const taken = new Set<StreamEvent>();
  const waiters = new Set<() => void>();
  let ended = false;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    let current: { event: string; id: string | undefined; data: string[] } = {
      event: 'message',
      id: undefined,
      data: [],
    };
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.search(/\r?\n/);
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1));
          newline = buffer.search(/\r?\n/);
          if (line === '') {
            if (current.data.length > 0 || current.event !== 'message') {
              events.push({
                event: current.event,
                id: current.id,
                data: current.data.join('\n'),
                at: Date.now(),
              });
              for (const wake of waiters) wake();
            }
            current = { event: 'message', id: undefined, data: [] };
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') current.event = value;
          else if (field === 'data') current.data.push(value);
          else if (field === 'id') current.id = value;
        }
      }
    } catch {
      // Aborted by close(), or the node went away.
    } finally {
      ended = true;
      for (const wake of waiters) wake();
    }
  })();
  return {
    events,
    next: (event, where = () => true, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const look = (): void => {
          const found = events.find((e) => !taken.has(e) && e.event === event && where(e));
          if (found) {
            taken.add(found);
            cleanUp();
            resolve(found);
          } else if (ended) {
            cleanUp();
            reject(new Error(`stream ended while waiting for ${event}; got ${JSON.stringify(events)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanUp();
          reject(new Error(`no ${event} event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        const cleanUp = (): void => {
          clearTimeout(timer);
          waiters.delete(look);
        };
        waiters.add(look);
        look();
      }),
    close: () => abort.abort(),
  };
}
