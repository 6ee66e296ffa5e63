import {
  SYNC_BEARER_PROTOCOL_PREFIX,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
  type SyncClientMessage,
  type SyncServerMessage,
} from '@sessiond/protocol';
import WebSocket from 'ws';

type Message = SyncServerMessage;
type OfType<T extends Message['type']> = Extract<Message, { type: T }>;

/** A real WebSocket to /api/sync that records what the server sends, for tests to wait on. */
export interface SyncSocket {
  readonly socket: WebSocket;
  readonly received: Message[];
  send(message: SyncClientMessage | Record<string, unknown>): void;
  sendRaw(data: string | Buffer): void;
  /** The next message (after those already taken) matching `type` and `where`. */
  next<T extends Message['type']>(
    type: T,
    where?: (message: OfType<T>) => boolean,
    timeoutMs?: number,
  ): Promise<OfType<T>>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  close(): void;
}

export async function openSync(
  baseURL: string,
  options: {
    token?: string;
    /** Send the token as the first message (default) or in the handshake's subprotocol. */
    tokenIn?: 'message' | 'protocol';
    origin?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<SyncSocket> {
  const url = new URL(SYNC_PATH, baseURL.replace(/^http/, 'ws'));
  const protocols = [SYNC_SUBPROTOCOL];
  if (options.token && options.tokenIn === 'protocol')
    protocols.push(SYNC_BEARER_PROTOCOL_PREFIX + options.token);
  const socket = new WebSocket(url, protocols, {
    headers: options.headers ?? {},
    ...(options.origin ? { origin: options.origin } : {}),
  });
  const received: Message[] = [];
  const taken = new Set<Message>();
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    received.push(JSON.parse(data.toString()) as Message);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString(), at: Date.now() });
      for (const wake of waiters) wake();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(
        Object.assign(new Error(`handshake answered ${response.statusCode}`), {
          status: response.statusCode,
        }),
      ),
    );
  });
  const sync: SyncSocket = {
    socket,
    received,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (data) => socket.send(data),
    next: (type, where = () => true, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const found = received.find(
            (m) => !taken.has(m) && m.type === type && where(m as OfType<typeof type>),
          ) as OfType<typeof type> | undefined;
          if (found) {
            taken.add(found);
            cleanUp();
            resolve(found);
          } else if (socket.readyState === WebSocket.CLOSED) {
            cleanUp();
            reject(new Error(`socket closed while waiting for ${type}; got ${JSON.stringify(received)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanUp();
          reject(new Error(`no ${type} within ${timeoutMs} ms; got ${JSON.stringify(received)}`));
        }, timeoutMs);
        const cleanUp = () => {
          clearTimeout(timer);
          waiters.delete(look);
        };
        waiters.add(look);
        look();
      }),
    close: () => socket.close(),
  };
  if (options.token && options.tokenIn !== 'protocol')
    sync.send({ type: 'auth', access_token: options.token });
  return sync;
}
