import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signIn, signUpAndIn } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_STATE_MAX_BYTES: '2048' } });
});
afterAll(async () => {
  await server.close();
});

type StateAnswer = {
  namespace: string;
  seq: number;
  document: Record<string, unknown>;
  status?: string;
  error?: string;
};
const post = (token: string, namespace: string, body: Record<string, unknown>) =>
  request<StateAnswer>(server.url, 'POST', `/api/state/${namespace}/ops`, { token, body });
const read = (token: string, namespace: string) =>
  request<StateAnswer>(server.url, 'GET', `/api/state/${namespace}`, { token });

describe('per-user state over HTTP', () => {
  it('applies operations, numbers them per user, and serves the document', async () => {
    const grant = await signUpAndIn(server.url);
    const first = await post(grant.access_token, 'cart', {
      client_op_id: 'op-1',
      op: 'increment',
      path: ['items', 'sku-1', 'qty'],
      value: 2,
    });
    expect(first.body).toEqual({
      namespace: 'cart',
      status: 'applied',
      seq: 1,
      document: { items: { 'sku-1': { qty: 2 } } },
    });
    await post(grant.access_token, 'follows', {
      client_op_id: 'op-2',
      op: 'add',
      path: ['creators'],
      value: 'c-9',
    });
    expect((await read(grant.access_token, 'cart')).body).toEqual({
      namespace: 'cart',
      seq: 1,
      document: { items: { 'sku-1': { qty: 2 } } },
    });
    expect((await read(grant.access_token, 'follows')).body).toEqual({
      namespace: 'follows',
      seq: 2,
      document: { creators: ['c-9'] },
    });
    expect((await read(grant.access_token, 'live')).body).toEqual({
      namespace: 'live',
      seq: 0,
      document: {},
    });
  });

  it('acknowledges a replayed client_op_id without applying it again', async () => {
    const grant = await signUpAndIn(server.url);
    const op = { client_op_id: 'retry-me', op: 'increment', path: ['items', 'sku-1', 'qty'], value: 1 };
    expect((await post(grant.access_token, 'cart', op)).body).toMatchObject({ status: 'applied', seq: 1 });
    expect((await post(grant.access_token, 'cart', op)).body).toEqual({
      namespace: 'cart',
      status: 'duplicate',
      seq: 1,
    });
    expect((await read(grant.access_token, 'cart')).body.document).toEqual({
      items: { 'sku-1': { qty: 1 } },
    });
  });

  it('keeps the state through logout and sign-in on another device: it belongs to the user', async () => {
    const phone = await signUpAndIn(server.url);
    await post(phone.access_token, 'cart', {
      client_op_id: 'c-1',
      op: 'set',
      path: ['items', 'sku-7'],
      value: { qty: 1 },
    });
    await request(server.url, 'POST', '/api/auth/session/logout', { token: phone.access_token });
    const laptop = await signIn(server.url, phone.email);
    expect((await read(laptop.access_token, 'cart')).body.document).toEqual({
      items: { 'sku-7': { qty: 1 } },
    });
  });

  it('keeps users apart', async () => {
    const ann = await signUpAndIn(server.url);
    const bob = await signUpAndIn(server.url);
    await post(ann.access_token, 'cart', { client_op_id: 'x', op: 'set', path: ['secret'], value: 'ann' });
    expect((await read(bob.access_token, 'cart')).body).toEqual({ namespace: 'cart', seq: 0, document: {} });
  });

  it('refuses bad operations, clashes, oversized documents, bad namespaces and anonymous callers with stable codes', async () => {
    const grant = await signUpAndIn(server.url);
    await post(grant.access_token, 'cart', { client_op_id: 'n', op: 'set', path: ['note'], value: 'text' });
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['cart', { client_op_id: 'a', op: 'merge', path: ['x'] }, 400, 'invalid_operation'],
      ['cart', { client_op_id: 'b', op: 'set', path: ['__proto__'], value: 1 }, 400, 'invalid_operation'],
      ['cart', { client_op_id: 'c', op: 'increment', path: ['note'], value: 1 }, 400, 'invalid_operation'],
      [
        'cart',
        { client_op_id: 'd', op: 'set', path: ['big'], value: 'x'.repeat(3000) },
        413,
        'state_too_large',
      ],
      ['cart', { op: 'set', path: ['x'], value: 1 }, 400, 'invalid_request'],
      ['Cart!', { client_op_id: 'e', op: 'set', path: ['x'], value: 1 }, 400, 'invalid_request'],
    ];
    for (const [namespace, body, status, error] of cases) {
      const response = await post(grant.access_token, namespace, body);
      expect({ namespace, body, status: response.status, error: response.body.error }).toEqual({
        namespace,
        body,
        status,
        error,
      });
    }
    expect((await read(grant.access_token, 'cart')).body).toMatchObject({
      seq: 1,
      document: { note: 'text' },
    });
    expect((await request(server.url, 'GET', '/api/state/cart')).body).toMatchObject({
      error: 'token_missing',
    });
  });

  it('publishes each applied operation on the bus, once', async () => {
    const grant = await signUpAndIn(server.url);
    const seen: unknown[] = [];
    const stop = server.app.sessiond.bus.subscribe('state.changed', (event) => seen.push(event));
    const op = { client_op_id: 'bus-1', op: 'add', path: ['creators'], value: 'c-1' };
    await post(grant.access_token, 'follows', op);
    await post(grant.access_token, 'follows', op);
    stop();
    expect(seen).toEqual([
      expect.objectContaining({
        namespace: 'follows',
        seq: 1,
        client_op_id: 'bus-1',
        session_id: grant.session.id,
        operation: { op: 'add', path: ['creators'], value: 'c-1' },
      }),
    ]);
  });
});
