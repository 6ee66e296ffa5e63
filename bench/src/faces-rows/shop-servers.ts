import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { startPeerServer } from '../peer-server.js';
import { startSessiondChild } from '../targets/sessiond-child.js';

// Row 15's servers, each in its own process: sessiond (as examples/live-shop's README and
// `npm run demo` configure it for the shop's origin), the live shop in front of it, and row 9's
// bare ws relay for the baseline.

export interface ShopServers {
  sessiond: ChildServer;
  /** The shop's origin as the browser opens it: `http://localhost:<port>`, as the demo prints it. */
  shopURL: string;
  relay: ChildServer;
  stop(): Promise<void>;
}

export async function startShopServers(config: BenchConfig): Promise<ShopServers> {
  const started: ChildServer[] = [];
  const stop = async (): Promise<void> => {
    for (const server of started.reverse()) await server.stop();
  };
  try {
    // sessiond must name the shop's origin, and the shop sessiond's URL: pick sessiond's port first.
    const sessiondPort = await findFreePort();
    const shop = await startPeerServer(config, 'live-shop', {
      env: { SESSIOND_URL: `http://127.0.0.1:${sessiondPort}` },
      readyPath: '/',
    });
    started.push(shop);
    const shopURL = shop.baseURL.replace('127.0.0.1', 'localhost');
    const sessiond = await startSessiondChild(config, {
      name: 'sessiond (live shop)',
      port: sessiondPort,
      env: {
        // The page's cookie-mode calls and its sync socket come from the shop's origin, via its proxy.
        SESSIOND_CORS_ORIGINS: shopURL,
        SESSIOND_TRUST_PROXY: 'true',
      },
    });
    started.push(sessiond);
    const relay = await startPeerServer(config, 'ws-broadcast');
    started.push(relay);
    return { sessiond, shopURL, relay, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
