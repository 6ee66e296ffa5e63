import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_STATUS, type ErrorCode } from '@sessiond/protocol';
import { DRAIN_LIMITS } from './drain-request.js';

/** Node's HTTP parser errors that have a code of ours; every other one is a malformed request. */
const PARSER_CODES: Record<string, { code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 'request_header_too_large',
    message: 'the request header section is larger than the server accepts',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    code: 'payload_too_large',
    message: 'the chunk extensions of the request body are too large',
  },
};

const MALFORMED = { code: 'invalid_request', message: 'the request is not valid HTTP/1.1' } as const;

/** The raw response for an error Node's parser met, in the `{error, message}` contract. */
export function clientErrorResponse(parserCode: string | undefined): string {
  const { code, message } = (parserCode ? PARSER_CODES[parserCode] : undefined) ?? MALFORMED;
  const status = ERROR_STATUS[code];
  const body = JSON.stringify({ error: code, message });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'cache-control: no-store',
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP server does for a request it could not parse
 * (a malformed request line, headers over the size limit), before any route or hook sees it.
 * Answers in our contract instead of Node's and Fastify's own bodies, then half-closes and
 * reads what the client still sends (bounded, as for a refused body) so the kernel does not
 * reset the connection under the answer.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset peer is gone; a destroyed socket has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A request that never finished arriving: Node's bare 408, as before (no code of ours fits,
  // and the client has stopped sending).
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  // A response already on its way on this connection (pipelining) must not be corrupted.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(
    timedOut ? 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n' : clientErrorResponse(error.code),
  );
  let drained = 0;
  const close = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, DRAIN_LIMITS.maxMs);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMITS.maxBytes) close();
  });
  socket.once('end', close).once('close', () => clearTimeout(timer));
  socket.resume();
}
