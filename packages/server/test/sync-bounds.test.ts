import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { SYNC_CLOSE_CODES } from '@sessiond/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../src/store/session-store.js';
import { request, signUpAndIn } from './helpers/api.js';
import { openSync, type SyncSocket } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 12, "sync and state bounds": a socket cannot make the server buffer without bound, and
// a user's state is bounded as a whole, not only per document.

const sockets: SyncSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function connect(server: TestServer, token: string): Promise<SyncSocket> {
  const socket = await openSync(server.url, { token });
  sockets.push(socket);
  await socket.next('ready');
  return socket;
}

/** Resolves once the server has handled every message sent before (the pong comes after them). */
async function settled(socket: SyncSocket): Promise<void> {
  socket.send({ type: 'ping' });
  await socket.next('pong');
}

describe('subscribe rate limit (per socket)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { SESSIOND_SYNC_SUBSCRIBE_BURST: '3', SESSIOND_SYNC_SUBSCRIBES_PER_SECOND: '1' },
    });
  });
  afterAll(() => server.close());

  it('refuses subscribes past the burst with rate_limited and retry_after_ms, until the bucket refills', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await connect(server, grant.access_token);
    for (const namespace of ['cart', 'follows', 'live']) {
      socket.send({ type: 'subscribe', namespace });
      await socket.next('snapshot', (m) => m.namespace === namespace);
    }
    socket.send({ type: 'subscribe', namespace: 'wishlist' });
    expect(await socket.next('error')).toEqual({
      type: 'error',
      error: 'rate_limited',
      message: 'too many subscribes; retry in 1000 ms',
      namespace: 'wishlist',
      retry_after_ms: 1000,
    });
    await settled(socket);
    expect(socket.received.some((m) => m.type === 'snapshot' && m.namespace === 'wishlist')).toBe(false);

    // The bucket is the socket's: another socket of the same user has its own.
    const other = await connect(server, grant.access_token);
    other.send({ type: 'subscribe', namespace: 'wishlist' });
    await other.next('snapshot', (m) => m.namespace === 'wishlist');

    server.clock.advance(1000);
    socket.send({ type: 'subscribe', namespace: 'wishlist' });
    expect(await socket.next('snapshot', (m) => m.namespace === 'wishlist')).toMatchObject({ seq: 0 });
  });
});

describe('repeated subscribes are coalesced', () => {
  let server: TestServer;
  let reads = 0;
  /** While set, catch-up reads wait for it: subscriptions stay "being read". */
  let gate: Promise<void> | undefined;
  beforeAll(async () => {
    server = await startTestServer({
      wrapStore: (real: SessionStore) =>
        new Proxy(real, {
          get(target, key) {
            if (key === 'catchUpState') {
              return async (input: Parameters<SessionStore['catchUpState']>[0]) => {
                reads += 1;
                await gate;
                return target.catchUpState(input);
              };
            }
            const value = Reflect.get(target, key, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
  });
  afterAll(() => server.close());

  it('answers a subscribe from the seq the socket already sent with an empty catch_up, reading nothing', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await connect(server, grant.access_token);
    socket.send({
      type: 'apply',
      namespace: 'cart',
      client_op_id: 'op-1',
      operation: { op: 'set', path: ['note'], value: 'x'.repeat(1000) },
    });
    await socket.next('ack');
    socket.send({ type: 'subscribe', namespace: 'cart' });
    const snapshot = await socket.next('snapshot');
    expect(snapshot.seq).toBe(1);
    const before = reads;
    for (let i = 0; i < 5; i++) socket.send({ type: 'subscribe', namespace: 'cart', since: snapshot.seq });
    for (let i = 0; i < 5; i++)
      expect(await socket.next('catch_up')).toEqual({
        type: 'catch_up',
        namespace: 'cart',
        seq: 1,
        operations: [],
      });
    expect(reads).toBe(before);
    // An older `since` (the client saw a gap) or none (its copy drifted) is read again.
    socket.send({ type: 'subscribe', namespace: 'cart', since: 0 });
    expect((await socket.next('catch_up')).operations).toHaveLength(1);
    socket.send({ type: 'subscribe', namespace: 'cart' });
    await socket.next('snapshot');
    expect(reads).toBe(before + 2);
  });

  it('answers subscribes that arrive while one is being read with that one answer', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await connect(server, grant.access_token);
    let open: () => void = () => {};
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const before = reads;
    try {
      for (let i = 0; i < 10; i++) socket.send({ type: 'subscribe', namespace: 'follows' });
      socket.send({ type: 'subscribe', namespace: 'follows', since: 3 });
      await settled(socket);
    } finally {
      gate = undefined;
      open();
    }
    await socket.next('snapshot');
    await settled(socket);
    expect(reads - before).toBe(1);
    expect(socket.received.filter((m) => m.type === 'snapshot' || m.type === 'catch_up')).toHaveLength(1);
  });
});

describe('a socket that does not read (slow consumer)', () => {
  const MAX_BUFFERED = 256 * 1024;
  const DOCUMENT_CHARS = 512 * 1024;
  let server: TestServer;
  const logLines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        SESSIOND_LOG_LEVEL: 'warn',
        SESSIOND_STATE_MAX_BYTES: String(1024 * 1024),
        SESSIOND_SYNC_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
        // The rate limit is another defence: here the buffer bound must hold on its own.
        SESSIOND_SYNC_SUBSCRIBES_PER_SECOND: '10000',
        SESSIOND_SYNC_SUBSCRIBE_BURST: '100000',
      },
      logDestination: new Writable({
        write(chunk, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
          done();
        },
      }),
    });
  });
  afterAll(() => server.close());

  it('is closed with 4408 slow_consumer once its unsent bytes pass the bound, holding at most one message more', async () => {
    const grant = await signUpAndIn(server.url);
    const writer = await connect(server, grant.access_token);
    writer.send({
      type: 'apply',
      namespace: 'big',
      client_op_id: 'big-1',
      operation: { op: 'set', path: ['blob'], value: 'x'.repeat(DOCUMENT_CHARS) },
    });
    expect(await writer.next('ack')).toMatchObject({ status: 'applied' });

    const flooder = await connect(server, grant.access_token);
    // The client stops reading: its receive window fills, then the kernel's send buffer, then
    // what the server's socket holds in memory.
    const tcp = (flooder.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const slowConsumerLine = () => logLines.find((line) => String(line.msg).includes('slow_consumer'));
    let sent = 0;
    // Bounded: at most 3000 subscribes (one per few milliseconds), stopping once the server closed.
    while (sent < 3000 && !slowConsumerLine()) {
      flooder.send({ type: 'subscribe', namespace: 'big' });
      sent += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const line = slowConsumerLine();
    expect(line, `no slow_consumer close after ${sent} subscribes`).toBeDefined();
    // Past the bound by at most the one message whose send found it full.
    const buffered = Number(line?.buffered_bytes);
    expect(buffered).toBeGreaterThan(MAX_BUFFERED);
    expect(buffered).toBeLessThanOrEqual(MAX_BUFFERED + DOCUMENT_CHARS + 1024);

    // The close frame waits behind what was buffered: a client that reads again learns the code.
    tcp.resume();
    expect(await flooder.closed).toMatchObject({
      code: SYNC_CLOSE_CODES.slow_consumer,
      reason: 'slow_consumer',
    });
    // Only that socket: the user's other one is still served.
    writer.send({ type: 'subscribe', namespace: 'big', since: 1 });
    expect(await writer.next('catch_up')).toMatchObject({ seq: 1, operations: [] });
  });
});

describe('per-user state quotas', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        SESSIOND_STATE_MAX_BYTES: '2048',
        SESSIOND_STATE_MAX_NAMESPACES: '3',
        SESSIOND_STATE_MAX_USER_BYTES: '4096',
      },
    });
  });
  afterAll(() => server.close());

  type StateAnswer = { seq: number; document: Record<string, unknown>; error?: string; message?: string };
  const post = (token: string, namespace: string, body: Record<string, unknown>) =>
    request<StateAnswer>(server.url, 'POST', `/api/state/${namespace}/ops`, { token, body });
  const read = (token: string, namespace: string) =>
    request<StateAnswer>(server.url, 'GET', `/api/state/${namespace}`, { token });
  let opCounter = 0;
  const setOp = (path: string, value: unknown) => {
    opCounter += 1;
    return { client_op_id: `op-${opCounter}`, op: 'set', path: [path], value };
  };

  it('HTTP: refuses a namespace past SESSIOND_STATE_MAX_NAMESPACES with 413, applying nothing; an emptied one frees its place', async () => {
    const { access_token: token } = await signUpAndIn(server.url);
    for (const namespace of ['cart', 'follows', 'live'])
      expect((await post(token, namespace, setOp('a', 1))).status).toBe(200);
    const refused = await post(token, 'wishlist', setOp('a', 1));
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({
      error: 'state_quota_exceeded',
      message: 'at most 3 state namespaces may hold data; empty one first',
    });
    expect((await read(token, 'wishlist')).body).toMatchObject({ seq: 0, document: {} });
    // A namespace already holding data still takes operations.
    expect((await post(token, 'cart', setOp('b', 2))).body).toMatchObject({ seq: 4 });
    // Emptying one frees its place (and no sequence number went to the refused operation).
    const emptied = await post(token, 'live', { client_op_id: 'empty-live', op: 'delete', path: ['a'] });
    expect(emptied.body).toMatchObject({ seq: 5, document: {} });
    expect((await post(token, 'wishlist', setOp('a', 1))).body).toMatchObject({ seq: 6 });
  });

  it('HTTP: refuses growth past SESSIOND_STATE_MAX_USER_BYTES across documents with 413; shrinking still goes', async () => {
    const { access_token: token } = await signUpAndIn(server.url);
    expect((await post(token, 'cart', setOp('blob', 'x'.repeat(1800)))).status).toBe(200);
    expect((await post(token, 'follows', setOp('blob', 'y'.repeat(1800)))).status).toBe(200);
    // Each document is under the 2048-byte cap; together they would pass 4096.
    const refused = await post(token, 'live', setOp('blob', 'z'.repeat(1000)));
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({
      error: 'state_quota_exceeded',
      message: "the user's state would exceed 4096 bytes across namespaces",
    });
    expect((await read(token, 'live')).body.document).toEqual({});
    // Within what is left, it fits.
    expect((await post(token, 'live', setOp('blob', 'z'.repeat(300)))).status).toBe(200);
    // Growing an existing document past the total is refused too; shrinking one goes.
    expect((await post(token, 'cart', setOp('more', 'x'.repeat(200)))).status).toBe(413);
    expect((await post(token, 'cart', setOp('blob', 'x'.repeat(10)))).status).toBe(200);
    expect((await post(token, 'cart', setOp('more', 'x'.repeat(200)))).status).toBe(200);
  });

  it('HTTP: concurrent operations to new namespaces cannot pass the quota together', async () => {
    const { access_token: token } = await signUpAndIn(server.url);
    const namespaces = Array.from({ length: 12 }, (_, i) => `ns${i}`);
    const answers = await Promise.all(namespaces.map((namespace) => post(token, namespace, setOp('a', 1))));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 413)).toHaveLength(9);
    const documents = await Promise.all(namespaces.map((namespace) => read(token, namespace)));
    expect(documents.filter((d) => Object.keys(d.body.document).length > 0)).toHaveLength(3);
  });

  it('socket: the same quotas answer an apply with an error naming the operation, applying nothing', async () => {
    const { access_token: token } = await signUpAndIn(server.url);
    const socket = await connect(server, token);
    const apply = (namespace: string, clientOpId: string, value: unknown) =>
      socket.send({
        type: 'apply',
        namespace,
        client_op_id: clientOpId,
        operation: { op: 'set', path: ['v'], value },
      });
    for (const namespace of ['cart', 'follows', 'live']) {
      apply(namespace, `s-${namespace}`, namespace === 'cart' ? 'x'.repeat(1900) : 'y'.repeat(1000));
      expect(await socket.next('ack')).toMatchObject({ status: 'applied' });
    }
    apply('wishlist', 's-wishlist', 1);
    expect(await socket.next('error')).toMatchObject({
      error: 'state_quota_exceeded',
      namespace: 'wishlist',
      client_op_id: 's-wishlist',
    });
    apply('live', 's-live-grow', 'z'.repeat(1500));
    expect(await socket.next('error')).toMatchObject({
      error: 'state_quota_exceeded',
      message: "the user's state would exceed 4096 bytes across namespaces",
      client_op_id: 's-live-grow',
    });
    expect((await read(token, 'wishlist')).body.document).toEqual({});
    expect((await read(token, 'live')).body.document).toEqual({ v: 'y'.repeat(1000) });
  });
});
