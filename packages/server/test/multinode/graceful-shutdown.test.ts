import { SYNC_CLOSE_CODES } from '@sessiond/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type APIResponse, PASSWORD, refresh, request, signIn, signUpAndIn } from '../helpers/api.js';
import { type Cluster, type ClusterNode, startCluster } from './cluster.js';
import { SyncDevice } from './sync-device.js';

// Issue 7: a node told to stop (SIGTERM, as in a rolling deploy) finishes what it is doing, sends
// its sync sockets elsewhere, and exits cleanly; the devices catch up on another node.
let cluster: Cluster;
const devices: SyncDevice[] = [];
beforeAll(async () => {
  // At info the nodes log each incoming request: how the test knows they are in flight.
  cluster = await startCluster({ nodes: 3, env: { SESSIOND_LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  for (const device of devices) device.close();
  await cluster?.close();
});

const apply = (url: string, token: string, clientOpId: string) =>
  request(url, 'POST', '/api/state/cart/ops', {
    token,
    body: { client_op_id: clientOpId, op: 'add', path: ['ids'], value: clientOpId },
  });

type Answer = APIResponse<{ access_token?: string; refresh_token?: string }>;

/** How a request ended, and when: an answer, or a network error (a reset connection). */
interface Outcome {
  answer?: Answer;
  error?: unknown;
  at: number;
}

it('SIGTERM: requests in flight finish, sync sockets close with 1012, exit 0, and devices catch up elsewhere', async () => {
  const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const phone = await signUpAndIn(a.url, { device: { name: 'phone' } });
  const laptopGrant = await signIn(c.url, phone.email, { device: { name: 'laptop' } });
  const laptop = new SyncDevice(laptopGrant.access_token);
  devices.push(laptop);
  await laptop.connect(c.url);
  expect((await apply(a.url, phone.access_token, 'op-1')).status).toBe(200);
  expect(await laptop.waitFor('op-1')).toBe(1);
  const other = await signIn(a.url, phone.email, { device: { name: 'tablet' } });

  // Sign-ins (an argon2 verification each) and a refresh, in flight on C.
  const from = c.logLines().length;
  const settle = (call: Promise<unknown>): Promise<Outcome> =>
    call.then(
      (answer) => ({ answer: answer as Answer, at: Date.now() }),
      (error: unknown) => ({ error, at: Date.now() }),
    );
  const signIns = Array.from({ length: 8 }, () =>
    settle(
      request(c.url, 'POST', '/api/auth/session/create', {
        body: { email: phone.email, password: PASSWORD },
      }),
    ),
  );
  const refreshed = settle(refresh(c.url, other.refresh_token));
  await c.waitForLogLines(
    (line) =>
      line.msg === 'incoming request' && (line.req as { url?: string }).url === '/api/auth/session/create',
    { from, count: signIns.length },
  );
  const sigtermAt = Date.now();
  c.signal('SIGTERM');

  // Meanwhile, the user goes on on another node.
  expect((await apply(a.url, phone.access_token, 'op-2')).status).toBe(200);

  const closed = await laptop.closed;
  expect(closed).toMatchObject({ code: SYNC_CLOSE_CODES.service_restart, reason: 'service_restart' });
  expect(await c.exited).toEqual({ code: 0, signal: null });
  const exitedAfterMs = Date.now() - sigtermAt;
  // Nothing here runs for long: the node exits once its requests are answered, not when the
  // grace period (SESSIOND_SHUTDOWN_GRACE_SECONDS, 10 s) cuts what is left. (Soft: the checks
  // below still run.)
  expect
    .soft(
      c.stdout.includes('shutdown grace period over'),
      `node C exited ${exitedAfterMs} ms after SIGTERM, when its grace period cut the connections left`,
    )
    .toBe(false);
  expect.soft(exitedAfterMs).toBeLessThan(5_000);

  const outcomes = await Promise.all([...signIns, refreshed]);
  for (const outcome of outcomes) {
    expect(outcome.error, String(outcome.error)).toBeUndefined();
    expect(outcome.answer?.status, JSON.stringify(outcome.answer?.body)).toBe(200);
  }
  // They really were in flight: some answered after the signal.
  expect(outcomes.filter((outcome) => outcome.at > sigtermAt).length).toBeGreaterThan(0);
  // And what they answered was committed: the tokens work on the other nodes.
  for (const outcome of outcomes.slice(0, -1)) {
    const status = await request(b.url, 'GET', '/api/auth/session/status', {
      token: outcome.answer!.body.access_token!,
    });
    expect(status.status).toBe(200);
  }
  const next = await refresh(a.url, outcomes.at(-1)!.answer!.body.refresh_token!);
  expect(next.status, JSON.stringify(next.body)).toBe(200);
  expect(c.stdout).toContain('"msg":"shut down"');

  // More happens while the laptop is away; it reconnects to B from its last seq and misses nothing.
  expect((await apply(a.url, phone.access_token, 'op-3')).status).toBe(200);
  await laptop.connect(b.url);
  await laptop.waitFor('op-2');
  await laptop.waitFor('op-3');
  expect([...laptop.seen]).toEqual([
    ['op-1', 1],
    ['op-2', 2],
    ['op-3', 3],
  ]);
  expect(laptop.snapshots).toBe(0);
  const [document] = await cluster.query<{ document: string }>(
    "SELECT document FROM state_documents WHERE user_id = $1 AND namespace = 'cart'",
    [phone.session.user_id],
  );
  expect(JSON.parse(document!.document)).toEqual({ ids: ['op-1', 'op-2', 'op-3'] });
}, 60_000);
