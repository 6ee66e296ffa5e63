import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { log } from '../log.js';
import { sleep } from '../sleep.js';
import { applyMessage, type SocketOwner, type SyncEndpoint } from './endpoint.js';
import { openSockets } from './socket-pool.js';
import { ACTIVE_USERS, type SyncUser } from './sync-sessiond.js';

// Row 9: with N sockets open, authenticated and subscribed, how long an operation takes from
// one device of a user to another. Each active user has two devices with one socket each, so
// every operation reaches two sockets (the other device and the sender), as for a real user
// with a phone and a laptop. The other N − 100 sockets belong to idle users, several sockets on
// each of their sessions: they stay open and subscribed and receive nothing, which is what most
// of a node's sockets do at any moment. The bare ws baseline gets the same sockets in the same
// groups.

export const SOCKET_COUNTS = [100, 1_000, 10_000] as const;
export const WARMUP_OPS = 20;
export const MEASURED_OPS = 300;
/** Operations per second, over all active users: modest, so the row measures latency, not load. */
export const OPS_PER_SECOND = 100;
// An operation that has not arrived by then is lost, and the row fails.
const SETTLE_MS = 1_000;
export const ARRIVAL_TIMEOUT_MS = 10_000;

/** Every socket of one measurement: the active users' two devices first, then the idle ones. */
export function socketOwners(
  active: readonly SyncUser[],
  idle: readonly SyncUser[],
  sockets: number,
): SocketOwner[] {
  const owners: SocketOwner[] = active.flatMap((user) =>
    user.sessions.map((session) => ({ group: user.name, accessToken: session.accessToken })),
  );
  for (let i = owners.length; i < sockets; i++) {
    const user = idle[i % idle.length]!;
    owners.push({ group: user.name, accessToken: user.sessions[0]!.accessToken });
  }
  return owners;
}

interface Pending {
  sentAt: number;
  receiver: WebSocket;
  resolve(latencyMs: number): void;
  reject(error: Error): void;
}

/** Opens the sockets, sends WARMUP_OPS + MEASURED_OPS operations, answers the measured latencies. */
export async function measureDeviceLatency(
  endpoint: SyncEndpoint,
  owners: readonly SocketOwner[],
  tag: string,
): Promise<number[]> {
  const openingAt = performance.now();
  const pool = await openSockets(endpoint, owners);
  log(
    `  opened ${owners.length.toLocaleString('en-US')} sockets in ${((performance.now() - openingAt) / 1000).toFixed(1)} s`,
  );
  try {
    // The server finishes with the handshakes (and their garbage) before the first operation.
    await sleep(SETTLE_MS);
    const devices = pool.sockets.slice(0, 2 * ACTIVE_USERS);
    const pending = new Map<string, Pending>();
    const stray: string[] = [];
    for (const socket of devices) {
      socket.on('message', (data) => {
        // Read the clock first: parsing is the harness's cost, not the server's.
        const at = performance.now();
        const message = JSON.parse(data.toString()) as {
          type: string;
          client_op_id?: string;
          error?: string;
          message?: string;
        };
        const waiting = message.client_op_id === undefined ? undefined : pending.get(message.client_op_id);
        if (message.type === 'error') {
          const why = new Error(`sessiond refused an operation: ${message.error}: ${message.message}`);
          if (waiting === undefined) stray.push(why.message);
          else waiting.reject(why);
        } else if (message.type === endpoint.deliveredType && waiting?.receiver === socket) {
          pending.delete(message.client_op_id!);
          waiting.resolve(at - waiting.sentAt);
        }
      });
    }

    const arrivals: Array<Promise<number>> = [];
    const startedAt = performance.now();
    for (let i = 0; i < WARMUP_OPS + MEASURED_OPS; i++) {
      // A steady schedule, not "send when the last one arrived": a slow answer does not delay
      // the next operation, so it cannot hide behind its own slowness.
      await sleep(Math.max(0, startedAt + (i * 1000) / OPS_PER_SECOND - performance.now()));
      // Users in turn; every other round the laptop sends to the phone instead.
      const user = i % ACTIVE_USERS;
      const direction = Math.floor(i / ACTIVE_USERS) % 2;
      const sender = devices[2 * user + direction]!;
      const receiver = devices[2 * user + 1 - direction]!;
      const clientOpId = `${tag}-${i}`;
      const frame = applyMessage(clientOpId);
      arrivals.push(
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(clientOpId);
            reject(
              new Error(
                `operation ${i + 1} did not reach the other device within ${ARRIVAL_TIMEOUT_MS / 1000} s`,
              ),
            );
          }, ARRIVAL_TIMEOUT_MS);
          const settle =
            <T>(fn: (value: T) => void) =>
            (value: T) => {
              clearTimeout(timer);
              fn(value);
            };
          pending.set(clientOpId, {
            sentAt: performance.now(),
            receiver,
            resolve: settle(resolve),
            reject: settle(reject),
          });
          sender.send(frame);
        }),
      );
    }
    // allSettled first: every timer is cleared before the first failure is thrown.
    const settled = await Promise.allSettled(arrivals);
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
    if (stray.length > 0) throw new Error(stray[0]);
    const closed = pool.closedCount();
    if (closed > 0) throw new Error(`${closed} of ${owners.length} sockets closed during the measurement`);
    return settled.slice(WARMUP_OPS).map((outcome) => (outcome as PromiseFulfilledResult<number>).value);
  } finally {
    pool.close();
  }
}
