import { SYNC_PATH, SYNC_SUBPROTOCOL, type SyncServerMessage } from '@sessiond/protocol';
import WebSocket from 'ws';
import { withTimeout } from '../with-timeout.js';

// Where rows 9 and 10 open their sockets: sessiond's /api/sync, or the bare ws server of row 9's
// baseline. Each opens a socket until it can carry operations; the measurements are the same.

// Generous: 10,000 handshakes queue behind each other on the server's one core.
const HANDSHAKE_TIMEOUT_MS = 60_000;
export const NAMESPACE = 'cart';

/** Whose socket it is: a user (the bare server's group) and the session it presents to sessiond. */
export interface SocketOwner {
  group: string;
  accessToken: string;
}

export interface SyncEndpoint {
  /** Stable key in latest.json. */
  id: 'sessiond' | 'bare-ws';
  /** Resolves once the socket is ready for `apply` (sessiond: authenticated and subscribed). */
  open(owner: SocketOwner): Promise<WebSocket>;
  /** What another socket of the user receives for an `apply` (the bare server relays the apply itself). */
  deliveredType: 'op' | 'apply';
}

/** The `apply` every row sends: a counter that never grows the user's document. */
export function applyMessage(clientOpId: string): string {
  return JSON.stringify({
    type: 'apply',
    namespace: NAMESPACE,
    client_op_id: clientOpId,
    operation: { op: 'increment', path: ['items', 'sku-1', 'qty'], value: 1 },
  });
}

function connected(url: URL, protocols: string[]): Promise<WebSocket> {
  const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`the handshake answered ${response.statusCode}`)),
    );
  });
}

/** Sends `message` and waits for the first answer of type `until`; an `error` answer rejects. */
function exchange(socket: WebSocket, message: object, until: ReadonlyArray<SyncServerMessage['type']>) {
  return new Promise<SyncServerMessage>((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const answer = JSON.parse(data.toString()) as SyncServerMessage;
      if (answer.type === 'error')
        finish(() => reject(new Error(`sessiond: ${answer.error}: ${answer.message}`)));
      else if (until.includes(answer.type)) finish(() => resolve(answer));
    };
    const onClose = (code: number): void => finish(() => reject(new Error(`the socket closed (${code})`)));
    const finish = (settle: () => void): void => {
      socket.off('message', onMessage);
      socket.off('close', onClose);
      settle();
    };
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.send(JSON.stringify(message));
  });
}

export function sessiondEndpoint(baseURL: string): SyncEndpoint {
  const url = new URL(SYNC_PATH, baseURL.replace(/^http/, 'ws'));
  const open = async (owner: SocketOwner): Promise<WebSocket> => {
    const socket = await connected(url, [SYNC_SUBPROTOCOL]);
    try {
      // The token as the first message, never in the URL (see packages/protocol/src/sync.ts).
      await exchange(socket, { type: 'auth', access_token: owner.accessToken }, ['ready']);
      await exchange(socket, { type: 'subscribe', namespace: NAMESPACE, since: 0 }, ['catch_up', 'snapshot']);
      return socket;
    } catch (error) {
      socket.terminate();
      throw error;
    }
  };
  return {
    id: 'sessiond',
    open: (owner) => withTimeout(open(owner), HANDSHAKE_TIMEOUT_MS, 'a sessiond sync handshake'),
    deliveredType: 'op',
  };
}

export function bareEndpoint(baseURL: string): SyncEndpoint {
  const base = baseURL.replace(/^http/, 'ws');
  return {
    id: 'bare-ws',
    open: (owner) =>
      withTimeout(
        connected(new URL(`/sync?group=${encodeURIComponent(owner.group)}`, base), []),
        HANDSHAKE_TIMEOUT_MS,
        'a bare ws handshake',
      ),
    deliveredType: 'apply',
  };
}
