import { useStore } from '@nanostores/react';
import type { SessionClient, SessionState, SessionStatus } from '@sessiond/client';
import { useSessionClient } from './session-provider.js';

/** Statuses in which a user is signed in and the session works (perhaps after a step-up). */
const SIGNED_IN: ReadonlySet<SessionStatus> = new Set<SessionStatus>([
  'authenticated',
  'refreshing',
  'offline',
  'step_up_required',
]);

export interface UseSession extends SessionState {
  /** True while a user is signed in: `authenticated`, `refreshing`, `offline` or `step_up_required`. */
  signedIn: boolean;
  client: SessionClient;
}

/** The client's session state (`client.state`), re-rendering on every change. */
export function useSession(): UseSession {
  const client = useSessionClient();
  const state = useStore(client.state);
  return { ...state, signedIn: SIGNED_IN.has(state.status), client };
}
