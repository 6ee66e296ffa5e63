import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionStore } from '../src/store/session-store.js';
import { signUpAndIn } from './helpers/api.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 12: a state operation over the sync socket that the storage refuses (disk full, database
// down) is answered storage_unavailable with its client_op_id, like the 503 over HTTP, so the
// client keeps it and sends it again; internal_error stays for bugs. The chaos suite's disk-full
// scenario fills a real disk; here the store fails the way better-sqlite3 does on one.
let server: TestServer;
let diskFull = false;
beforeAll(async () => {
  server = await startTestServer({
    wrapStore: (real: SessionStore) =>
      new Proxy(real, {
        get(target, key) {
          if (key === 'applyStateOperation' && diskFull) {
            return () =>
              Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
          }
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
  });
});
afterAll(async () => {
  await server.close();
});

it('answers a refused write storage_unavailable with its client_op_id, and takes it once space returns', async () => {
  const grant = await signUpAndIn(server.url);
  const socket = await openSync(server.url, { token: grant.access_token });
  try {
    await socket.next('ready');
    const apply = {
      type: 'apply',
      namespace: 'cart',
      client_op_id: 'op-full-1',
      operation: { op: 'set', path: ['a'], value: 1 },
    } as const;
    diskFull = true;
    socket.send(apply);
    const refused = await socket.next('error');
    expect(refused).toMatchObject({
      error: 'storage_unavailable',
      client_op_id: 'op-full-1',
      namespace: 'cart',
      retry_after_ms: 1000,
    });
    diskFull = false;
    socket.send(apply);
    expect(await socket.next('ack')).toMatchObject({ client_op_id: 'op-full-1', status: 'applied' });
  } finally {
    socket.close();
  }
});
