import type { StateOperation, TokenResponse } from '@sessiond/protocol';
import { type APIResponse, PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import { openSync, type SyncSocket } from '../helpers/sync-socket.js';

/**
 * The chaos suite's load: clients that refresh, write state over HTTP and over a sync socket,
 * and end spare sessions (revoke, logout), through a balancer over the nodes that are up. Every
 * request is retried as a real client would (same refresh token, same client_op_id) until it is
 * acknowledged or its deadline passes; what each 2xx acknowledged is recorded, so the invariant
 * checker can hold the database to it.
 */

/** One logical request and what became of it. */
export interface Counted {
  sent: number;
  acknowledged: number;
}

export interface SessionRecordOfLoad {
  userId: string;
  sessionId: string;
  /** Every refresh token a 2xx handed out for this session, oldest first. */
  refreshTokens: string[];
  accessToken: string;
  /** Set once a revoke or logout of this session was acknowledged. */
  ended?: 'revoked' | 'logout';
}

export interface OperationRecord {
  userId: string;
  namespace: string;
  clientOpId: string;
  operation: StateOperation;
  via: 'http' | 'socket';
  /** The seq the acknowledgement named; undefined if never acknowledged (it may or may not be applied). */
  ackedSeq?: number;
}

export interface LoadRecord extends Counted {
  sessions: Map<string, SessionRecordOfLoad>;
  operations: OperationRecord[];
  /** Answers a client must never get, whatever the fault: a 500, a refused valid token, ... */
  unexpected: string[];
  /** How many of each (status, code) the clients saw, retries included: e.g. "503 storage_unavailable". */
  answers: Map<string, number>;
}

export function emptyRecord(): LoadRecord {
  return {
    sent: 0,
    acknowledged: 0,
    sessions: new Map(),
    operations: [],
    unexpected: [],
    answers: new Map(),
  };
}

/** What the load talks to: the base URLs of the nodes, any of which may be down at any moment. */
export interface Targets {
  urls(): readonly string[];
}

/** Answers that mean "not handled, send it again": the node is down, restarting or its storage is. */
function isRetryable(answer: APIResponse): boolean {
  return answer.status === 503 || answer.status === 502;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoadOptions {
  clients: number;
  /** How long one logical request is retried before it counts as unacknowledged. */
  requestDeadlineMs?: number;
  /** End a spare session every this many rounds per client. */
  endEvery?: number;
}

/** Round-robin over the targets; a network failure or a 503 moves to the next and tries again. */
class Balancer {
  #next = 0;

  constructor(
    private readonly targets: Targets,
    private readonly record: LoadRecord,
  ) {}

  async send<T>(
    call: (url: string) => Promise<APIResponse<T>>,
    deadline: number,
  ): Promise<APIResponse<T> | undefined> {
    for (;;) {
      const urls = this.targets.urls();
      const url = urls[this.#next++ % Math.max(1, urls.length)];
      if (url !== undefined) {
        try {
          const answer = await call(url);
          const code = (answer.body as { error?: string } | undefined)?.error;
          this.#count(`${answer.status}${code ? ` ${code}` : ''}`);
          if (!isRetryable(answer as APIResponse)) return answer;
        } catch (error) {
          if (!(error instanceof TypeError)) throw error; // fetch's network failure
          this.#count('connection error');
        }
      }
      if (Date.now() > deadline) return undefined;
      await pause(50);
    }
  }

  pick(): string | undefined {
    const urls = this.targets.urls();
    return urls[this.#next++ % Math.max(1, urls.length)];
  }

  #count(key: string): void {
    this.record.answers.set(key, (this.record.answers.get(key) ?? 0) + 1);
  }
}

interface Client {
  index: number;
  email: string;
  main: SessionRecordOfLoad;
  socket?: SyncSocket;
  opCounter: number;
}

/** The client's next operation: every one leaves a mark, so a double or a missing one shows. */
function nextOperation(client: Client): { clientOpId: string; operation: StateOperation } {
  client.opCounter += 1;
  const clientOpId = `c${client.index}-${client.opCounter}`;
  const operation: StateOperation =
    client.opCounter % 2 === 0
      ? { op: 'increment', path: ['total'], value: 1 }
      : { op: 'add', path: ['ids'], value: clientOpId };
  return { clientOpId, operation };
}

export class LoadGenerator {
  readonly record = emptyRecord();
  readonly #balancer: Balancer;
  readonly #deadlineMs: number;
  readonly #endEvery: number;
  #clients: Client[] = [];
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    targets: Targets,
    private readonly options: LoadOptions,
  ) {
    this.#balancer = new Balancer(targets, this.record);
    this.#deadlineMs = options.requestDeadlineMs ?? 20_000;
    this.#endEvery = options.endEvery ?? 4;
  }

  /** Signs every client up and in (before any fault), then runs the load until `stop`. */
  async start(): Promise<void> {
    for (let index = 0; index < this.options.clients; index++) {
      const email = uniqueEmail();
      const deadline = Date.now() + this.#deadlineMs;
      const signup = await this.#balancer.send(
        (url) => request(url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } }),
        deadline,
      );
      if (signup?.status !== 201) {
        throw new Error(
          `chaos: sign-up failed: ${JSON.stringify(signup?.body)}; seen ${JSON.stringify([...this.record.answers])}`,
        );
      }
      const main = await this.#signIn(email);
      if (!main) throw new Error('chaos: the first sign-in failed');
      this.#clients.push({ index, email, main, opCounter: 0 });
    }
    this.#running = Promise.all(this.#clients.map((client) => this.#run(client))).then(() => undefined);
  }

  /** Stops issuing new requests and waits for those under way (each bounded by its deadline). */
  async stop(): Promise<LoadRecord> {
    this.#stopped = true;
    await this.#running;
    for (const client of this.#clients) client.socket?.close();
    return this.record;
  }

  async #run(client: Client): Promise<void> {
    for (let round = 1; !this.#stopped; round++) {
      await this.#refresh(client.main);
      if (this.#stopped) break;
      await this.#httpOperation(client);
      if (this.#stopped) break;
      await this.#socketOperation(client);
      if (round % this.#endEvery === 0 && !this.#stopped) await this.#endSpare(client, round);
    }
  }

  async #signIn(email: string): Promise<SessionRecordOfLoad | undefined> {
    const answer = await this.#balancer.send(
      (url) =>
        request<TokenResponse>(url, 'POST', '/api/auth/session/create', {
          body: { email, password: PASSWORD },
        }),
      Date.now() + this.#deadlineMs,
    );
    if (answer?.status !== 200) return undefined;
    const session: SessionRecordOfLoad = {
      userId: answer.body.session.user_id,
      sessionId: answer.body.session.id,
      refreshTokens: [answer.body.refresh_token],
      accessToken: answer.body.access_token,
    };
    this.record.sessions.set(session.sessionId, session);
    return session;
  }

  /** One refresh with the latest token; a retry (lost answer, node down) sends the same one. */
  async #refresh(session: SessionRecordOfLoad): Promise<void> {
    const token = session.refreshTokens.at(-1)!;
    this.record.sent += 1;
    const answer = await this.#balancer.send(
      (url) =>
        request<TokenResponse & { error?: string }>(url, 'POST', '/api/auth/session/refresh', {
          body: { refresh_token: token },
        }),
      Date.now() + this.#deadlineMs,
    );
    if (!answer) return;
    if (answer.status !== 200) {
      this.record.unexpected.push(
        `refresh of ${session.sessionId}: ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      return;
    }
    this.record.acknowledged += 1;
    if (answer.body.refresh_token !== token) session.refreshTokens.push(answer.body.refresh_token);
    session.accessToken = answer.body.access_token;
  }

  /** The client's next operation, recorded as sent (over `via`, to `namespace`). */
  #sendOperation(client: Client, target: Pick<OperationRecord, 'namespace' | 'via'>): OperationRecord {
    const { clientOpId, operation } = nextOperation(client);
    const record: OperationRecord = { userId: client.main.userId, clientOpId, operation, ...target };
    this.record.operations.push(record);
    this.record.sent += 1;
    return record;
  }

  async #httpOperation(client: Client): Promise<void> {
    const record = this.#sendOperation(client, { namespace: 'cart', via: 'http' });
    const { clientOpId, operation } = record;
    const answer = await this.#balancer.send(
      (url) =>
        request<{ seq: number; status: string }>(url, 'POST', '/api/state/cart/ops', {
          token: client.main.accessToken,
          body: { client_op_id: clientOpId, ...operation },
        }),
      Date.now() + this.#deadlineMs,
    );
    if (!answer) return;
    if (answer.status !== 200) {
      this.record.unexpected.push(`op ${clientOpId}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return;
    }
    this.record.acknowledged += 1;
    record.ackedSeq = answer.body.seq;
  }

  /** One operation over the client's sync socket; a lost socket is reopened and the same op resent. */
  async #socketOperation(client: Client): Promise<void> {
    const record = this.#sendOperation(client, { namespace: 'live', via: 'socket' });
    const { clientOpId, operation } = record;
    const deadline = Date.now() + this.#deadlineMs;
    while (Date.now() < deadline) {
      const socket = await this.#openSocket(client);
      if (!socket) {
        await pause(100);
        continue;
      }
      socket.send({ type: 'apply', namespace: 'live', client_op_id: clientOpId, operation });
      const answer = await Promise.race([
        socket.next('ack', (message) => message.client_op_id === clientOpId, 10_000),
        socket.next('error', (message) => message.client_op_id === clientOpId, 10_000),
      ]).catch(() => undefined);
      if (answer?.type === 'ack') {
        this.record.acknowledged += 1;
        record.ackedSeq = answer.seq;
        return;
      }
      const key = answer ? `socket error ${answer.error}` : 'socket lost';
      this.record.answers.set(key, (this.record.answers.get(key) ?? 0) + 1);
      if (answer && answer.error !== 'storage_unavailable' && answer.error !== 'internal_error') {
        this.record.unexpected.push(`socket op ${clientOpId}: ${JSON.stringify(answer)}`);
        return;
      }
      // The socket may be fine (a storage error), but a fresh one costs little and is surer.
      socket.close();
      client.socket = undefined;
      await pause(100);
    }
  }

  async #openSocket(client: Client): Promise<SyncSocket | undefined> {
    const open = client.socket;
    if (open && open.socket.readyState === open.socket.OPEN) return open;
    const url = this.#balancer.pick();
    if (!url) return undefined;
    try {
      const socket = await openSync(url, { token: client.main.accessToken });
      await socket.next('ready', () => true, 5_000);
      client.socket = socket;
      return socket;
    } catch {
      return undefined;
    }
  }

  /** Signs in a spare session of the client's user, then ends it: a revoke from the main one, or its own logout. */
  async #endSpare(client: Client, round: number): Promise<void> {
    this.record.sent += 1;
    const spare = await this.#signIn(client.email);
    if (!spare) return;
    this.record.acknowledged += 1;
    const byRevoke = (round / this.#endEvery) % 2 === 1;
    this.record.sent += 1;
    const answer = await this.#balancer.send(
      (url) =>
        byRevoke
          ? request(url, 'POST', '/api/auth/session/revoke', {
              token: client.main.accessToken,
              body: { session_id: spare.sessionId },
            })
          : request(url, 'POST', '/api/auth/session/logout', { token: spare.accessToken }),
      Date.now() + this.#deadlineMs,
    );
    if (!answer) return;
    // A retried logout whose first attempt was kept finds the session ended: that is the same answer.
    const endedBefore =
      !byRevoke && answer.status === 401 && (answer.body as { error?: string }).error === 'session_revoked';
    if (answer.status !== 200 && !endedBefore) {
      this.record.unexpected.push(
        `${byRevoke ? 'revoke' : 'logout'} of ${spare.sessionId}: ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      return;
    }
    this.record.acknowledged += 1;
    spare.ended = byRevoke ? 'revoked' : 'logout';
  }
}
