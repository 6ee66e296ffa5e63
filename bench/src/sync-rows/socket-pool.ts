import type WebSocket from 'ws';
import { mapWithLimit } from '../map-limit.js';
import type { SocketOwner, SyncEndpoint } from './endpoint.js';

// Handshakes in flight at once: enough to open 10,000 sockets in seconds, few enough that the
// server never faces a storm of thousands of half-open connections.
const OPEN_CONCURRENCY = 100;

/** Sockets that are closed together, however the measurement ends. */
export interface SocketPool {
  sockets: WebSocket[];
  /** How many are no longer open (the server closed them, or they broke). */
  closedCount(): number;
  close(): void;
}

/** Opens one socket per owner, in order; if any fails, closes the others and throws. */
export async function openSockets(
  endpoint: SyncEndpoint,
  owners: readonly SocketOwner[],
): Promise<SocketPool> {
  const opened: WebSocket[] = [];
  let failed = false;
  // terminate(), not close(): no closing handshake to wait for, the server just sees the socket go.
  const close = (): void => {
    for (const socket of opened) socket.terminate();
  };
  try {
    const sockets = await mapWithLimit(owners, OPEN_CONCURRENCY, async (owner) => {
      if (failed) throw new Error('another handshake failed');
      const socket = await endpoint.open(owner);
      opened.push(socket);
      // A handshake that was still in flight when another failed.
      if (failed) socket.terminate();
      return socket;
    });
    return {
      sockets,
      closedCount: () => sockets.filter((socket) => socket.readyState !== socket.OPEN).length,
      close,
    };
  } catch (error) {
    failed = true;
    close();
    throw error;
  }
}
