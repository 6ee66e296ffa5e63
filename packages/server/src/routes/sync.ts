import fastifyWebSocket from '@fastify/websocket';
import { SYNC_BEARER_PROTOCOL_PREFIX, SYNC_PATH, SYNC_SUBPROTOCOL } from '@sessiond/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import { SyncConnection } from '../sync/sync-connection.js';

/**
 * `GET /api/sync`: the WebSocket of real-time sync (docs/api.md). The handshake checks the
 * Origin (a browser attaches cookies to a WebSocket handshake from any page, so only allowed
 * origins may open one: cross-site WebSocket hijacking). The access token comes with the
 * handshake (the `sessiond.bearer.*` subprotocol, or the access cookie) or as the first message,
 * never in the URL, which proxies and access logs keep.
 */
export async function syncRoutes(app: FastifyInstance): Promise<void> {
  const { authenticator, state, store, ending, clock, syncHub, transport, config } = app.sessiond;
  // Registered here, inside this plugin's scope: its per-request hooks then run for this route
  // only, not for every HTTP request of the API.
  await app.register(fastifyWebSocket, {
    options: {
      // An `apply` message carries at most one document's worth of value, plus its envelope.
      maxPayload: config.stateMaxBytes + 16 * 1024,
      // Offered alongside a bearer subprotocol, ours is the one selected (never the token).
      handleProtocols: (offered) => (offered.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
    },
  });

  app.route({
    method: 'GET',
    url: SYNC_PATH,
    preValidation: async (request) => {
      const origin = request.headers.origin;
      if (origin !== undefined && !transport.allowsOrigin(origin)) {
        throw new SessiondError('origin_not_allowed', 'this Origin may not open a sync socket');
      }
    },
    handler: async () => {
      throw new SessiondError('upgrade_required', `${SYNC_PATH} is a WebSocket: send an upgrade request`);
    },
    wsHandler: (socket, request) => {
      const token = handshakeToken(request, transport.cookies.accessToken(request));
      new SyncConnection(
        socket,
        {
          authenticator,
          state,
          store,
          ending,
          clock,
          log: request.log,
          limits: {
            maxBufferedBytes: config.syncMaxBufferedBytes,
            subscribes: { perSecond: config.syncSubscribesPerSecond, burst: config.syncSubscribeBurst },
          },
          onAuthenticated: (connection) => syncHub.add(connection),
          onClosed: (connection) => syncHub.remove(connection),
        },
        token === undefined ? undefined : { token },
      );
    },
  });
}

/** The token of the handshake: a `sessiond.bearer.*` subprotocol first, else the access cookie. */
function handshakeToken(request: FastifyRequest, cookie: string | undefined): string | undefined {
  const offered = request.headers['sec-websocket-protocol'];
  for (const protocol of (offered ?? '').split(',')) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith(SYNC_BEARER_PROTOCOL_PREFIX))
      return trimmed.slice(SYNC_BEARER_PROTOCOL_PREFIX.length);
  }
  return cookie;
}
