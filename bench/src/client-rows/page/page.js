// The page of rows 6 and 7 (served by src/servers/client-page.ts): one @sessiond/client per
// tab, created as an app creates it. The harness reads and drives everything through
// window.bench. Cross-tab times are performance.timeOrigin + performance.now(), one clock for
// every tab of the browser; page-load times are performance.now(), ms since navigation start.
import { browserStorage, createSessionClient } from '/modules/client/index.js';

const wallClock = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const bench = {
  /** ms since navigation start: the modules are loaded and the client is about to be created. */
  createdAt: performance.now(),
  /** ms since navigation start when `client.ready` resolved, and the status it left. */
  readyAt: null,
  readyStatus: null,
  /** Every change of the store to a new access-token expiry (a sign-in, refresh or adoption). */
  grants: [],
  /** Every bare message that arrived on the floor channel (row 6's floor). */
  floor: [],
  /** Calls this tab made to POST /api/auth/session/refresh. */
  refreshCalls: 0,
  client: undefined,
};
window.bench = bench;

const countingFetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.endsWith('/api/auth/session/refresh')) bench.refreshCalls += 1;
  return fetch(input, init);
};
const client = createSessionClient({
  baseUrl: location.origin,
  transport: 'bearer',
  storage: browserStorage(),
  fetch: countingFetch,
});
bench.client = client;

// nanostores calls listeners synchronously inside set(): `at` is the moment the store changed.
let lastExpiry = null;
client.state.subscribe((state) => {
  if (state.accessTokenExpiresAt === lastExpiry) return;
  lastExpiry = state.accessTokenExpiresAt;
  if (lastExpiry !== null) bench.grants.push({ expiresAt: lastExpiry, at: wallClock() });
});

// Row 6's floor: what one bare BroadcastChannel message between the same two tabs costs.
const floorChannel = new BroadcastChannel('sessiond-bench-floor');
floorChannel.onmessage = (event) => bench.floor.push({ id: event.data, at: wallClock() });

// Event ids run on across calls, so the warm-up's floor messages never match measured ones.
let nextEventId = 0;
/**
 * Row 6, run in the tab that refreshes: `count` events, each a bare floor message and then one
 * `client.refresh()`, with a random pause of `minGapMs` to `maxGapMs` after each. Answers when
 * each floor message was posted and the grant each refresh put into this tab's store.
 */
bench.refreshEvents = async ({ count, minGapMs, maxGapMs }) => {
  const gap = () => sleep(minGapMs + Math.random() * (maxGapMs - minGapMs));
  const events = [];
  for (let i = 0; i < count; i += 1) {
    const id = nextEventId++;
    const floorPostedAt = wallClock();
    floorChannel.postMessage(id);
    await gap();
    const before = bench.grants.length;
    await client.refresh();
    const added = bench.grants.slice(before);
    if (added.length !== 1) throw new Error(`refresh ${id} changed this tab's grant ${added.length} times`);
    events.push({ id, floorPostedAt, grant: added[0] });
    await gap();
  }
  return events;
};

await client.ready;
bench.readyAt = performance.now();
bench.readyStatus = client.state.get().status;
