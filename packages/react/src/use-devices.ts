import type { SessionClient, UserDevice } from '@sessiond/client';
import { useCallback } from 'react';
import { useAccountList } from './lib/use-account-list.js';

export interface UseDevices {
  /** Every device the user has signed in from and not forgotten; `current` marks this one. */
  devices: UserDevice[];
  loading: boolean;
  error: Error | null;
  reload(): Promise<void>;
  /** Sets (default) or clears trust; rejects (and sets `error`) if the server refuses. */
  trust(deviceId: string, options?: { trusted?: boolean }): Promise<void>;
  untrust(deviceId: string): Promise<void>;
  /** Forgets the device and ends its sessions. */
  forget(deviceId: string): Promise<void>;
}

const listDevices = (client: SessionClient): Promise<UserDevice[]> => client.devices.list();

/** The signed-in user's devices from the server, with trust and forget. */
export function useDevices(): UseDevices {
  const { items, loading, error, reload, setError, client } = useAccountList(listDevices);

  const act = useCallback(
    async (action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (failure) {
        setError(failure);
        throw failure;
      }
      await reload();
    },
    [reload, setError],
  );

  const trust = useCallback(
    (deviceId: string, options: { trusted?: boolean } = {}) =>
      act(() => client.devices.trust(deviceId, options)),
    [act, client],
  );
  const untrust = useCallback(
    (deviceId: string) => act(() => client.devices.trust(deviceId, { trusted: false })),
    [act, client],
  );
  const forget = useCallback((deviceId: string) => act(() => client.devices.forget(deviceId)), [act, client]);

  return { devices: items, loading, error, reload, trust, untrust, forget };
}
