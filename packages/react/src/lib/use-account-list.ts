import { useStore } from '@nanostores/react';
import type { SessionClient } from '@sessiond/client';
import type { SyncSessionEvent } from '@sessiond/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSessionClient } from '../session-provider.js';

export interface AccountList<T> {
  items: T[];
  /** True while a load is in flight (the first one, or a reload after an event or an action). */
  loading: boolean;
  /** The last load's or action's failure, cleared by the next success. */
  error: Error | null;
  reload(): Promise<void>;
  setError(error: unknown): void;
  client: SessionClient;
}

/** Session events that change neither the sessions nor the devices. */
const IRRELEVANT = new Set<string>(['session.claims_changed', 'account.factor_changed']);

/**
 * A list the server keeps about the signed-in user (sessions, devices): loaded when a session
 * starts, reloaded when the server announces a change on the sync socket, emptied on sign-out.
 * Only the latest load's answer lands, so a slow stale answer never overwrites a newer one.
 */
export function useAccountList<T>(load: (client: SessionClient) => Promise<T[]>): AccountList<T> {
  const client = useSessionClient();
  const state = useStore(client.state);
  const sessionId =
    state.status === 'unauthenticated' || state.status === 'initializing' || state.status === 'locked'
      ? null
      : (state.session?.id ?? null);
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(sessionId !== null);
  const [error, setErrorState] = useState<Error | null>(null);
  const latest = useRef(0);

  const reload = useCallback(async (): Promise<void> => {
    const seq = ++latest.current;
    if (sessionId === null) {
      setItems([]);
      setLoading(false);
      return;
    }
    setLoading(true);
    try {
      const loaded = await load(client);
      if (seq !== latest.current) return;
      setItems(loaded);
      setErrorState(null);
    } catch (failure) {
      if (seq === latest.current) setErrorState(asError(failure));
    } finally {
      if (seq === latest.current) setLoading(false);
    }
  }, [client, load, sessionId]);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(
    () =>
      client.on('session_event', (detail) => {
        if (!IRRELEVANT.has((detail as SyncSessionEvent).event)) void reload();
      }),
    [client, reload],
  );

  const setError = useCallback((failure: unknown) => setErrorState(asError(failure)), []);
  return { items, loading, error, reload, setError, client };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
