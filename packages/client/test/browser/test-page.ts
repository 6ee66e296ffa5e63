import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const STATIC: Record<string, string> = {
  client: join(ROOT, 'packages/client/dist'),
  protocol: join(ROOT, 'packages/protocol/dist'),
  nanostores: join(ROOT, 'node_modules/nanostores'),
  // The client loads it on the first passkey ceremony (browserWebAuthn).
  simplewebauthn: join(ROOT, 'node_modules/@simplewebauthn/browser/esm'),
};
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

/**
 * The page a browser test opens: the built @sessiond/client loaded as ES modules (an import
 * map, no bundler), one client per tab, every state change recorded with its time.
 */
export function serveTestPage(app: FastifyInstance): void {
  app.get('/test/app.html', async (request, reply) => {
    const query = request.query as { transport?: string; locks?: string };
    const transport = query.transport === 'cookie' ? 'cookie' : 'bearer';
    // ?locks=off hides Web Locks, as older browsers lack them, to exercise the BroadcastChannel lease.
    const hideLocks =
      query.locks === 'off' ? "Object.defineProperty(navigator, 'locks', { value: undefined });" : '';
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    // nanostores reads process.env.NODE_ENV, which an app's bundler replaces; this page has none.
    return `<!doctype html><meta charset="utf-8"><title>sessiond client test</title><link rel="icon" href="data:,">
<script>window.process = { env: { NODE_ENV: 'production' } }; ${hideLocks}</script>
<script type="importmap">{"imports":{"nanostores":"/test/static/nanostores/index.js","@sessiond/protocol":"/test/static/protocol/index.js","@simplewebauthn/browser":"/test/static/simplewebauthn/index.js"}}</script>
<script type="module">
  const t0 = performance.now();
  window.states = [];
  window.refreshCalls = 0;
  const sessiond = await import('/test/static/client/index.js');
  const { createSessionClient, browserStorage } = sessiond;
  window.sessiond = sessiond;
  const counted = (input, init) => {
    if (String(input).includes('/api/auth/session/refresh')) window.refreshCalls += 1;
    return fetch(input, init);
  };
  const client = createSessionClient({ baseUrl: location.origin, transport: '${transport}', storage: browserStorage(), fetch: counted });
  window.endedReasons = [];
  client.on('ended', (reason) => window.endedReasons.push(reason));
  client.state.subscribe((state) => window.states.push({ status: state.status, expiresAt: state.accessTokenExpiresAt, reason: state.reason, at: performance.now() - t0 }));
  await client.ready;
  window.readyAt = performance.now() - t0;
  window.client = client;
</script>`;
  });

  app.get('/test/static/:root/*', async (request, reply) => {
    const { root, '*': rest } = request.params as { root: string; '*': string };
    const base = STATIC[root];
    const file = base && normalize(join(base, rest));
    if (!base || !file?.startsWith(base)) return reply.code(404).send();
    try {
      const body = await readFile(file);
      return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(body);
    } catch {
      return reply.code(404).send();
    }
  });
}
