// The PAGE of rows 6 and 7: a bare node:http server that serves one HTML page, the built
// @sessiond/client and its two runtime dependencies as ES modules (an import map, no bundler),
// and reverse-proxies /api/* and /.well-known/* to the benchmark's sessiond. So the page and
// the API share one origin, as in an app deployed behind one proxy, and sessiond needs no CORS.
import { readdir, readFile } from 'node:fs/promises';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerHealth } from './lib/health.js';
import { listenAndAnnounce } from './lib/listen.js';
import { sendJSON } from './lib/send-json.js';
import { readServerEnv } from './lib/server-env.js';

const env = readServerEnv();
const sessiondURL = process.env.SESSIOND_URL;
if (sessiondURL === undefined || !URL.canParse(sessiondURL)) {
  throw new Error(`SESSIOND_URL must be sessiond's base URL, got ${JSON.stringify(sessiondURL)}`);
}
const upstream = new URL(sessiondURL);

// Each package's entry point, resolved the way Node resolves it (workspace symlinks included);
// the page loads the same files the harness would import.
const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(name));
const MODULE_ROOTS: Readonly<Record<string, string>> = {
  client: packageDir('@sessiond/client'),
  protocol: packageDir('@sessiond/protocol'),
  nanostores: packageDir('nanostores'),
  bench: join(dirname(fileURLToPath(import.meta.url)), '..', 'client-rows', 'page'),
};
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
// Cross-origin isolation: Chromium then reads performance.now() to 5 µs instead of 100 µs,
// which row 6 needs for sub-millisecond latencies. Everything here is same-origin, so nothing
// else changes.
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** `/modules/<root>/<file>` for every .js file under the roots the page imports from. */
async function moduleURLs(roots: readonly string[]): Promise<string[]> {
  const urls: string[] = [];
  for (const root of roots) {
    const files = await readdir(MODULE_ROOTS[root]!, { recursive: true });
    for (const file of files.filter((name) => name.endsWith('.js')).sort())
      urls.push(`/modules/${root}/${file.split(sep).join('/')}`);
  }
  return urls;
}

// Every module of the page is preloaded, as a bundler's build (Vite's modulepreload links)
// would have it: without that, the page would wait for each import before it saw the next.
const preloads = (await moduleURLs(['bench', 'client', 'nanostores']))
  .map((url) => `<link rel="modulepreload" href="${url}">`)
  .join('\n');
// nanostores reads process.env.NODE_ENV, which an app's bundler would replace; this page has none.
const PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>sessiond client bench</title><link rel="icon" href="data:,">
<script>window.process = { env: { NODE_ENV: 'production' } };</script>
<script type="importmap">{"imports":{"nanostores":"/modules/nanostores/index.js","@sessiond/protocol":"/modules/protocol/index.js"}}</script>
${preloads}
<script type="module" src="/modules/bench/page.js"></script>
</html>
`;

// One keep-alive pool to sessiond, as a real reverse proxy keeps.
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function proxy(req: IncomingMessage, res: ServerResponse): void {
  const forwarded = request(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forwarded.on('error', (error) => {
    if (res.headersSent) res.destroy(error);
    else sendJSON(res, 502, { error: 'bad_gateway', message: String(error) });
  });
  req.pipe(forwarded);
}

/** `/modules/<root>/<file>` from one of MODULE_ROOTS, never outside it. */
async function serveModule(res: ServerResponse, path: string): Promise<void> {
  const [, , root = '', ...rest] = path.split('/');
  const base = MODULE_ROOTS[root];
  const file = base === undefined ? undefined : normalize(join(base, ...rest));
  const type = file === undefined ? undefined : CONTENT_TYPES[extname(file)];
  if (base === undefined || file === undefined || type === undefined || !file.startsWith(base + sep)) {
    return sendJSON(res, 404, { error: 'not_found' });
  }
  try {
    const body = await readFile(file);
    // Built files do not change during a run: after the first load they come from the HTTP
    // cache, as an app's hashed bundles do for a returning visitor.
    res.writeHead(200, {
      'content-type': type,
      'content-length': body.length,
      'cache-control': 'public, max-age=3600',
      ...ISOLATION,
    });
    res.end(body);
  } catch {
    sendJSON(res, 404, { error: 'not_found' });
  }
}

const server = createServer((req, res) => {
  if (answerHealth(req, res)) return;
  const path = new URL(req.url ?? '/', 'http://page').pathname;
  if (path.startsWith('/api/') || path.startsWith('/.well-known/')) return proxy(req, res);
  if (req.method !== 'GET') return sendJSON(res, 405, { error: 'method_not_allowed' });
  if (path === '/app.html') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(PAGE),
      'cache-control': 'no-store',
      ...ISOLATION,
    });
    return res.end(PAGE);
  }
  if (path.startsWith('/modules/')) return void serveModule(res, path);
  sendJSON(res, 404, { error: 'not_found' });
});

await listenAndAnnounce(server, { name: 'client-page', port: env.port });
