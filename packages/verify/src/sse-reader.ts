/** One server-sent event (WHATWG HTML §9.2.6), as far as this package needs it. */
export interface ServerSentEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body. Yields each dispatched event; `onActivity` fires for every
 * chunk, comments included, so a heartbeat watchdog can tell a quiet stream from a dead one.
 * Node 20 has no EventSource, and this is all of it that a revocation feed needs.
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  onActivity: () => void,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { id: undefined as string | undefined, event: 'message', data: [] as string[] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    onActivity();
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(
        buffer[newline] === '\r' && buffer[newline + 1] === '\n' ? newline + 2 : newline + 1,
      );
      if (line === '') {
        if (event.data.length > 0) yield { id: event.id, event: event.event, data: event.data.join('\n') };
        event = { id: event.id, event: 'message', data: [] };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') event.data.push(value);
        else if (field === 'event') event.event = value;
        else if (field === 'id' && !value.includes('\0')) event.id = value;
      }
      newline = buffer.search(/\r\n|\r|\n/);
    }
  }
}
