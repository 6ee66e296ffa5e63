import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bundlePage } from './bundle.js';
import { LiveEvents } from './live-events.js';
import { isProxied, proxyRequest, proxyUpgrade } from './proxy.js';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

/** No inline script or style, nothing from elsewhere: the page and the sync socket are same-origin. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface ShopOptions {
  /** Where sessiond answers (the proxy's target), e.g. `http://127.0.0.1:7420`. */
  sessiondURL: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The page signs out after this long without activity (the client's `idle.timeoutMs`). Default 15 min. */
  idleTimeoutMs?: number;
}

export interface Shop {
  /** The shop's origin as a browser should open it: `http://localhost:<port>` (passkeys need a domain). */
  url: string;
  live: LiveEvents;
  close(): Promise<void>;
}

/**
 * The live shop on one origin with sessiond: its page, script and styles, a live-event stream,
 * and a reverse proxy of sessiond's /api, /oauth and /.well-known, so the client runs in cookie
 * mode (same-origin cookies, the anti-CSRF header, sessiond's Origin check through
 * SESSIOND_CORS_ORIGINS).
 */
export async function startShop(options: ShopOptions): Promise<Shop> {
  const sessiond = new URL(options.sessiondURL);
  const idleTimeoutMs = options.idleTimeoutMs ?? 15 * 60_000;
  const [script, css, html] = await Promise.all([
    bundlePage(),
    readFile(`${PUBLIC}shop.css`, 'utf8'),
    readFile(`${PUBLIC}index.html`, 'utf8'),
  ]);
  const page = html.replace('{{IDLE_TIMEOUT_MS}}', String(Math.trunc(idleTimeoutMs)));
  const live = new LiveEvents();

  const send = (response: ServerResponse, type: string, body: string): void => {
    response.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    response.end(body);
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    if (isProxied(url)) return proxyRequest(request, response, sessiond);
    const path = url.split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/' || path === '/index.html') return send(response, 'text/html; charset=utf-8', page);
    if (path === '/shop.js') return send(response, 'text/javascript; charset=utf-8', script);
    if (path === '/shop.css') return send(response, 'text/css; charset=utf-8', css);
    if (path === '/shop/live') return live.subscribe(response);
    if (path === '/favicon.ico') return void response.writeHead(204).end();
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  });
  // Upgraded sockets leave the HTTP server's books: kept here so close() ends them too.
  const upgraded = new Set<Socket>();
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!isProxied(request.url ?? '')) return void socket.destroy();
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    proxyUpgrade(request, socket, head, sessiond);
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    live,
    async close() {
      live.close();
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
