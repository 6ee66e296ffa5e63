import type { SyncServerMessage } from '@sessiond/protocol';
import { openSync, type SyncSocket } from '../helpers/sync-socket.js';

export interface SocketClose {
  code: number;
  reason: string;
  at: number;
}

/**
 * One device following a namespace over a raw sync socket, the way a client must (docs/api.md,
 * "Catch-up and gaps"): it keeps the last seq it applied, subscribes with `since` on every
 * connection, ignores what it has, and resubscribes on a gap. It records which operations it saw.
 */
export class SyncDevice {
  /** The last sequence number applied to the namespace. */
  seq = 0;
  /** client_op_id -> seq of every operation seen, live or in a catch-up. */
  readonly seen = new Map<string, number>();
  /** How each live `op` reached the device, in order: to tell live delivery from catch-up. */
  readonly live: string[] = [];
  snapshots = 0;
  socket: SyncSocket | undefined;
  readonly #waiters = new Set<() => void>();
  #answered: (() => void) | undefined;

  constructor(
    private readonly accessToken: string,
    readonly namespace = 'cart',
  ) {}

  /** Opens a socket to `baseURL`, authenticates, subscribes from `seq` and waits for the answer. */
  async connect(baseURL: string): Promise<void> {
    const socket = await openSync(baseURL, { token: this.accessToken });
    this.socket = socket;
    socket.socket.on('message', (data) => this.#handle(JSON.parse(data.toString()) as SyncServerMessage));
    socket.closed.then(() => this.#wake());
    await socket.next('ready');
    await this.#subscribe();
  }

  /** The close of the current socket. */
  get closed(): Promise<SocketClose> {
    if (!this.socket) throw new Error('not connected');
    return this.socket.closed;
  }

  get open(): boolean {
    return this.socket !== undefined && this.socket.socket.readyState === this.socket.socket.OPEN;
  }

  close(): void {
    this.socket?.close();
  }

  /** Resolves once the device has seen `clientOpId`; rejects after `timeoutMs` or on a close. */
  waitFor(clientOpId: string, timeoutMs = 5_000, options: { evenIfClosed?: boolean } = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const look = (): void => {
        const seq = this.seen.get(clientOpId);
        if (seq !== undefined) {
          done();
          resolve(seq);
        } else if (!options.evenIfClosed && !this.open) {
          done();
          reject(new Error(`socket closed before ${clientOpId} arrived (seq ${this.seq})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${clientOpId} did not arrive within ${timeoutMs} ms; seen ${JSON.stringify([...this.seen])}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(look);
      };
      this.#waiters.add(look);
      look();
    });
  }

  #subscribe(): Promise<void> {
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to subscribe within 5 s')), 5_000);
      this.#answered = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.socket?.send({ type: 'subscribe', namespace: this.namespace, since: this.seq });
    return answered;
  }

  #handle(message: SyncServerMessage): void {
    if (message.type === 'catch_up' && message.namespace === this.namespace) {
      for (const operation of message.operations) {
        if (operation.seq > this.seq) this.seen.set(operation.client_op_id, operation.seq);
      }
      this.seq = Math.max(this.seq, message.seq);
      this.#answered?.();
    } else if (message.type === 'snapshot' && message.namespace === this.namespace) {
      this.snapshots += 1;
      this.seq = message.seq;
      this.#answered?.();
    } else if (message.type === 'op' && message.namespace === this.namespace) {
      if (message.seq <= this.seq) return;
      if (message.prev_seq > this.seq) {
        // An operation never arrived: ask again from where this device stands.
        void this.#subscribe().catch(() => undefined);
        return;
      }
      this.seen.set(message.client_op_id, message.seq);
      this.live.push(message.client_op_id);
      this.seq = message.seq;
    }
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }
}
