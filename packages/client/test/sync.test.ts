import type { StateOperation } from '@sessiond/protocol';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createSessionClient, type SessionClient, type SessionClientOptions } from '../src/session-client.js';
import { memoryStorage, type SessionStorage } from '../src/storage.js';
import { type Cart, cart } from '../src/sync/cart.js';
import type { WebSocketConstructor } from '../src/sync/sync-connection.js';
import type { SyncedDocument } from '../src/sync/sync-document.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    issuerIsURL: true,
    env: { SESSIOND_LOGIN_LIMIT_PER_IP: '100000', SESSIOND_SIGNUP_LIMIT_PER_IP: '100000' },
  });
});
afterAll(async () => {
  await server.close();
});
const open: SessionClient[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

/**
 * A device's network: real `ws` sockets to the real server while online; offline, live sockets
 * are cut (the client sees an abnormal close, as in a tunnel) and new ones go to a closed port.
 */
class Network {
  online = true;
  readonly #sockets = new Set<WebSocket>();
  readonly webSocket: WebSocketConstructor;

  constructor() {
    const network = this;
    this.webSocket = class extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(network.online ? url : 'ws://127.0.0.1:9/', protocols);
        network.#sockets.add(this);
        this.on('close', () => network.#sockets.delete(this));
        this.on('error', () => undefined);
      }
    } as unknown as WebSocketConstructor;
  }

  cut(): void {
    this.online = false;
    for (const socket of this.#sockets) socket.terminate();
  }

  restore(): void {
    this.online = true;
  }
}

interface Device {
  client: SessionClient;
  network: Network;
  storage: SessionStorage;
  doc: SyncedDocument;
}

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

async function device(
  email: string,
  options: {
    storage?: SessionStorage;
    network?: Network;
    signIn?: boolean;
    idle?: SessionClientOptions['idle'];
  } = {},
): Promise<Device> {
  const network = options.network ?? new Network();
  const storage = options.storage ?? memoryStorage();
  const client = createSessionClient({
    baseUrl: server.url,
    storage,
    webSocket: network.webSocket,
    retry: { baseMs: 10, capMs: 100 },
    ...(options.idle ? { idle: options.idle } : {}),
  });
  open.push(client);
  await client.ready;
  if (options.signIn !== false) await client.signIn({ email, password: PASSWORD });
  const doc = client.sync('cart');
  await doc.ready;
  return { client, network, storage, doc };
}

async function eventually(check: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** The server's own view: the document and every operation in its log. */
async function serverState(d: Device) {
  const token = await accessToken(d);
  const snapshot = await request<{ seq: number; document: unknown }>(server.url, 'GET', '/api/state/cart', {
    token,
  });
  const log = await request<{ operations: Array<{ client_op_id: string }> }>(
    server.url,
    'GET',
    '/api/state/cart?since=0',
    { token },
  );
  return { ...snapshot.body, opIds: log.body.operations.map((o) => o.client_op_id) };
}

async function accessToken(d: Device): Promise<string> {
  const raw = await d.storage.get('sessiond.session');
  return (JSON.parse(raw!) as { accessToken: string }).accessToken;
}

async function converged(devices: Device[]): Promise<void> {
  await Promise.all(devices.map((d) => d.doc.settled()));
  const reference = await serverState(devices[0]!);
  await eventually(() => {
    for (const d of devices) {
      expect(d.doc.status.get()).toMatchObject({ live: true, pending: 0, seq: reference.seq });
      expect(d.doc.value.get()).toEqual(reference.document);
    }
  });
}

describe('client.sync against a real server', () => {
  it('shows an edit made on one device on the other', async () => {
    const email = await newUser();
    const phone = await device(email);
    const laptop = await device(email);
    const phoneCart: Cart = cart(phone.doc);
    phoneCart.addItem('sku-1', 2, { title: 'Mug' });
    // Optimistic: the phone sees its edit before the server has answered.
    expect(phoneCart.items.get()).toEqual({ 'sku-1': { qty: 2, title: 'Mug' } });
    await eventually(() =>
      expect(cart(laptop.doc).items.get()).toEqual({ 'sku-1': { qty: 2, title: 'Mug' } }),
    );
    cart(laptop.doc).setQuantity('sku-1', 5);
    await eventually(() => expect(phoneCart.items.get()).toEqual({ 'sku-1': { qty: 5, title: 'Mug' } }));
    cart(laptop.doc).removeItem('sku-1');
    await converged([phone, laptop]);
    expect(phoneCart.items.get()).toEqual({});
  });

  it('keeps editing offline, then lands every edit exactly once and loses none of the other device’s', async () => {
    const email = await newUser();
    const phone = await device(email);
    const laptop = await device(email);
    await eventually(() => expect(phone.doc.status.get().live).toBe(true));
    phone.network.cut();
    await eventually(() => expect(phone.doc.status.get().live).toBe(false));
    const phoneCart = cart(phone.doc);
    phoneCart.addItem('sku-1');
    phoneCart.addItem('sku-1');
    phoneCart.addItem('sku-2', 3);
    cart(laptop.doc).addItem('sku-1', 10);
    cart(laptop.doc).addItem('sku-3');
    await laptop.doc.settled();
    expect(phone.doc.status.get().pending).toBe(3);
    expect(phoneCart.items.get()).toEqual({ 'sku-1': { qty: 2 }, 'sku-2': { qty: 3 } });
    phone.network.restore();
    await converged([phone, laptop]);
    expect(phoneCart.items.get()).toEqual({ 'sku-1': { qty: 12 }, 'sku-2': { qty: 3 }, 'sku-3': { qty: 1 } });
    const { opIds } = await serverState(phone);
    expect(opIds).toHaveLength(5);
    expect(new Set(opIds).size).toBe(5);
  });

  it('keeps the offline outbox through an app restart and sends it on the next start', async () => {
    const email = await newUser();
    const storage = memoryStorage();
    const network = new Network();
    const phone = await device(email, { storage, network });
    await eventually(() => expect(phone.doc.status.get().live).toBe(true));
    network.cut();
    cart(phone.doc).addItem('sku-9', 4);
    await (phone.doc as unknown as { flushed(): Promise<void> }).flushed();
    phone.client.close();
    // The app starts again, offline, on the same storage: the cart and its outbox are there.
    const again = await device(email, { storage, network, signIn: false });
    expect(cart(again.doc).items.get()).toEqual({ 'sku-9': { qty: 4 } });
    expect(again.doc.status.get().pending).toBe(1);
    network.restore();
    await converged([again]);
    expect((await serverState(again)).document).toEqual({ items: { 'sku-9': { qty: 4 } } });
  });

  it('ends the session on a device whose session is revoked elsewhere, at once', async () => {
    const email = await newUser();
    const phone = await device(email);
    const laptop = await device(email);
    await eventually(() => expect(laptop.doc.status.get().live).toBe(true));
    const events: unknown[] = [];
    phone.client.on('session_event', (event) => events.push(event));
    const revoked = await phone.client.fetch('/api/auth/session/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: laptop.client.state.get().session!.id }),
    });
    expect(revoked.status).toBe(200);
    await eventually(
      () => expect(laptop.client.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'revoked' }),
      1_000,
    );
    await eventually(() =>
      expect(events).toContainEqual(expect.objectContaining({ event: 'session.revoked' })),
    );
    expect(phone.client.state.get().status).toBe('authenticated');
  });

  it('ends a signed-out device once, as signed out, though its socket closes while storage is slow', async () => {
    // As slow to delete as a device's secure store: the server's event, the socket's close
    // (4001) and logout's own answer all arrive while the first end is still deleting.
    const memory = memoryStorage();
    const removal = () => new Promise((resolve) => setTimeout(resolve, 200));
    const storage: SessionStorage = {
      get: (key) => memory.get(key),
      set: (key, value) => memory.set(key, value),
      remove: async (key) => {
        await removal();
        await memory.remove(key);
      },
    };
    const phone = await device(await newUser(), { storage });
    await eventually(() => expect(phone.doc.status.get().live).toBe(true));
    const ended: unknown[] = [];
    phone.client.on('ended', (reason) => ended.push(reason));
    await phone.client.signOut();
    expect(phone.doc.status.get().live).toBe(false);
    // Every end begun before now has finished deleting after one more removal's time.
    await removal();
    expect(ended).toEqual(['signed_out']);
    expect(phone.client.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'signed_out' });
  });

  it('ends an idle device with reason idle, though the server announces its logout on the socket', async () => {
    const phone = await device(await newUser(), { idle: { timeoutMs: 500 } });
    await eventually(() => expect(phone.doc.status.get().live).toBe(true));
    const token = await accessToken(phone);
    const ended: unknown[] = [];
    phone.client.on('ended', (reason) => ended.push(reason));
    await eventually(() => expect(phone.client.state.get().status).toBe('unauthenticated'), 5_000);
    expect(phone.client.state.get().reason).toBe('idle');
    expect(ended).toEqual(['idle']);
    // Ended here first, and on the server too.
    await eventually(async () =>
      expect((await request(server.url, 'GET', '/api/auth/session/status', { token })).status).toBe(401),
    );
  });

  it('keeps the user’s cart on the device through sign-out and the next sign-in', async () => {
    const email = await newUser();
    const storage = memoryStorage();
    const phone = await device(email, { storage });
    cart(phone.doc).addItem('sku-1', 2);
    await phone.doc.settled();
    await phone.client.signOut();
    await eventually(() => expect(phone.doc.value.get()).toEqual({}));
    await phone.client.signIn({ email, password: PASSWORD });
    await phone.doc.ready;
    await eventually(() => expect(cart(phone.doc).items.get()).toEqual({ 'sku-1': { qty: 2 } }));
  });
});

// --- property: any interleaving of edits, disconnects and replays converges ------------

const counter = fc.constantFrom('a', 'b');
const operation: fc.Arbitrary<StateOperation> = fc.oneof(
  counter.chain((k) =>
    fc
      .integer({ min: -3, max: 5 })
      .map((value) => ({ op: 'increment', path: ['counts', k], value }) as const),
  ),
  counter.map((k) => ({ op: 'delete', path: ['counts', k] }) as const),
  fc.string({ maxLength: 3 }).map((value) => ({ op: 'set', path: ['note'], value }) as const),
  fc.constantFrom('x', 'y', 'z').map((value) => ({ op: 'add', path: ['tags'], value }) as const),
  fc.constantFrom('x', 'y').map((value) => ({ op: 'remove', path: ['tags'], value }) as const),
);
const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('apply' as const), device: fc.nat(1), operation }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), device: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), device: fc.nat(1) }) },
  // A replay: the socket drops with operations in flight, so they are sent again on reconnect.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('blip' as const), device: fc.nat(1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  },
);

describe('convergence property', () => {
  it('two devices converge on the server’s document, every operation applied exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), async (steps) => {
        const email = await newUser();
        const devices = [await device(email), await device(email)];
        const applied: string[] = [];
        for (const s of steps) {
          if (s.kind === 'pause') await new Promise((resolve) => setTimeout(resolve, s.ms));
          else {
            const d = devices[s.device]!;
            if (s.kind === 'apply') applied.push(d.doc.apply(s.operation));
            else if (s.kind === 'cut') d.network.cut();
            else if (s.kind === 'restore') d.network.restore();
            else {
              d.network.cut();
              d.network.restore();
            }
          }
        }
        for (const d of devices) d.network.restore();
        await converged(devices);
        const { opIds } = await serverState(devices[0]!);
        expect([...opIds].sort()).toEqual([...applied].sort());
        for (const d of devices) d.client.close();
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
