// Row 15's shop: examples/live-shop's own server (its page bundled by esbuild at start-up, its
// live-event feed, its reverse proxy of sessiond's /api, /oauth and /.well-known), in a process of
// its own like every other server of the benchmark. It has no /healthz: the harness waits for `/`.
import { startShop } from '../../../examples/live-shop/src/server/shop-server.js';
import { readServerEnv } from './lib/server-env.js';

const env = readServerEnv();
const sessiondURL = process.env.SESSIOND_URL;
if (sessiondURL === undefined || sessiondURL === '') throw new Error('SESSIOND_URL must name sessiond');

const shop = await startShop({ sessiondURL, port: env.port, host: '127.0.0.1' });
process.stdout.write(`live-shop ready on ${shop.url}\n`);
process.once('SIGTERM', () => {
  void shop.close().then(() => process.exit(0));
});
