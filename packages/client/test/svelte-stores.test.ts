import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compile } from 'svelte/compiler';
import { derived, get, type Readable } from 'svelte/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createSessionClient, type SessionClient } from '../src/session-client.js';
import type { SessionState } from '../src/state.js';
import type { WebSocketConstructor } from '../src/sync/sync-connection.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let server: TestServer;
const clients: SessionClient[] = [];
beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function newClient(): Promise<{ client: SessionClient; email: string }> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const client = createSessionClient({
    baseUrl: server.url,
    webSocket: WebSocket as unknown as WebSocketConstructor,
  });
  clients.push(client);
  await client.ready;
  return { client, email };
}

/** The client's stores typed as Svelte sees them: this compiles only if they fit `Readable`. */
const asSvelte = <T>(store: Readable<T>): Readable<T> => store;

describe('the client’s stores under Svelte’s store contract (svelte/store)', () => {
  it('get() reads the current state and derived() follows sign-in and sign-out', async () => {
    const { client, email } = await newClient();
    const state = asSvelte<SessionState>(client.state);
    expect(get(state).status).toBe('unauthenticated');
    const status = derived(state, ($state) => $state.status);
    const seen: string[] = [];
    const stop = status.subscribe((value) => seen.push(value));
    await client.signIn({ email, password: PASSWORD });
    expect(get(status)).toBe('authenticated');
    await client.signOut();
    stop();
    expect(seen[0]).toBe('unauthenticated');
    expect(seen).toContain('authenticated');
    expect(seen.at(-1)).toBe('unauthenticated');
  });

  it('subscribe calls at once with the value, returns an unsubscribe function, and is silent after it', async () => {
    const { client, email } = await newClient();
    const calls: string[] = [];
    const unsubscribe = client.state.subscribe((value) => calls.push(value.status));
    // Svelte requires the synchronous first call and a plain function (or {unsubscribe}) back.
    expect(calls).toEqual(['unauthenticated']);
    expect(typeof unsubscribe).toBe('function');
    unsubscribe();
    await client.signIn({ email, password: PASSWORD });
    expect(calls).toEqual(['unauthenticated']);
    expect(get(client.state).status).toBe('authenticated');
  });

  it('a synced document’s value works with derived() as a cart total would', async () => {
    const { client, email } = await newClient();
    await client.signIn({ email, password: PASSWORD });
    const cart = client.sync<{ items?: Record<string, { qty: number }> }>('cart');
    await cart.ready;
    const count = derived(asSvelte(cart.value), ($cart) =>
      Object.values($cart.items ?? {}).reduce((sum, line) => sum + line.qty, 0),
    );
    const counts: number[] = [];
    const stop = count.subscribe((value) => counts.push(value));
    cart.apply({ op: 'increment', path: ['items', 'sku-1', 'qty'], value: 2 });
    cart.apply({ op: 'increment', path: ['items', 'sku-2', 'qty'], value: 1 });
    await cart.settled();
    expect(get(count)).toBe(3);
    expect(counts).toEqual([0, 2, 3]);
    stop();
  });

  it('a compiled Svelte 5 component reads the client’s store with $store syntax (server-rendered)', async () => {
    const { client, email } = await newClient();
    await client.signIn({ email, password: PASSWORD });
    const source = `<script>
  let { client } = $props();
  const session = client.state;
</script>
<p>{$session.status} as {$session.user?.id}</p>`;
    const { render, Component } = await svelteServerModule(source);
    const { body } = render(Component, { props: { client } });
    expect(body).toContain(`<p>authenticated as ${client.state.get().user?.id}</p>`);
  });
});

/** Compiles the component for the server and bundles it with svelte/server's render: one runtime for both. */
async function svelteServerModule(
  source: string,
): Promise<{ render: typeof import('svelte/server').render; Component: import('svelte').Component }> {
  const compiled = compile(source, { generate: 'server', filename: 'Status.svelte' });
  const result = await build({
    stdin: {
      contents:
        "export { render } from 'svelte/server'; export { default as Component } from 'virtual:status';",
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
    plugins: [
      {
        name: 'status-component',
        setup(builder) {
          builder.onResolve({ filter: /^virtual:status$/ }, () => ({ path: 'status', namespace: 'svelte' }));
          builder.onLoad({ filter: /.*/, namespace: 'svelte' }, () => ({
            contents: compiled.js.code,
            loader: 'js',
            resolveDir: ROOT,
          }));
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.text ?? '';
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
