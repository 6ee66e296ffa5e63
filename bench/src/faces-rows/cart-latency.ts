import type { Browser, Page } from 'playwright-core';
import { log } from '../log.js';
import type { Credentials } from '../targets/sessiond-api.js';
import type { PageSocket, PageWindow } from './page-dom.js';

// ROW 15: the live shop's cart across two devices of one user. Two browser contexts (two cookie
// jars, two IndexedDBs: two devices), each signed in through the shop's form. In turn, one
// device clicks "Add Sunrise mug to cart" and the other's cart shows the new quantity: from just
// before the click to the mutation observer callback that sees the other page's quantity change,
// both read as performance.timeOrigin + performance.now() (one clock for every page of the
// browser, as in row 6). The path: the sender's client, its sync socket to the shop's proxy,
// sessiond (check, store, broadcast), the proxy, the receiver's socket, client and redraw.
// BASELINE, in the same rounds: a second tab in each context holds a WebSocket to row 9's bare
// relay; just before each click the sender sends one frame and the receiver's tab times its
// arrival the same way. What the browser and one loopback relay hop cost, with nothing else.

export const CART_SAMPLES = 100;
/** Discarded first rounds: they compile both pages' paths. */
export const CART_WARMUP_SAMPLES = 10;
// After each frame and each click, so no round overlaps the one before (and the user's state
// operations stay below sessiond's default 20 per second).
const MIN_GAP_MS = 30;
const MAX_GAP_MS = 50;
const ARRIVAL_TIMEOUT_MS = 10_000;
const STEP_TIMEOUT_MS = 30_000;
const PRODUCT = { sku: 'mug-sunrise', name: 'Sunrise mug' } as const;
const RELAY_GROUP = 'bench-cart';

export interface CartSamples {
  /** Click on one device → the other's cart shows the new quantity, per round, in ms. */
  shopMs: number[];
  /** One frame from one device's relay tab → the other's, per round, in ms. */
  relayMs: number[];
  /** The quantity each device shows at the end: every click, once. */
  finalQuantities: { phone: number; laptop: number; expected: number };
}

interface Device {
  name: string;
  shop: Page;
  relay: Page;
}

interface CartGlobal {
  benchCart?: { seen: Record<number, number> };
  benchRelay?: { socket: PageSocket; arrivals: Record<number, number> };
}

/** In the shop's page: the time each quantity of the product first shows in the cart. */
function watchQuantity(name: string): void {
  const { document, performance, MutationObserver } = globalThis as unknown as PageWindow;
  const seen: Record<number, number> = {};
  (globalThis as CartGlobal).benchCart = { seen };
  // An anonymous callback: tsx would wrap a named inner function in a helper the page lacks.
  new MutationObserver(() => {
    const count = document.querySelector(`[aria-label="Quantity of ${name}"]`);
    const qty = count === null ? 0 : Number(count.textContent);
    if (seen[qty] === undefined) seen[qty] = performance.timeOrigin + performance.now();
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}

/** In the shop's page: the click a person makes, and the time just before it. */
function clickAdd(sku: string): number {
  const { document, performance } = globalThis as unknown as PageWindow;
  const button = document.querySelector(`button[data-key="add:${sku}"]`);
  if (button === null) throw new Error(`no Add button for ${sku}`);
  const at = performance.timeOrigin + performance.now();
  button.click();
  return at;
}

/** In the relay tab: one socket to the bare relay, recording when each frame id arrives. */
function openRelay(url: string): Promise<void> {
  const { performance, WebSocket } = globalThis as unknown as PageWindow;
  const arrivals: Record<number, number> = {};
  const socket = new WebSocket(url);
  (globalThis as CartGlobal).benchRelay = { socket, arrivals };
  socket.addEventListener('message', (event) => {
    const id = Number(event.data);
    if (arrivals[id] === undefined) arrivals[id] = performance.timeOrigin + performance.now();
  });
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error(`the relay socket to ${url} failed`)));
  });
}

function sendFrame(id: number): number {
  const { performance } = globalThis as unknown as PageWindow;
  const at = performance.timeOrigin + performance.now();
  (globalThis as CartGlobal).benchRelay!.socket.send(String(id));
  return at;
}

async function waitFor(
  page: Page,
  what: (arg: number) => number | undefined,
  arg: number,
  label: string,
): Promise<number> {
  try {
    const handle = await page.waitForFunction(what, arg, { polling: 'raf', timeout: ARRIVAL_TIMEOUT_MS });
    return (await handle.jsonValue()) as number;
  } catch {
    throw new Error(`${label} did not arrive within ${ARRIVAL_TIMEOUT_MS / 1000} s`);
  }
}

const pause = (page: Page): Promise<void> =>
  page.waitForTimeout(MIN_GAP_MS + Math.random() * (MAX_GAP_MS - MIN_GAP_MS));

async function openDevice(
  browser: Browser,
  urls: { shop: string; relay: string },
  name: string,
  credentials: Credentials,
): Promise<Device> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const shop = await context.newPage();
  shop.on('pageerror', (error) => process.stderr.write(`  [${name}] page error: ${error.message}\n`));
  await shop.goto(`${urls.shop}/?device=${name}`, { timeout: STEP_TIMEOUT_MS });
  await shop.locator('body[data-ready="true"]').waitFor({ timeout: STEP_TIMEOUT_MS });
  // The shop's own sign-in form, as a person signs in (cookie mode: the page never sees a token).
  await shop.getByLabel('Email').fill(credentials.email);
  await shop.getByLabel('Password').fill(credentials.password);
  await shop.getByRole('button', { name: 'Sign in', exact: true }).click();
  await shop.getByRole('heading', { name: 'Your cart' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  // The cart document is live: its socket open and subscribed.
  await shop.locator('body[data-sync="live"]').waitFor({ timeout: STEP_TIMEOUT_MS });
  await shop.evaluate(watchQuantity, PRODUCT.name);
  const relay = await context.newPage();
  // A plain document of the relay's own origin (no CSP of the shop's in the way).
  await relay.goto(`${urls.relay}/healthz`, { timeout: STEP_TIMEOUT_MS });
  await relay.evaluate(openRelay, `${urls.relay.replace('http:', 'ws:')}/sync?group=${RELAY_GROUP}`);
  return { name, shop, relay };
}

const shownQuantity = (device: Device): Promise<number> =>
  device.shop.evaluate((name) => {
    const { document } = globalThis as unknown as PageWindow;
    return Number(document.querySelector(`[aria-label="Quantity of ${name}"]`)?.textContent ?? 0);
  }, PRODUCT.name);

export async function measureCartLatency(
  browser: Browser,
  urls: { shop: string; relay: string },
  credentials: Credentials,
): Promise<CartSamples> {
  const phone = await openDevice(browser, urls, 'Phone', credentials);
  try {
    const laptop = await openDevice(browser, urls, 'Laptop', credentials);
    log('  both devices signed in, their carts live');
    try {
      const samples: CartSamples = {
        shopMs: [],
        relayMs: [],
        finalQuantities: { phone: 0, laptop: 0, expected: CART_WARMUP_SAMPLES + CART_SAMPLES },
      };
      for (let round = 0; round < CART_WARMUP_SAMPLES + CART_SAMPLES; round++) {
        // The phone adds in even rounds, the laptop in odd ones: both directions alike.
        const [sender, receiver] = round % 2 === 0 ? [phone, laptop] : [laptop, phone];
        const sentAt = await sender.relay.evaluate(sendFrame, round);
        const arrivedAt = await waitFor(
          receiver.relay,
          (id) => (globalThis as CartGlobal).benchRelay!.arrivals[id],
          round,
          `relay frame ${round} on the ${receiver.name}`,
        );
        await pause(sender.shop);
        const clickedAt = await sender.shop.evaluate(clickAdd, PRODUCT.sku);
        const shownAt = await waitFor(
          receiver.shop,
          (qty) => (globalThis as CartGlobal).benchCart!.seen[qty],
          round + 1,
          `quantity ${round + 1} on the ${receiver.name}'s cart`,
        );
        if (round >= CART_WARMUP_SAMPLES) {
          samples.relayMs.push(arrivedAt - sentAt);
          samples.shopMs.push(shownAt - clickedAt);
        }
        await pause(sender.shop);
      }
      samples.finalQuantities.phone = await shownQuantity(phone);
      samples.finalQuantities.laptop = await shownQuantity(laptop);
      return samples;
    } finally {
      await laptop.shop.context().close();
    }
  } finally {
    await phone.shop.context().close();
  }
}
