import {
  browserStorage,
  type CartLine,
  cart,
  createSessionClient,
  type EndReason,
  SecondFactorRequiredError,
  type SessionState,
} from '@sessiond/client';
import { CREATORS, creatorName, formatPrice, PRODUCTS, productBySKU } from '../catalogue.js';
import { byId, h, replaceChildrenKeepingFocus } from './dom.js';
import { endedMessage, signInErrorMessage } from './messages.js';

interface FollowsDocument {
  [key: string]: string[];
  creators: string[];
}
interface LiveDocument {
  [key: string]: Record<string, boolean>;
  dismissed: Record<string, boolean>;
}
interface LiveEvent {
  id: string;
  creator: string;
  title: string;
}

const EMAIL_KEY = 'live-shop.email';
const idleTimeoutMs = Number(
  document.querySelector<HTMLMetaElement>('meta[name="shop-idle-timeout-ms"]')?.content ?? '900000',
);

// Cookie mode: sessiond is reached through this page's own origin (the shop proxies /api), so
// the tokens stay in HttpOnly cookies and the page never sees one.
const client = createSessionClient({
  baseUrl: location.origin,
  transport: 'cookie',
  storage: browserStorage(),
  idle: { timeoutMs: idleTimeoutMs },
});
// The user's state, one document per namespace, synced across their devices over one socket.
const cartDocument = client.sync('cart');
const shoppingCart = cart(cartDocument);
const follows = client.sync<FollowsDocument>('follows');
const liveState = client.sync<LiveDocument>('live');
let liveEvent: LiveEvent | null = null;

const signedIn = (state: SessionState = client.state.get()): boolean =>
  state.status !== 'unauthenticated' && state.status !== 'initializing' && state.status !== 'locked';

function deviceName(): string {
  const named = new URLSearchParams(location.search).get('device');
  if (named) return named.slice(0, 64);
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : 'Safari';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : 'Linux';
  return `${browser} on ${os}`;
}

function notify(message: string): void {
  byId('notice').textContent = message;
}

// --- account ------------------------------------------------------------------------------

function renderAccount(state: SessionState): void {
  const account = byId('account');
  const isIn = signedIn(state);
  byId('sign-in').hidden = isIn;
  byId('cart-panel').hidden = !isIn;
  byId('following-panel').hidden = !isIn;
  if (!isIn) {
    account.replaceChildren(h('span', { class: 'muted' }, 'Not signed in'));
    return;
  }
  const email = localStorage.getItem(EMAIL_KEY);
  const signOut = h('button', { type: 'button', class: 'quiet' }, 'Sign out');
  signOut.addEventListener('click', () => void client.signOut());
  const everywhere = h('button', { type: 'button', class: 'quiet' }, 'Sign out everywhere');
  everywhere.addEventListener('click', () => {
    void client.signOutEverywhere().catch(() => notify('Signing out everywhere did not work. Try again.'));
  });
  account.replaceChildren(
    h('span', { class: 'who' }, email ? `Signed in as ${email}` : 'Signed in'),
    signOut,
    everywhere,
  );
}

async function afterSignIn(email: string | null): Promise<void> {
  // A passkey names the account itself: the email typed last may be someone else's.
  if (email) localStorage.setItem(EMAIL_KEY, email);
  else localStorage.removeItem(EMAIL_KEY);
  renderAccount(client.state.get());
  byId<HTMLInputElement>('password').value = '';
  byId('sign-in-error').textContent = '';
  notify('Signed in. Your cart and follows are synced on every device you use.');
}

function showSignInError(error: unknown): void {
  byId('sign-in-error').textContent = signInErrorMessage(error);
}

async function signInWithPassword(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const email = byId<HTMLInputElement>('email').value.trim();
  const password = byId<HTMLInputElement>('password').value;
  if (!email || !password) {
    byId('sign-in-error').textContent = 'Enter your email and password.';
    return;
  }
  try {
    await client.signIn({ email, password, device: { name: deviceName() } });
  } catch (error) {
    // A risky sign-in (a new device after failed attempts, say) asks for a second factor.
    if (error instanceof SecondFactorRequiredError && error.factors.includes('passkey')) {
      try {
        await client.completeSignIn({ passkey: true });
      } catch (second) {
        return showSignInError(second);
      }
    } else if (error instanceof SecondFactorRequiredError) {
      byId('sign-in-error').textContent =
        'This sign-in needs a second factor. Use a passkey, or sign in on a device you used before.';
      return;
    } else return showSignInError(error);
  }
  await afterSignIn(email);
}

async function signInWithPasskey(): Promise<void> {
  try {
    await client.signInWithPasskey({ device: { name: deviceName() } });
  } catch (error) {
    return showSignInError(error);
  }
  await afterSignIn(null);
}

// --- catalogue, follows and cart ---------------------------------------------------------

function followed(): string[] {
  return follows.value.get().creators ?? [];
}

function toggleFollow(creator: string): void {
  const op = followed().includes(creator) ? 'remove' : 'add';
  follows.apply({ op, path: ['creators'], value: creator });
}

function needSignIn(what: string): void {
  notify(`Sign in to ${what}.`);
  byId('email').focus();
}

function renderProducts(): void {
  const isIn = signedIn();
  const following = followed();
  const items = shoppingCart.items.get();
  const cards = PRODUCTS.map((product) => {
    const name = product.name;
    const inCart = items[product.sku]?.qty ?? 0;
    // The product's name is in the button's text (hidden from sight), so the name a voice-control
    // user reads off the screen, "Add to cart", is part of the accessible name (WCAG 2.5.3).
    const add = h(
      'button',
      { type: 'button', class: 'primary', 'data-key': `add:${product.sku}` },
      'Add',
      h('span', { class: 'visually-hidden' }, ` ${name}`),
      ' to cart',
    );
    add.addEventListener('click', () => {
      if (!signedIn()) return needSignIn('add items to your cart');
      shoppingCart.addItem(product.sku, 1, { name, price: product.price });
    });
    const isFollowing = following.includes(product.creator);
    const follow = h(
      'button',
      {
        type: 'button',
        class: 'follow',
        'aria-pressed': isIn && isFollowing ? 'true' : 'false',
        'data-key': `follow:${product.sku}`,
      },
      // A toggle keeps its name; aria-pressed (and the tick) says whether it is on.
      h('span', { class: 'tick', 'aria-hidden': 'true' }, isIn && isFollowing ? '✓ ' : ''),
      'Follow',
      h('span', { class: 'visually-hidden' }, ` ${creatorName(product.creator)}`),
    );
    follow.addEventListener('click', () => {
      if (!signedIn()) return needSignIn('follow creators');
      toggleFollow(product.creator);
    });
    return h(
      'li',
      { class: 'product' },
      h('div', { class: `swatch swatch-${product.swatch}`, 'aria-hidden': 'true' }, name.slice(0, 1)),
      h('h3', {}, name),
      h('p', { class: 'creator' }, `by ${creatorName(product.creator)} `, follow),
      h('p', { class: 'price' }, formatPrice(product.price)),
      h(
        'div',
        { class: 'actions' },
        add,
        isIn && inCart > 0 ? h('span', { class: 'in-cart' }, `${inCart} in cart`) : '',
      ),
    );
  });
  replaceChildrenKeepingFocus(byId('products'), cards);
}

function cartLine(sku: string, line: CartLine): HTMLLIElement {
  const name = productBySKU(sku)?.name ?? String(line.name ?? sku);
  const price = productBySKU(sku)?.price ?? Number(line.price ?? 0);
  const less = h(
    'button',
    { type: 'button', 'data-key': `less:${sku}`, 'aria-label': `One fewer ${name}` },
    '−',
  );
  less.addEventListener('click', () => shoppingCart.setQuantity(sku, line.qty - 1));
  const more = h(
    'button',
    { type: 'button', 'data-key': `more:${sku}`, 'aria-label': `One more ${name}` },
    '+',
  );
  more.addEventListener('click', () => shoppingCart.addItem(sku, 1));
  const remove = h(
    'button',
    { type: 'button', class: 'quiet', 'data-key': `remove:${sku}`, 'aria-label': `Remove ${name}` },
    'Remove',
  );
  remove.addEventListener('click', () => shoppingCart.removeItem(sku));
  return h(
    'li',
    { class: 'line' },
    h('span', { class: 'line-name' }, name),
    h(
      'span',
      { class: 'qty' },
      less,
      h('span', { class: 'count', 'aria-label': `Quantity of ${name}` }, String(line.qty)),
      more,
    ),
    h('span', { class: 'line-price' }, formatPrice(price * line.qty)),
    remove,
  );
}

function renderCart(): void {
  const lines = Object.entries(shoppingCart.items.get()).filter(([, line]) => line.qty > 0);
  replaceChildrenKeepingFocus(
    byId('cart'),
    lines.map(([sku, line]) => cartLine(sku, line)),
  );
  byId('cart-empty').hidden = lines.length > 0;
  const total = lines.reduce((sum, [sku, line]) => sum + (productBySKU(sku)?.price ?? 0) * line.qty, 0);
  byId('cart-total').textContent = lines.length > 0 ? `Total ${formatPrice(total)}` : '';
}

function renderFollowing(): void {
  const following = followed();
  byId('following').replaceChildren(
    ...(following.length === 0
      ? [h('li', { class: 'muted' }, 'Follow a creator to hear when they go live.')]
      : CREATORS.filter((creator) => following.includes(creator.id)).map((creator) =>
          h('li', {}, creator.name),
        )),
  );
}

// --- live banner ---------------------------------------------------------------------------

function renderLive(): void {
  const banner = byId('live-banner');
  const dismissed = liveEvent && signedIn() && liveState.value.get().dismissed?.[liveEvent.id] === true;
  banner.hidden = !liveEvent || Boolean(dismissed);
  if (!liveEvent) return;
  byId('live-title').textContent = `${creatorName(liveEvent.creator)} is live: ${liveEvent.title}`;
  byId('live-detail').textContent = followed().includes(liveEvent.creator)
    ? 'You follow this creator.'
    : 'Follow them to hear about their next stream.';
  byId('live-dismiss').hidden = !signedIn();
}

function listenForLiveEvents(): void {
  // The shop's own feed (server-sent events), the same for every visitor: decision 033.
  const source = new EventSource('/shop/live');
  source.addEventListener('live', (message) => {
    liveEvent = (JSON.parse((message as MessageEvent<string>).data) as { event: LiveEvent | null }).event;
    renderLive();
  });
}

// --- start ---------------------------------------------------------------------------------

function renderAll(): void {
  const state = client.state.get();
  renderAccount(state);
  renderProducts();
  renderCart();
  renderFollowing();
  renderLive();
}

byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => void signInWithPassword(event));
const passkey = byId<HTMLButtonElement>('passkey-sign-in');
passkey.hidden = typeof window.PublicKeyCredential !== 'function';
passkey.addEventListener('click', () => void signInWithPasskey());
byId('live-dismiss').addEventListener('click', () => {
  if (liveEvent) liveState.apply({ op: 'set', path: ['dismissed', liveEvent.id], value: true });
});

client.on('ended', (reason) => {
  notify(endedMessage(reason as EndReason));
  document.body.dataset.ended = String(reason);
});

await client.ready;
let wasIn = signedIn();
client.state.subscribe((state) => {
  // Only status changes redraw the account area: a refresh must not steal the focus.
  if (signedIn(state) !== wasIn) {
    wasIn = signedIn(state);
    renderAll();
  }
});
shoppingCart.items.subscribe(() => {
  renderCart();
  renderProducts();
});
follows.value.subscribe(() => {
  renderProducts();
  renderFollowing();
  renderLive();
});
liveState.value.subscribe(() => renderLive());
cartDocument.status.subscribe((status) => {
  document.body.dataset.sync = status.live ? 'live' : 'connecting';
  byId('sync-status').textContent =
    status.pending > 0
      ? `${status.pending} change(s) waiting to sync`
      : status.live
        ? 'Synced with your other devices'
        : 'Connecting…';
});
renderAll();
listenForLiveEvents();
document.body.dataset.ready = 'true';
