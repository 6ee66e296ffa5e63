// The page the Chromium tests drive: the components against a real sessiond, in cookie mode.
import { browserStorage, createSessionClient } from '@sessiond/client';
import {
  DeviceTrust,
  SessionList,
  SessionProvider,
  StepUpPrompt,
  useSession,
  useSyncDocument,
} from '@sessiond/react';
import { type ReactElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const client = createSessionClient({
  baseUrl: location.origin,
  transport: 'cookie',
  storage: browserStorage(),
});
(window as unknown as { client: typeof client }).client = client;

type Cart = { items?: Record<string, { qty: number }> };

function CartView(): ReactElement {
  const cart = useSyncDocument<Cart>('cart');
  return (
    <section aria-label="Cart" data-live={cart.status.live ? 'true' : 'false'}>
      <ul>
        {Object.entries(cart.value.items ?? {}).map(([sku, line]) => (
          <li key={sku}>
            {sku} × {line.qty}
          </li>
        ))}
      </ul>
      <button
        type="button"
        onClick={() => cart.apply({ op: 'increment', path: ['items', 'sku-here', 'qty'], value: 1 })}
      >
        Add one
      </button>
    </section>
  );
}

function App(): ReactElement {
  const { status, signedIn } = useSession();
  return (
    <main>
      <h1>Account</h1>
      <p>
        Status: <output aria-label="Status">{status}</output>
      </p>
      {signedIn && (
        <>
          <StepUpPrompt />
          <CartView />
          <h2>Sessions</h2>
          <SessionList className="app-sessions" />
          <DeviceTrust />
        </>
      )}
    </main>
  );
}

// StrictMode runs every effect twice on mount: the hooks must not load or subscribe twice over.
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider client={client}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
