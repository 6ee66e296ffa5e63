import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { percentile } from '../percentile.js';
import { withTimeout } from '../with-timeout.js';
import { applyMessage, type SocketOwner, type SyncEndpoint } from './endpoint.js';
import { openSockets } from './socket-pool.js';

// Row 10 over the WebSocket: one socket per user, each keeping OPS_IN_FLIGHT `apply` messages
// in flight (a new one as soon as one is acknowledged). sessiond acknowledges an operation only
// once it is durable (SQLite, synchronous=FULL, group commit), so acks per second are durable
// operations per second.

export const OPS_IN_FLIGHT = 4;
// Acks still missing this long after the run's end mean a stuck server: the run fails.
const DRAIN_TIMEOUT_MS = 10_000;

/** What one timed run measured; the same shape for all three lines of row 10. */
export interface OpsSample {
  /** Acknowledged (durable) operations per second. */
  opsPerSecond: number;
  /** From sending an operation to its acknowledgement (or to its commit, for raw SQLite). */
  p50Ms: number;
  p99Ms: number;
  /** Operations refused (an `error` or non-2xx answer) or never answered. */
  errors: number;
  durationSeconds: number;
}

type Outcome = { ok: true; at: number } | { ok: false; at: number };

export async function runSocketOps(
  endpoint: SyncEndpoint,
  owners: readonly SocketOwner[],
  options: { seconds: number; tag: string },
): Promise<OpsSample> {
  const pool = await openSockets(endpoint, owners);
  try {
    // Per socket, so a socket that closes can fail its own lanes at once.
    const waitingBySocket = new Map<WebSocket, Map<string, (outcome: Outcome) => void>>();
    for (const socket of pool.sockets) {
      const waiting = new Map<string, (outcome: Outcome) => void>();
      waitingBySocket.set(socket, waiting);
      socket.on('message', (data) => {
        const at = performance.now();
        const message = JSON.parse(data.toString()) as { type: string; client_op_id?: string };
        // The socket also receives its own operation (`op`); only the ack says it is durable.
        if (message.type !== 'ack' && message.type !== 'error') return;
        const settle = message.client_op_id === undefined ? undefined : waiting.get(message.client_op_id);
        waiting.delete(message.client_op_id ?? '');
        settle?.({ ok: message.type === 'ack', at });
      });
      socket.on('close', () => {
        for (const settle of waiting.values()) settle({ ok: false, at: performance.now() });
        waiting.clear();
      });
    }
    const latencies: number[] = [];
    let errors = 0;
    let counter = 0;
    const startedAt = performance.now();
    const endsAt = startedAt + options.seconds * 1000;
    const lane = async (socket: WebSocket): Promise<void> => {
      const waiting = waitingBySocket.get(socket)!;
      while (performance.now() < endsAt) {
        if (socket.readyState !== socket.OPEN) throw new Error('a socket closed during the run');
        const clientOpId = `${options.tag}-${counter++}`;
        const frame = applyMessage(clientOpId);
        const answered = new Promise<Outcome>((resolve) => waiting.set(clientOpId, resolve));
        const sentAt = performance.now();
        socket.send(frame);
        const outcome = await answered;
        // Answers after the end belong to no run: the next run starts from a quiet server.
        if (outcome.at > endsAt) continue;
        if (outcome.ok) latencies.push(outcome.at - sentAt);
        else errors++;
      }
    };
    const lanes = pool.sockets.flatMap((socket) => Array.from({ length: OPS_IN_FLIGHT }, () => lane(socket)));
    await withTimeout(
      Promise.all(lanes),
      options.seconds * 1000 + DRAIN_TIMEOUT_MS,
      `${owners.length * OPS_IN_FLIGHT} lanes of acknowledged operations`,
    );
    const closed = pool.closedCount();
    if (closed > 0) throw new Error(`${closed} of ${owners.length} sockets closed during the run`);
    if (latencies.length === 0) throw new Error('no operation was acknowledged');
    const durationSeconds = (endsAt - startedAt) / 1000;
    return {
      opsPerSecond: latencies.length / durationSeconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      errors,
      durationSeconds,
    };
  } finally {
    pool.close();
  }
}
