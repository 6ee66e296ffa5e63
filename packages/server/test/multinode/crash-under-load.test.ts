import { createHash } from 'node:crypto';
import { applyStateOperation, type JSONObject, type StateOperation } from '@sessiond/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type APIResponse, refresh, request, signUpAndIn } from '../helpers/api.js';
import { type Cluster, type ClusterNode, startCluster } from './cluster.js';

// Issue 7: one of three nodes killed (SIGKILL) while clients refresh and write state through a
// load balancer. Whatever the crash interrupted, PostgreSQL must hold exactly what the clients
// were told: their latest refresh tokens, each acknowledged operation once, in contiguous order.
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    // This test is about crashes, not about the state-operation rate limit.
    env: { SESSIOND_STATE_OPS_PER_SECOND: '100000', SESSIOND_STATE_OPS_BURST: '100000' },
  });
});
afterAll(async () => {
  await cluster?.close();
});

const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** Round-robin over the nodes, skipping those it saw refuse or drop a connection, as a balancer does. */
class Balancer {
  readonly down = new Set<ClusterNode>();
  connectionErrors = 0;
  #next = 0;

  constructor(private readonly nodes: readonly ClusterNode[]) {}

  /**
   * Sends the request to the next node; on a connection error (refused, reset) sends the very
   * same request to another one. Answers, whatever their status, are returned.
   */
  async send<T>(
    call: (node: ClusterNode) => Promise<APIResponse<T>>,
  ): Promise<{ node: ClusterNode; answer: APIResponse<T> }> {
    const tried = new Set<ClusterNode>();
    for (;;) {
      const candidates = this.nodes.filter((node) => !this.down.has(node) && !tried.has(node));
      if (candidates.length === 0) throw new Error('no node left to try');
      const node = candidates[this.#next++ % candidates.length]!;
      try {
        return { node, answer: await call(node) };
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // fetch's network failure
        this.connectionErrors += 1;
        this.down.add(node);
        tried.add(node);
      }
    }
  }
}

interface Acked {
  clientOpId: string;
  seq: number;
  status: 'applied' | 'duplicate';
  operation: StateOperation;
}

interface LoadClient {
  index: number;
  userId: string;
  sessionId: string;
  refreshToken: string;
  accessToken: string;
  acked: Acked[];
}

/** The client's i-th operation: a mix whose result depends on the order they are applied in. */
function operationFor(client: LoadClient, i: number): StateOperation {
  const id = `c${client.index}-op${i}`;
  if (i % 3 === 0) return { op: 'increment', path: ['total'], value: i + 1 };
  if (i % 3 === 1) return { op: 'set', path: ['last'], value: id };
  return { op: 'add', path: ['ids'], value: id };
}

it('a node killed under load loses nothing the clients were told, and reuses no refresh token', async () => {
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const clients: LoadClient[] = [];
  for (let index = 0; index < 6; index++) {
    const grant = await signUpAndIn(cluster.nodes[index % 3]!.url);
    clients.push({
      index,
      userId: grant.session.user_id,
      sessionId: grant.session.id,
      refreshToken: grant.refresh_token,
      accessToken: grant.access_token,
      acked: [],
    });
  }

  const balancer = new Balancer(cluster.nodes);
  const problems: string[] = [];
  const answeredBy = new Map<string, number>();
  let stop = false;
  let killedAt = 0;
  let answeredAfterKill = 0;
  const count = (node: ClusterNode): void => {
    answeredBy.set(node.name, (answeredBy.get(node.name) ?? 0) + 1);
    if (killedAt > 0) answeredAfterKill += 1;
  };

  const run = async (client: LoadClient): Promise<void> => {
    for (let i = 0; !stop; i++) {
      // Refresh: the latest token it holds; a retry on another node sends the same one.
      const refreshed = await balancer.send((node) => refresh(node.url, client.refreshToken));
      count(refreshed.node);
      if (refreshed.answer.status !== 200) {
        problems.push(
          `client ${client.index} refresh on ${refreshed.node.name}: ${JSON.stringify(refreshed.answer.body)}`,
        );
        return;
      }
      client.refreshToken = refreshed.answer.body.refresh_token;
      client.accessToken = refreshed.answer.body.access_token;

      // One state operation with a unique client_op_id; a retry sends the same id.
      const operation = operationFor(client, i);
      const clientOpId = `c${client.index}-op${i}`;
      const written = await balancer.send((node) =>
        request<{ status: 'applied' | 'duplicate'; seq: number }>(node.url, 'POST', '/api/state/cart/ops', {
          token: client.accessToken,
          body: { client_op_id: clientOpId, ...operation },
        }),
      );
      count(written.node);
      if (written.answer.status !== 200) {
        problems.push(
          `client ${client.index} op ${clientOpId} on ${written.node.name}: ${JSON.stringify(written.answer.body)}`,
        );
        return;
      }
      client.acked.push({
        clientOpId,
        seq: written.answer.body.seq,
        status: written.answer.body.status,
        operation,
      });
    }
  };

  const load = Promise.all(clients.map(run));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const servedByCBeforeKill = answeredBy.get('C') ?? 0;
  killedAt = Date.now();
  const exit = await c.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  stop = true;
  await load;

  expect(problems).toEqual([]);
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
  // The load really was spread, and went on after the crash through the balancer's retries.
  expect(servedByCBeforeKill).toBeGreaterThan(0);
  expect(answeredAfterKill).toBeGreaterThan(0);
  expect(balancer.connectionErrors).toBeGreaterThan(0);
  expect([...balancer.down]).toEqual([c]);

  // No session was ended as a reuse: every retry was an honest one.
  expect(
    await cluster.query(
      "SELECT id FROM sessions WHERE end_reason = 'refresh_token_reused' OR ended_at IS NOT NULL",
    ),
  ).toEqual([]);
  expect(await cluster.query("SELECT id FROM session_logs WHERE action = 'refresh_reuse_detected'")).toEqual(
    [],
  );

  for (const client of clients) {
    // The latest refresh token the client holds is the session's current one, and it works.
    const tokens = await cluster.query(
      'SELECT session_id, status FROM refresh_tokens WHERE token_hash = $1',
      [sha256(client.refreshToken)],
    );
    expect(tokens, `client ${client.index}`).toEqual([{ session_id: client.sessionId, status: 'active' }]);
    const again = await refresh((client.index % 2 === 0 ? a : b).url, client.refreshToken);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    client.refreshToken = again.body.refresh_token;
    client.accessToken = again.body.access_token;

    // Every acknowledged operation is stored once, under the seq it was acknowledged with; seqs
    // run 1..N with no hole; nothing is stored that the client was not told about.
    expect(client.acked.length).toBeGreaterThan(0);
    const stored = await cluster.query<{ seq: number | string; client_op_id: string }>(
      'SELECT seq, client_op_id FROM state_operations WHERE user_id = $1 ORDER BY seq',
      [client.userId],
    );
    expect(stored.map((row) => Number(row.seq))).toEqual(stored.map((_row, i) => i + 1));
    const byId = new Map<string, number[]>();
    for (const row of stored)
      byId.set(row.client_op_id, [...(byId.get(row.client_op_id) ?? []), Number(row.seq)]);
    for (const acked of client.acked) {
      expect(byId.get(acked.clientOpId), `${acked.clientOpId} stored exactly once`).toEqual([acked.seq]);
    }
    expect(stored).toHaveLength(client.acked.length);

    // The stored document is what the acknowledged operations make, applied in seq order.
    const expected = [...client.acked]
      .sort((x, y) => x.seq - y.seq)
      .reduce<JSONObject>((document, acked) => applyStateOperation(document, acked.operation), {});
    const [row] = await cluster.query<{ document: string }>(
      "SELECT document FROM state_documents WHERE user_id = $1 AND namespace = 'cart'",
      [client.userId],
    );
    expect(JSON.parse(row!.document)).toEqual(expected);
    const served = await request(a.url, 'GET', '/api/state/cart', { token: client.accessToken });
    expect(served.body).toEqual({ namespace: 'cart', seq: stored.length, document: expected });
  }

  // The killed node comes back on its port and serves the same sessions.
  await c.restart();
  const back = await refresh(c.url, clients[0]!.refreshToken);
  expect(back.status, JSON.stringify(back.body)).toBe(200);
}, 60_000);
