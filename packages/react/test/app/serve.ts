import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FastifyInstance } from 'fastify';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Bundles the test app from sources (no build output needed), as an app's bundler would. */
export async function bundleTestApp(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./main.tsx', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    sourcemap: 'inline',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"development"' },
    alias: {
      '@sessiond/react': `${ROOT}packages/react/src/index.ts`,
      '@sessiond/client': `${ROOT}packages/client/src/index.ts`,
      '@sessiond/protocol': `${ROOT}packages/protocol/src/index.ts`,
    },
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no bundle');
  return output.text;
}

/** `GET /react-test/` (the page) and `/react-test/app.js` (the bundle), on sessiond's own origin. */
export function serveTestApp(app: FastifyInstance, bundle: () => string): void {
  app.get('/react-test/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>sessiond react test</title>' +
          '<link rel="icon" href="data:,"><div id="root"></div><script type="module" src="/react-test/app.js"></script></html>',
      ),
  );
  app.get('/react-test/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(bundle()),
  );
}
