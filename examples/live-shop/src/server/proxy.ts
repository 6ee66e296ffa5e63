import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The paths the shop forwards to sessiond: the API (sync socket included), OAuth and discovery. */
export const PROXIED_PREFIXES: readonly string[] = ['/api/', '/oauth/', '/.well-known/'];

export function isProxied(url: string): boolean {
  return PROXIED_PREFIXES.some((prefix) => url.startsWith(prefix));
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own; every other header passes as it is,
// Origin and Cookie included: sessiond checks the browser's Origin against SESSIOND_CORS_ORIGINS
// and reads its own cookies, which the browser keeps for the shop's host.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function forwardedHeaders(incoming: IncomingMessage, target: URL): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers.host = target.host;
  // sessiond records the browser's address (SESSIOND_TRUST_PROXY=true), not the proxy's.
  const previous = incoming.headers['x-forwarded-for'];
  const client = incoming.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = previous ? `${previous}, ${client}` : client;
  return headers;
}

/** Forwards one HTTP request to sessiond and streams the answer back, Set-Cookie and all. */
export function proxyRequest(incoming: IncomingMessage, outgoing: ServerResponse, sessiond: URL): void {
  const upstream = request(
    new URL(incoming.url ?? '/', sessiond),
    { method: incoming.method, headers: forwardedHeaders(incoming, sessiond) },
    (answer) => {
      const headers = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete headers[name];
      outgoing.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(outgoing);
    },
  );
  upstream.on('error', () => {
    if (!outgoing.headersSent) {
      outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error: 'bad_gateway', message: 'sessiond is not reachable' }));
    } else outgoing.destroy();
  });
  incoming.pipe(upstream);
}

/**
 * Forwards a WebSocket upgrade (the sync socket, `GET /api/sync`) and then pipes bytes both
 * ways: the shop never reads the frames.
 */
export function proxyUpgrade(incoming: IncomingMessage, socket: Socket, head: Buffer, sessiond: URL): void {
  const headers = forwardedHeaders(incoming, sessiond);
  headers.connection = 'Upgrade';
  headers.upgrade = incoming.headers.upgrade ?? 'websocket';
  const upstream = request(new URL(incoming.url ?? '/', sessiond), { method: 'GET', headers });
  upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
    const lines = [`HTTP/1.1 ${answer.statusCode ?? 101} ${answer.statusMessage ?? 'Switching Protocols'}`];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
    const close = (): void => {
      upstreamSocket.destroy();
      socket.destroy();
    };
    upstreamSocket.on('error', close).on('close', close);
    socket.on('error', close).on('close', close);
  });
  // A refused handshake (403 origin_not_allowed, 401): the browser gets sessiond's answer.
  upstream.on('response', (answer) => {
    const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`, 'connection: close'];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      const name = answer.rawHeaders[i] ?? '';
      if (!HOP_BY_HOP.has(name.toLowerCase())) lines.push(`${name}: ${answer.rawHeaders[i + 1]}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    answer.pipe(socket);
  });
  upstream.on('error', () => socket.destroy());
  upstream.end();
}
