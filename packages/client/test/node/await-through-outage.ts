/**
 * A Node program that awaits the client through a server outage (issue 12), run as a real child
 * process by node-process.test.ts. It signs in, prints `signed-in`, and waits for one line on
 * stdin: by then the server is down. It then closes stdin, so that nothing but the client holds
 * the process open, and awaits `refresh()` or `fetch()` at the top level. If a wait the call is
 * blocked on does not keep the process alive, Node exits with code 13 (unsettled top-level
 * await) before the server is back.
 *
 * env: SESSIOND_URL, EMAIL, PASSWORD, MODE (`refresh` | `fetch` | `settled`).
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { createSessionClient } from '../../src/session-client.js';
import { memoryStorage } from '../../src/storage.js';
import type { WebSocketConstructor } from '../../src/sync/sync-connection.js';

const baseUrl = process.env.SESSIOND_URL ?? '';
const mode = process.env.MODE ?? 'refresh';
// Short backoff, many attempts: the outage is outlasted by retries, never by one long wait.
const retry = { baseMs: 100, capMs: 400, attemptsPerCall: 200 };
const storage = memoryStorage();

const webSocket = WebSocket as unknown as WebSocketConstructor;
const first = createSessionClient({ baseUrl, storage, retry, webSocket });
await first.signIn({ email: process.env.EMAIL ?? '', password: process.env.PASSWORD ?? '' });
if (mode === 'settled') {
  // The socket is live, then the server goes away: the client waits to reconnect, and the
  // program awaits an edit's confirmation meanwhile.
  const doc = first.sync('cart');
  await doc.ready;
  while (!doc.status.get().live) await new Promise((resolve) => setTimeout(resolve, 10));
  process.stdout.write('signed-in\n');
  await once(process.stdin, 'data');
  process.stdin.destroy();
  doc.apply({ op: 'increment', path: ['items', 'sku-1', 'qty'], value: 2 });
  await doc.settled();
  process.stdout.write(`${JSON.stringify({ mode, value: doc.value.get(), pending: doc.pending.length })}\n`);
  first.close();
  process.exit(0);
}
first.close();
if (mode === 'fetch') {
  // As if the app restarted just as its access token ran out: fetch must refresh first.
  const saved = JSON.parse((await storage.get('sessiond.session')) ?? '{}') as Record<string, unknown>;
  await storage.set('sessiond.session', JSON.stringify({ ...saved, accessTokenExpiresAt: Date.now() }));
}
process.stdout.write('signed-in\n');
await once(process.stdin, 'data');
process.stdin.destroy();

const client = createSessionClient({ baseUrl, storage, retry });
if (mode === 'fetch') {
  const response = await client.fetch('/api/auth/session/status');
  process.stdout.write(
    `${JSON.stringify({ mode, status: response.status, state: client.state.get().status })}\n`,
  );
} else {
  await client.ready;
  await client.refresh();
  process.stdout.write(`${JSON.stringify({ mode, state: client.state.get().status })}\n`);
}
client.close();
