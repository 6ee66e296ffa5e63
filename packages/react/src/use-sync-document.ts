import { useStore } from '@nanostores/react';
import type { SyncedDocument, SyncStatus } from '@sessiond/client';
import type { JSONObject, StateOperation } from '@sessiond/protocol';
import { useCallback, useMemo } from 'react';
import { useSessionClient } from './session-provider.js';

export interface UseSyncDocument<T extends JSONObject> {
  /** The document as this device sees it: the server's, with local edits on top. */
  value: T;
  /** `live` (socket open, caught up), `pending` (unconfirmed local edits), `seq`, `rejected`. */
  status: SyncStatus;
  /** Applies at once, locally, and queues for the server; returns the `client_op_id`. */
  apply(operation: StateOperation): string;
  /** Resolves when the server has confirmed every local edit so far. */
  settled(): Promise<void>;
  /** The client's document itself (`client.sync(namespace)`), e.g. for `cart(document)`. */
  document: SyncedDocument<T>;
}

/**
 * The signed-in user's state document `namespace`, live across their devices. The client opens
 * one WebSocket for all documents; it also carries the session events the other hooks react to.
 */
export function useSyncDocument<T extends JSONObject = JSONObject>(namespace: string): UseSyncDocument<T> {
  const client = useSessionClient();
  const document = useMemo(() => client.sync<T>(namespace), [client, namespace]);
  const value = useStore(document.value);
  const status = useStore(document.status);
  const apply = useCallback((operation: StateOperation) => document.apply(operation), [document]);
  const settled = useCallback(() => document.settled(), [document]);
  return { value, status, apply, settled, document };
}
