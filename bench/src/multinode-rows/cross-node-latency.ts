import { measureDeviceLatency, socketOwners } from '../sync-rows/device-latency.js';
import { type SocketOwner, type SyncEndpoint, sessiondEndpoint } from '../sync-rows/endpoint.js';
import { ACTIVE_USERS, type SyncUsers } from '../sync-rows/sync-sessiond.js';

// Row 13: row 9's device-to-device measurement (src/sync-rows/device-latency.ts, unchanged) on
// two nodes sharing PostgreSQL and Redis. Each of the 50 active users has two devices, a phone
// and a laptop. Cross-node, the phone's socket is on node 1 and the laptop's on node 2, so every
// operation goes from one node to the other through the Redis bus (row 9 alternates the sender
// every round, so half go 1 → 2 and half 2 → 1). The same-run baseline puts both devices on
// node 1, row 9's way. In both, the idle sockets are spread over the two nodes alike, so the two
// measurements differ only in where the laptop's socket is.

/** Row 13's socket counts (row 9 goes on to 10,000 on one node). */
export const CROSS_NODE_SOCKET_COUNTS = [100, 1_000] as const;

export type Placement = 'cross-node' | 'same-node';

/** Node index (0 or 1) of the i-th socket of socketOwners(): active devices first, then idle. */
function nodeOf(index: number, placement: Placement): number {
  if (index >= 2 * ACTIVE_USERS) return index % 2;
  // Active user u's phone is socket 2u, its laptop 2u + 1.
  return placement === 'cross-node' ? index % 2 : 0;
}

/** A sessiond endpoint that opens each owner's socket on the node the placement gives it. */
function placedEndpoint(
  baseURLs: readonly [string, string],
  owners: readonly SocketOwner[],
  placement: Placement,
) {
  const endpoints = baseURLs.map((baseURL) => sessiondEndpoint(baseURL));
  const node = new Map(owners.map((owner, index) => [owner, endpoints[nodeOf(index, placement)]!]));
  const endpoint: SyncEndpoint = {
    id: 'sessiond',
    deliveredType: 'op',
    open: (owner) => {
      const target = node.get(owner);
      if (target === undefined) throw new Error('a socket owner without a node');
      return target.open(owner);
    },
  };
  return endpoint;
}

/** The latencies of MEASURED_OPS operations with `sockets` sockets open over the two nodes. */
export function measureCrossNodeLatency(
  baseURLs: readonly [string, string],
  users: SyncUsers,
  at: { sockets: number; placement: Placement },
): Promise<number[]> {
  const owners = socketOwners(users.active, users.idle, at.sockets);
  const endpoint = placedEndpoint(baseURLs, owners, at.placement);
  return measureDeviceLatency(endpoint, owners, `nodes-${at.sockets}-${at.placement}`);
}
