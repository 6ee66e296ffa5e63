import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawResponse {
  status: number;
  /** Header names lower-cased; the last value wins. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent before it closed the connection. */
  raw: string;
  /** The socket error the client met, if any (ECONNRESET means the answer may be lost). */
  error: string | undefined;
}

/**
 * Sends bytes over a raw TCP connection, as a client that HTTP libraries would not let us be
 * (malformed request lines, huge headers, a body written slowly while the server answers early),
 * and reads everything the server sends until it closes the connection.
 */
export async function rawExchange(
  url: string,
  head: string,
  body?: { bytes: number; chunkBytes: number; pauseMs: number },
): Promise<RawResponse> {
  const { port } = new URL(url);
  // Half-open, as a client that sends its whole body before it reads (most do): the server's
  // FIN does not stop the upload, only an error (EPIPE, ECONNRESET) does.
  const socket = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let error: string | undefined;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (problem: NodeJS.ErrnoException) => {
    error ??= problem.code ?? problem.message;
  });
  // Not events.once: it rejects on 'error', and an error is an outcome here, recorded above.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // A server that never closes would hang the test: the assertions then see what came.
  const guard = setTimeout(() => socket.destroy(), 10_000);
  await once(socket, 'connect');
  socket.write(head);
  if (body) {
    const chunk = Buffer.alloc(body.chunkBytes, 'a');
    // Keeps sending while the server answers, as a real upload does; stops once it cannot.
    for (let sent = 0; sent < body.bytes && !socket.destroyed; sent += chunk.length) {
      if (!socket.write(chunk.subarray(0, Math.min(chunk.length, body.bytes - sent)))) {
        await new Promise((resolve) => {
          socket.once('drain', resolve);
          socket.once('close', resolve);
        });
      }
      await sleep(body.pauseMs);
    }
  }
  if (!socket.destroyed) socket.end();
  await closed;
  clearTimeout(guard);
  const raw = Buffer.concat(chunks).toString('utf8');
  return { ...parseResponse(raw), raw, error };
}

function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/1.1 ') || end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = raw.slice(end + 4);
  const length = Number(headers['content-length'] ?? rest.length);
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(0, length) };
}
