import type { ActiveSession, SessionClient } from '@sessiond/client';
import { useCallback } from 'react';
import { useAccountList } from './lib/use-account-list.js';

export interface UseSessions {
  /** The user's live sessions, newest first; `current` marks this one. */
  sessions: ActiveSession[];
  loading: boolean;
  /** The last failure (load or action); a demanded step-up also moves `useSession().status`. */
  error: Error | null;
  reload(): Promise<void>;
  /** Ends one session; rejects (and sets `error`) if the server refuses. */
  revoke(sessionId: string): Promise<void>;
  /**
   * Ends every other session and keeps this one. `{ includeCurrent: true }` ends this one too
   * (`client.signOutEverywhere()`).
   */
  revokeAll(options?: { includeCurrent?: boolean }): Promise<void>;
}

const listSessions = (client: SessionClient): Promise<ActiveSession[]> => client.sessions.list();

/**
 * The signed-in user's sessions from the server, reloaded when the sync socket announces a
 * change (a new device, a revocation) and after each action.
 */
export function useSessions(): UseSessions {
  const { items, loading, error, reload, setError, client } = useAccountList(listSessions);

  const revoke = useCallback(
    async (sessionId: string): Promise<void> => {
      try {
        await client.sessions.revoke(sessionId);
      } catch (failure) {
        setError(failure);
        throw failure;
      }
      await reload();
    },
    [client, reload, setError],
  );

  const revokeAll = useCallback(
    async (options: { includeCurrent?: boolean } = {}): Promise<void> => {
      try {
        if (options.includeCurrent) await client.signOutEverywhere();
        else await client.sessions.revokeOthers();
      } catch (failure) {
        setError(failure);
        throw failure;
      }
      await reload();
    },
    [client, reload, setError],
  );

  return { sessions: items, loading, error, reload, revoke, revokeAll };
}
