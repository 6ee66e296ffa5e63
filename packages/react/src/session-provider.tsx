import type { SessionClient } from '@sessiond/client';
import { createContext, type ReactElement, type ReactNode, useContext } from 'react';

const SessionClientContext = createContext<SessionClient | null>(null);

export interface SessionProviderProps {
  /** The app's one client (`createSessionClient(...)`), created in the browser, never during SSR. */
  client: SessionClient;
  children?: ReactNode;
}

/** Makes `client` available to every hook and component below it. */
export function SessionProvider({ client, children }: SessionProviderProps): ReactElement {
  return <SessionClientContext.Provider value={client}>{children}</SessionClientContext.Provider>;
}

/** The provider's client: for calls the hooks do not wrap (`signIn`, `fetch`, `passkeys`, ...). */
export function useSessionClient(): SessionClient {
  const client = useContext(SessionClientContext);
  if (!client) throw new Error('@sessiond/react: wrap the tree in <SessionProvider client={client}>');
  return client;
}
