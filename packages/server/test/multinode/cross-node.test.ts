import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refresh, request, signIn, signUpAndIn } from '../helpers/api.js';
import { openSync, type SyncSocket } from '../helpers/sync-socket.js';
import { type Cluster, startCluster } from './cluster.js';
import { openRevocationStream, type RevocationSubscriber } from './event-stream.js';

// Issue 7: three sessiond processes on one PostgreSQL and one Redis, as behind a load balancer.
let cluster: Cluster;
const sockets: SyncSocket[] = [];
const streams: RevocationSubscriber[] = [];
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const stream of streams) stream.close();
  await cluster?.close();
});

const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');
const increment = (value: number) => ({ op: 'increment', path: ['items', 'sku-1', 'qty'], value });

describe('across nodes', () => {
  it('a refresh token sent to two nodes at once: both 200 with one successor, no reuse, the session lives on', async () => {
    const [a, b] = cluster.nodes;
    const grant = await signUpAndIn(a!.url);
    let token = grant.refresh_token;
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const [onA, onB] = await Promise.all([refresh(a!.url, token), refresh(b!.url, token)]);
      expect(onA.status, `round ${round} on A: ${JSON.stringify(onA.body)}`).toBe(200);
      expect(onB.status, `round ${round} on B: ${JSON.stringify(onB.body)}`).toBe(200);
      expect(onB.body.refresh_token).toBe(onA.body.refresh_token);
      expect(onA.body.refresh_token).not.toBe(token);
      // Each node's access token works on the other node.
      for (const [node, answer] of [
        [b!, onA],
        [a!, onB],
      ] as const) {
        const status = await request(node.url, 'GET', '/api/auth/session/status', {
          token: answer.body.access_token,
        });
        expect(status.status, JSON.stringify(status.body)).toBe(200);
        expect(status.body).toMatchObject({ session: { id: grant.session.id } });
      }
      token = onA.body.refresh_token;
    }

    const [session] = await cluster.query(
      'SELECT ended_at, end_reason, refresh_count FROM sessions WHERE id = $1',
      [grant.session.id],
    );
    expect(session).toMatchObject({ ended_at: null, end_reason: null, refresh_count: rounds });
    const logs = await cluster.query<{ action: string; detail: string | null }>(
      "SELECT action, detail FROM session_logs WHERE session_id = $1 AND action LIKE 'refresh%' ORDER BY id",
      [grant.session.id],
    );
    expect(logs.filter((log) => log.action === 'refresh_reuse_detected')).toEqual([]);
    // Every round: one real rotation and one answer from the grace window.
    expect(logs.filter((log) => log.action === 'refresh')).toHaveLength(2 * rounds);
    expect(logs.filter((log) => log.detail?.includes('"grace":true'))).toHaveLength(rounds);
    const [held] = await cluster.query('SELECT status FROM refresh_tokens WHERE token_hash = $1', [
      sha256(token),
    ]);
    expect(held).toEqual({ status: 'active' });
    const next = await refresh(b!.url, token);
    expect(next.status, JSON.stringify(next.body)).toBe(200);
  });

  it('a revoke on A: the next request on B and C is 401 session_revoked, and their revocation streams say so within 1 s', async () => {
    const [a, b, c] = cluster.nodes;
    const victim = await signUpAndIn(a!.url, { device: { name: 'phone' } });
    const other = await signIn(a!.url, victim.email, { device: { name: 'laptop' } });
    const before = await request(b!.url, 'GET', '/api/auth/session/status', { token: victim.access_token });
    expect(before.status).toBe(200);

    const onB = await openRevocationStream(b!.url);
    const onC = await openRevocationStream(c!.url);
    streams.push(onB, onC);
    await onB.next('ready', undefined, 10_000);
    await onC.next('ready', undefined, 10_000);
    const revoke = await request(a!.url, 'POST', '/api/auth/session/revoke', {
      token: other.access_token,
      body: { session_id: victim.session.id },
    });
    const answeredAt = Date.now();
    expect(revoke.status, JSON.stringify(revoke.body)).toBe(200);
    expect(revoke.body).toEqual({ session_id: victim.session.id, revoked: true });

    for (const node of [b!, c!]) {
      const after = await request(node.url, 'GET', '/api/auth/session/status', {
        token: victim.access_token,
      });
      expect(after.status, `on ${node.name}`).toBe(401);
      expect(after.body).toMatchObject({ error: 'session_revoked' });
    }

    for (const stream of [onB, onC]) {
      const event = await stream.next(
        'revoked',
        (e) => (JSON.parse(e.data) as { session_id: string }).session_id === victim.session.id,
        3_000,
      );
      expect(event.at - answeredAt).toBeLessThan(1_000);
      expect(JSON.parse(event.data)).toMatchObject({
        session_id: victim.session.id,
        user_id: victim.session.user_id,
        reason: 'revoked',
      });
    }
    // The other session is untouched, on every node.
    for (const node of cluster.nodes) {
      const survivor = await request(node.url, 'GET', '/api/auth/session/status', {
        token: other.access_token,
      });
      expect(survivor.status, `on ${node.name}`).toBe(200);
    }
  });

  it('a sync operation applied on A reaches the same user’s other devices subscribed on B and C', async () => {
    const [a, b, c] = cluster.nodes;
    const phone = await signUpAndIn(a!.url, { device: { name: 'phone' } });
    const laptop = await signIn(b!.url, phone.email, { device: { name: 'laptop' } });
    const tablet = await signIn(c!.url, phone.email, { device: { name: 'tablet' } });
    const laptopSocket = await openSync(b!.url, { token: laptop.access_token });
    const tabletSocket = await openSync(c!.url, { token: tablet.access_token });
    const phoneSocket = await openSync(a!.url, { token: phone.access_token });
    sockets.push(laptopSocket, tabletSocket, phoneSocket);
    await phoneSocket.next('ready');
    for (const socket of [laptopSocket, tabletSocket]) {
      await socket.next('ready');
      socket.send({ type: 'subscribe', namespace: 'cart', since: 0 });
      expect(await socket.next('catch_up')).toMatchObject({ seq: 0, operations: [] });
    }

    phoneSocket.send({
      type: 'apply',
      namespace: 'cart',
      client_op_id: 'phone-op-1',
      operation: increment(2),
    });
    expect(await phoneSocket.next('ack')).toMatchObject({
      client_op_id: 'phone-op-1',
      status: 'applied',
      seq: 1,
    });
    for (const socket of [laptopSocket, tabletSocket]) {
      expect(await socket.next('op', (m) => m.client_op_id === 'phone-op-1')).toEqual({
        type: 'op',
        namespace: 'cart',
        seq: 1,
        prev_seq: 0,
        client_op_id: 'phone-op-1',
        device_id: phone.device.id,
        operation: increment(2),
      });
    }

    // Over HTTP on A as well.
    const applied = await request(a!.url, 'POST', '/api/state/cart/ops', {
      token: phone.access_token,
      body: { client_op_id: 'phone-op-2', ...increment(3) },
    });
    expect(applied.body).toMatchObject({ status: 'applied', seq: 2 });
    for (const socket of [laptopSocket, tabletSocket]) {
      expect(await socket.next('op', (m) => m.client_op_id === 'phone-op-2')).toMatchObject({
        seq: 2,
        prev_seq: 1,
      });
    }
  });
});
