import { SYNC_CLOSE_CODES } from '@sessiond/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { refresh, request, signIn, signUpAndIn } from '../helpers/api.js';
import { openSync, type SyncSocket } from '../helpers/sync-socket.js';
import { type Cluster, startCluster } from './cluster.js';
import { SyncDevice } from './sync-device.js';
import { readinessBecomes } from './wait.js';

// Issue 7: Redis stopped under a running cluster, then started again. Nodes keep serving from
// PostgreSQL meanwhile, say so on /readyz, and heal by themselves when Redis returns.
let cluster: Cluster;
const devices: SyncDevice[] = [];
const sockets: SyncSocket[] = [];
beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 });
});
afterAll(async () => {
  for (const device of devices) device.close();
  for (const socket of sockets) socket.close();
  await cluster?.close();
});

const status = (url: string, token: string) => request(url, 'GET', '/api/auth/session/status', { token });
const apply = (url: string, token: string, clientOpId: string, value: number) =>
  request(url, 'POST', '/api/state/cart/ops', {
    token,
    body: { client_op_id: clientOpId, op: 'increment', path: ['items', 'sku-1', 'qty'], value },
  });

it('keeps serving while Redis is down, reports degraded, and heals when it returns', async () => {
  const a = cluster.nodes[0]!;
  const b = cluster.nodes[1]!;
  const phone = await signUpAndIn(a.url, { device: { name: 'phone' } });
  const laptopGrant = await signIn(b.url, phone.email, { device: { name: 'laptop' } });
  const laptop = new SyncDevice(laptopGrant.access_token);
  devices.push(laptop);
  await laptop.connect(b.url);
  expect((await apply(a.url, phone.access_token, 'before', 1)).body).toMatchObject({
    status: 'applied',
    seq: 1,
  });
  await laptop.waitFor('before');
  for (const node of cluster.nodes) {
    expect((await readinessBecomes(node, 'ready')).body).toEqual({
      status: 'ready',
      storage: 'up',
      bus: 'up',
    });
  }

  await cluster.redis.kill();

  for (const node of cluster.nodes) {
    const degraded = await readinessBecomes(node, 'degraded');
    expect(degraded.status).toBe(200);
    expect(JSON.stringify(degraded.body)).toContain('"bus":"down"');
  }
  // Every node still signs up, signs in, refreshes, authenticates and applies state.
  const newcomer = await signUpAndIn(b.url);
  expect((await status(a.url, newcomer.access_token)).status).toBe(200);
  const onA = await signIn(a.url, phone.email, { device: { name: 'tablet' } });
  const onB = await signIn(b.url, phone.email, { device: { name: 'watch' } });
  const refreshedOnB = await refresh(b.url, onA.refresh_token);
  expect(refreshedOnB.status, JSON.stringify(refreshedOnB.body)).toBe(200);
  const refreshedOnA = await refresh(a.url, refreshedOnB.body.refresh_token);
  expect(refreshedOnA.status, JSON.stringify(refreshedOnA.body)).toBe(200);
  expect((await status(a.url, refreshedOnA.body.access_token)).status).toBe(200);
  expect((await status(b.url, refreshedOnA.body.access_token)).status).toBe(200);
  const whileDown = await apply(a.url, phone.access_token, 'while-down', 2);
  expect(whileDown.status, JSON.stringify(whileDown.body)).toBe(200);
  expect(whileDown.body).toMatchObject({ status: 'applied', seq: 2 });

  // A revocation on A is refused on B at the next request: sessions are read from PostgreSQL.
  const watchSocket = await openSync(b.url, { token: onB.access_token });
  sockets.push(watchSocket);
  await watchSocket.next('ready');
  expect((await status(b.url, onB.access_token)).status).toBe(200);
  const revokedAt = Date.now();
  const revoke = await request(a.url, 'POST', '/api/auth/session/revoke', {
    token: onA.access_token,
    body: { session_id: onB.session.id },
  });
  expect(revoke.body).toEqual({ session_id: onB.session.id, revoked: true });
  const refused = await status(b.url, onB.access_token);
  expect(refused.status).toBe(401);
  expect(refused.body).toMatchObject({ error: 'session_revoked' });
  // And the revoked session's open socket on B is closed without the bus too (read from the database).
  const watchClosed = await Promise.race([
    watchSocket.closed,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000)),
  ]);
  expect(watchClosed, 'the revoked session’s socket on B stayed open').toMatchObject({
    code: SYNC_CLOSE_CODES.session_revoked,
  });
  expect(watchClosed!.at - revokedAt).toBeLessThan(3_000);

  await cluster.redis.start();

  for (const node of cluster.nodes) {
    expect((await readinessBecomes(node, 'ready', 15_000)).body).toEqual({
      status: 'ready',
      storage: 'up',
      bus: 'up',
    });
  }
  // What A applied while the bus was down reaches the device on B: the node catches its sockets
  // up, or closes them with a code that says reconnect and the device's catch-up brings it.
  const delivered = await Promise.race([
    laptop.waitFor('while-down', 10_000, { evenIfClosed: true }).then(() => 'delivered' as const),
    laptop.closed,
  ]);
  if (delivered !== 'delivered') {
    // A code that says "reconnect": going away, service restart, try again later (RFC 6455 §7.4.1).
    expect(
      [SYNC_CLOSE_CODES.going_away, SYNC_CLOSE_CODES.service_restart, 1013],
      `closed ${delivered.code} ${delivered.reason}`,
    ).toContain(delivered.code);
    await laptop.connect(b.url);
    await laptop.waitFor('while-down');
  }
  expect(laptop.seen.get('while-down')).toBe(2);

  // Live delivery across nodes works again.
  expect((await apply(a.url, phone.access_token, 'after', 3)).body).toMatchObject({
    status: 'applied',
    seq: 3,
  });
  expect(await laptop.waitFor('after')).toBe(3);
  expect([...laptop.seen]).toEqual([
    ['before', 1],
    ['while-down', 2],
    ['after', 3],
  ]);
  // Healed without a restart: each node is still its first process.
  for (const node of cluster.nodes) {
    expect(node.running).toBe(true);
    expect(node.pids).toHaveLength(1);
  }
}, 60_000);
