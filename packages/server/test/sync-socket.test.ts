import { SYNC_CLOSE_CODES, SYNC_SUBPROTOCOL, type TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signIn, signUpAndIn } from './helpers/api.js';
import { demandStepUp } from './helpers/step-up.js';
import { openSync, type SyncSocket } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
const sockets: SyncSocket[] = [];
beforeAll(async () => {
  server = await startTestServer({
    env: { SESSIOND_STATE_MAX_BYTES: '2048', SESSIOND_CORS_ORIGINS: 'https://shop.example' },
  });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

async function connect(token: string, options: Parameters<typeof openSync>[1] = {}): Promise<SyncSocket> {
  const socket = await openSync(server.url, { token, ...options });
  sockets.push(socket);
  await socket.next('ready');
  return socket;
}

/** One user signed in on two devices, each with a socket subscribed to `cart`. */
async function twoDevices() {
  const phone = await signUpAndIn(server.url, { device: { name: 'phone' } });
  const laptop = await signIn(server.url, phone.email, { device: { name: 'laptop' } });
  const phoneSocket = await connect(phone.access_token);
  const laptopSocket = await connect(laptop.access_token);
  for (const socket of [phoneSocket, laptopSocket]) {
    socket.send({ type: 'subscribe', namespace: 'cart', since: 0 });
    await socket.next('catch_up');
  }
  return { phone, laptop, phoneSocket, laptopSocket };
}

const increment = (qty: number) => ({ op: 'increment', path: ['items', 'sku-1', 'qty'], value: qty });

describe('sync socket: authentication and handshake', () => {
  it('authenticates by a first message and says who it is', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await openSync(server.url, { token: grant.access_token });
    sockets.push(socket);
    expect(await socket.next('ready')).toEqual({
      type: 'ready',
      user_id: grant.session.user_id,
      session_id: grant.session.id,
      device_id: grant.device.id,
    });
    expect(socket.socket.protocol).toBe(SYNC_SUBPROTOCOL);
  });

  it('authenticates by the bearer subprotocol, and selects only the sync subprotocol', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await connect(grant.access_token, { tokenIn: 'protocol' });
    expect(socket.socket.protocol).toBe(SYNC_SUBPROTOCOL);
  });

  it('refuses a second credential on a socket that has one', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await connect(grant.access_token, { tokenIn: 'protocol' });
    socket.send({ type: 'auth', access_token: grant.access_token });
    expect(await socket.next('error')).toMatchObject({
      error: 'invalid_message',
      message: 'already authenticated',
    });
    expect(socket.received.filter((m) => m.type === 'ready')).toHaveLength(1);
  });

  it('closes 4401 on a refused token, with the refusal’s code first', async () => {
    const socket = await openSync(server.url, { token: 'not-a-token' });
    expect(await socket.next('error')).toMatchObject({ error: 'token_invalid' });
    expect(await socket.closed).toMatchObject({
      code: SYNC_CLOSE_CODES.unauthenticated,
      reason: 'unauthenticated',
    });
  });

  it('closes 4401 when the first message is not auth', async () => {
    const socket = await openSync(server.url);
    socket.send({ type: 'subscribe', namespace: 'cart' });
    expect(await socket.next('error')).toMatchObject({ error: 'token_missing' });
    expect(await socket.closed).toMatchObject({ code: 4401 });
  });

  it('refuses a handshake from a foreign browser origin, accepts the issuer’s and allowed ones', async () => {
    const grant = await signUpAndIn(server.url);
    await expect(
      openSync(server.url, { token: grant.access_token, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({
      status: 403,
    });
    await connect(grant.access_token, { origin: 'https://shop.example' });
    await connect(grant.access_token, { origin: new URL(server.app.sessiond.config.issuer).origin });
  });

  it('authenticates by the access cookie of the cookie transport', async () => {
    const grant = await signUpAndIn(server.url);
    const socket = await openSync(server.url, {
      headers: { cookie: `sessiond_at=${grant.access_token}` },
      origin: 'https://shop.example',
    });
    sockets.push(socket);
    expect(await socket.next('ready')).toMatchObject({ session_id: grant.session.id });
  });

  it('answers a plain GET with 426 upgrade_required', async () => {
    const response = await request(server.url, 'GET', '/api/sync');
    expect(response.status).toBe(426);
    expect(response.body).toMatchObject({ error: 'upgrade_required' });
  });
});

describe('sync socket: operations', () => {
  it('applies an operation once, acknowledges it, and sends it to every device of the user', async () => {
    const { phoneSocket, laptopSocket, phone } = await twoDevices();
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'op-1', operation: increment(2) });
    const expected = {
      type: 'op',
      namespace: 'cart',
      seq: 1,
      prev_seq: 0,
      client_op_id: 'op-1',
      device_id: phone.device.id,
      operation: increment(2),
    };
    expect(await laptopSocket.next('op')).toEqual(expected);
    expect(await phoneSocket.next('op')).toEqual(expected);
    expect(await phoneSocket.next('ack')).toEqual({
      type: 'ack',
      namespace: 'cart',
      client_op_id: 'op-1',
      status: 'applied',
      seq: 1,
    });
    // A replay is acknowledged as a duplicate and changes nothing.
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'op-1', operation: increment(2) });
    expect(await phoneSocket.next('ack')).toMatchObject({ status: 'duplicate', seq: 1 });
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'op-2', operation: increment(1) });
    expect(await laptopSocket.next('op')).toMatchObject({ seq: 2, prev_seq: 1, client_op_id: 'op-2' });
    const state = await request(server.url, 'GET', '/api/state/cart', { token: phone.access_token });
    expect(state.body).toEqual({ namespace: 'cart', seq: 2, document: { items: { 'sku-1': { qty: 3 } } } });
  });

  it('sends operations only to sockets subscribed to their namespace, and never to another user', async () => {
    const { phoneSocket, laptopSocket } = await twoDevices();
    const stranger = await connect((await signUpAndIn(server.url)).access_token);
    stranger.send({ type: 'subscribe', namespace: 'cart' });
    await stranger.next('snapshot');
    laptopSocket.send({ type: 'unsubscribe', namespace: 'cart' });
    phoneSocket.send({
      type: 'apply',
      namespace: 'follows',
      client_op_id: 'f-1',
      operation: { op: 'add', path: ['creators'], value: 'c-1' },
    });
    await phoneSocket.next('ack');
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'c-1', operation: increment(1) });
    await phoneSocket.next('op', (m) => m.client_op_id === 'c-1');
    laptopSocket.send({ type: 'ping' });
    await laptopSocket.next('pong');
    stranger.send({ type: 'ping' });
    await stranger.next('pong');
    expect(laptopSocket.received.filter((m) => m.type === 'op')).toEqual([]);
    expect(stranger.received.filter((m) => m.type === 'op')).toEqual([]);
    expect(
      phoneSocket.received.filter((m) => m.type === 'op').map((m) => m.type === 'op' && m.namespace),
    ).toEqual(['cart']);
  });

  it('catches a reconnecting device up from its last sequence number, or sends a snapshot', async () => {
    const { phoneSocket, laptopSocket, laptop } = await twoDevices();
    laptopSocket.close();
    for (let i = 1; i <= 3; i += 1) {
      phoneSocket.send({
        type: 'apply',
        namespace: 'cart',
        client_op_id: `op-${i}`,
        operation: increment(1),
      });
      await phoneSocket.next('ack');
    }
    const back = await connect(laptop.access_token);
    back.send({ type: 'subscribe', namespace: 'cart', since: 1 });
    expect(await back.next('catch_up')).toEqual({
      type: 'catch_up',
      namespace: 'cart',
      seq: 3,
      operations: [
        { seq: 2, client_op_id: 'op-2', operation: increment(1) },
        { seq: 3, client_op_id: 'op-3', operation: increment(1) },
      ],
    });
    back.send({ type: 'subscribe', namespace: 'cart' });
    expect(await back.next('snapshot')).toEqual({
      type: 'snapshot',
      namespace: 'cart',
      seq: 3,
      document: { items: { 'sku-1': { qty: 3 } } },
    });
    // The HTTP catch-up for clients without WebSockets says the same.
    const missed = await request(server.url, 'GET', '/api/state/cart?since=2', {
      token: laptop.access_token,
    });
    expect(missed.body).toEqual({
      namespace: 'cart',
      seq: 3,
      operations: [{ seq: 3, client_op_id: 'op-3', operation: increment(1) }],
    });
  });

  it('refuses clashing, oversized and malformed operations with their codes, applying nothing', async () => {
    const { phoneSocket } = await twoDevices();
    phoneSocket.send({
      type: 'apply',
      namespace: 'cart',
      client_op_id: 'set',
      operation: { op: 'set', path: ['note'], value: 'hi' },
    });
    await phoneSocket.next('ack');
    const refusals = [
      {
        client_op_id: 'clash',
        operation: { op: 'increment', path: ['note'], value: 1 },
        error: 'invalid_operation',
      },
      {
        client_op_id: 'big',
        operation: { op: 'set', path: ['big'], value: 'x'.repeat(3000) },
        error: 'state_too_large',
      },
      {
        client_op_id: 'proto',
        operation: { op: 'set', path: ['__proto__'], value: 1 },
        error: 'invalid_operation',
      },
      {
        client_op_id: 'nan',
        operation: { op: 'increment', path: ['n'], value: '1' },
        error: 'invalid_operation',
      },
    ];
    for (const { client_op_id, operation, error } of refusals) {
      phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id, operation });
      expect(await phoneSocket.next('error', (m) => m.client_op_id === client_op_id)).toMatchObject({
        error,
        namespace: 'cart',
      });
    }
    phoneSocket.send({ type: 'subscribe', namespace: 'cart' });
    expect(await phoneSocket.next('snapshot')).toMatchObject({ seq: 1, document: { note: 'hi' } });
  });

  it('answers malformed messages with invalid_message and closes 4400 after a flood of them', async () => {
    const { phoneSocket } = await twoDevices();
    for (const bad of [
      'not json',
      '[]',
      '{"type":"nope"}',
      '{"type":"subscribe","namespace":"Bad Name"}',
      '{"type":"ping","extra":1}',
    ]) {
      phoneSocket.sendRaw(bad);
      expect(await phoneSocket.next('error')).toMatchObject({ error: 'invalid_message' });
    }
    phoneSocket.sendRaw(Buffer.from([1, 2, 3]));
    expect(await phoneSocket.next('error')).toMatchObject({ error: 'invalid_message' });
    for (let i = 0; i < 20; i += 1) phoneSocket.sendRaw('garbage');
    expect(await phoneSocket.closed).toMatchObject({ code: SYNC_CLOSE_CODES.protocol_error });
    // The server is unharmed.
    expect((await request(server.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('sync socket: session events', () => {
  it('tells every device of a new device, a step-up demand, and a revocation; closes the revoked socket within a second', async () => {
    const { phoneSocket, laptopSocket, phone, laptop } = await twoDevices();
    const tablet = await signIn(server.url, phone.email, { device: { name: 'tablet' } });
    expect(await phoneSocket.next('event', (e) => e.event === 'session.new_device')).toMatchObject({
      session_id: tablet.session.id,
      device_id: tablet.device.id,
    });
    await demandStepUp(server, laptop.session.id, 'impossible_travel');
    expect(await phoneSocket.next('event', (e) => e.event === 'session.step_up_required')).toMatchObject({
      session_id: laptop.session.id,
      detail: { reason: 'impossible_travel' },
    });
    const started = Date.now();
    const revoked = await request(server.url, 'POST', '/api/auth/session/revoke', {
      token: phone.access_token,
      body: { session_id: laptop.session.id },
    });
    expect(revoked.body).toMatchObject({ revoked: true });
    const closed = await laptopSocket.closed;
    expect(closed).toMatchObject({ code: SYNC_CLOSE_CODES.session_revoked, reason: 'session_revoked' });
    expect(closed.at - started).toBeLessThan(1000);
    expect(laptopSocket.received.at(-1)).toMatchObject({
      type: 'event',
      event: 'session.revoked',
      session_id: laptop.session.id,
      detail: { reason: 'revoked', actor: 'user' },
    });
    expect(await phoneSocket.next('event', (e) => e.event === 'session.revoked')).toMatchObject({
      session_id: laptop.session.id,
    });
    expect(phoneSocket.socket.readyState).toBe(phoneSocket.socket.OPEN);
  });

  it('logs out everywhere: one event, then every socket of the user closes', async () => {
    const { phoneSocket, laptopSocket, phone } = await twoDevices();
    const answer = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: phone.access_token,
      body: {},
    });
    expect(answer.status).toBe(200);
    for (const socket of [phoneSocket, laptopSocket]) {
      expect((await socket.closed).code).toBe(SYNC_CLOSE_CODES.session_revoked);
      expect(
        socket.received.find((m) => m.type === 'event' && m.event === 'session.logged_out_everywhere'),
      ).toMatchObject({
        session_id: phone.session.id,
        detail: { actor: 'user', reason: 'revoked_all', kept_session_id: null, revoked: 2 },
      });
    }
  });
});

describe('sync socket: state outlives sessions', () => {
  async function cartOf(grant: TokenResponse) {
    return (await request(server.url, 'GET', '/api/state/cart', { token: grant.access_token })).body;
  }

  it('keeps the cart through logout and a new sign-in', async () => {
    const { phoneSocket, phone } = await twoDevices();
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'keep', operation: increment(4) });
    await phoneSocket.next('ack');
    await request(server.url, 'POST', '/api/auth/session/logout', { token: phone.access_token });
    expect((await phoneSocket.closed).code).toBe(SYNC_CLOSE_CODES.session_revoked);
    const again = await signIn(server.url, phone.email);
    expect(await cartOf(again)).toMatchObject({ document: { items: { 'sku-1': { qty: 4 } } } });
  });

  it('closes 4002 at the idle timeout and keeps the cart for the next sign-in', async () => {
    const { phoneSocket, laptopSocket, phone } = await twoDevices();
    phoneSocket.send({ type: 'apply', namespace: 'cart', client_op_id: 'idle', operation: increment(5) });
    await phoneSocket.next('ack');
    server.clock.advance(31 * 60 * 1000);
    await server.app.sessiond.sweeper.sweep();
    for (const socket of [phoneSocket, laptopSocket]) {
      expect(await socket.closed).toMatchObject({
        code: SYNC_CLOSE_CODES.session_expired,
        reason: 'session_expired',
      });
    }
    const again = await signIn(server.url, phone.email);
    expect(await cartOf(again)).toMatchObject({ document: { items: { 'sku-1': { qty: 5 } } } });
  });
});

describe('sync socket: limits and compaction (a server of its own)', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      env: {
        SESSIOND_STATE_OPS_BURST: '3',
        SESSIOND_STATE_OPS_PER_SECOND: '1',
        SESSIOND_STATE_OP_RETENTION_DAYS: '30',
      },
    });
  });
  afterAll(async () => {
    await limited.close();
  });

  it('refuses operations past the per-user rate, over the socket and over HTTP alike, applying none', async () => {
    const grant = await signUpAndIn(limited.url);
    const socket = await openSync(limited.url, { token: grant.access_token });
    sockets.push(socket);
    await socket.next('ready');
    for (let i = 1; i <= 3; i += 1) {
      socket.send({ type: 'apply', namespace: 'cart', client_op_id: `op-${i}`, operation: increment(1) });
      await socket.next('ack');
    }
    socket.send({ type: 'apply', namespace: 'cart', client_op_id: 'op-4', operation: increment(1) });
    const refusal = await socket.next('error');
    expect(refusal).toMatchObject({ error: 'rate_limited', client_op_id: 'op-4', namespace: 'cart' });
    expect(refusal.retry_after_ms).toBeGreaterThanOrEqual(1000);
    const http = await request(limited.url, 'POST', '/api/state/cart/ops', {
      token: grant.access_token,
      body: { client_op_id: 'op-5', ...increment(1) },
    });
    expect(http.status).toBe(429);
    expect(http.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A second later the bucket has one token again.
    limited.clock.advance(1_000);
    socket.send({ type: 'apply', namespace: 'cart', client_op_id: 'op-4', operation: increment(1) });
    expect(await socket.next('ack')).toMatchObject({ client_op_id: 'op-4', status: 'applied', seq: 4 });
  });

  it('compacts the log past its retention: a device from before then gets a snapshot', async () => {
    const grant = await signUpAndIn(limited.url);
    const post = (id: string) =>
      request(limited.url, 'POST', '/api/state/cart/ops', {
        token: grant.access_token,
        body: { client_op_id: id, ...increment(1) },
      });
    await post('old');
    limited.clock.advance(31 * 24 * 60 * 60 * 1000);
    const fresh = await signIn(limited.url, grant.email);
    await request(limited.url, 'POST', '/api/state/cart/ops', {
      token: fresh.access_token,
      body: { client_op_id: 'new', ...increment(1) },
    });
    await limited.app.sessiond.sweeper.sweep();
    const sync = await openSync(limited.url, { token: fresh.access_token });
    sockets.push(sync);
    await sync.next('ready');
    sync.send({ type: 'subscribe', namespace: 'cart', since: 0 });
    expect(await sync.next('snapshot')).toMatchObject({
      seq: 2,
      document: { items: { 'sku-1': { qty: 2 } } },
    });
    sync.send({ type: 'subscribe', namespace: 'cart', since: 1 });
    expect(await sync.next('catch_up')).toMatchObject({
      seq: 2,
      operations: [{ seq: 2, client_op_id: 'new' }],
    });
  });
});
