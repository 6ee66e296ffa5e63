import type { ServerResponse } from 'node:http';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { SessionStore } from '../store/session-store.js';

const HEARTBEAT_MS = 15_000;
const PAGE = 1_000;
const RESUME_MARGIN_MS = 5_000;

interface Revocation {
  sessionId: string;
  userId: string | null;
  reason: string | null;
  endedAt: number;
}

/**
 * `GET /api/revocations/stream`: server-sent events of ended sessions for resource servers.
 * A subscriber first gets every session that ended since its `Last-Event-ID` (or, when new,
 * since one access-token lifetime ago: older revocations have no live tokens left; a resume
 * starts a few seconds early, see #replay), then
 * `ready`, then each revocation as it is published. Event ids are end times in ms, so a
 * resumed subscriber may see an event twice but never misses one; the set it keeps is
 * idempotent. Listening starts before the backlog is read, so nothing falls in between.
 */
export class RevocationStream {
  readonly #subscribers = new Set<ServerResponse>();

  constructor(
    private readonly store: SessionStore,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly accessTokenTTLMs: number,
  ) {}

  async serve(response: ServerResponse, lastEventId: string | undefined): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 1000\n\n');
    let pending: string[] | undefined = [];
    const send = (revocation: Revocation) => {
      const frame = this.#frame(revocation);
      if (pending) pending.push(frame);
      else response.write(frame);
    };
    const unsubscribe = [
      this.bus.subscribe('session.revoked', (event) => send(fromEvent(event))),
      this.bus.subscribe('session.expired', (event) => send(fromEvent(event))),
    ];
    const heartbeat = setInterval(() => response.write(': ping\n\n'), HEARTBEAT_MS);
    this.#subscribers.add(response);
    response.once('close', () => {
      for (const stop of unsubscribe) stop();
      clearInterval(heartbeat);
      this.#subscribers.delete(response);
    });

    try {
      await this.#replay(response, lastEventId);
    } catch (error) {
      // Never leave a subscriber connected but not ready: it would wait forever. Dropping the
      // connection makes it reconnect and replay again.
      response.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const frame of pending) response.write(frame);
    pending = undefined;
    response.write('event: ready\ndata: {}\n\n');
  }

  async #replay(response: ServerResponse, lastEventId: string | undefined): Promise<void> {
    const oldestUseful = this.clock.now() - this.accessTokenTTLMs;
    // Ids are end times taken just before commit, and events leave in commit order, so a later
    // id can be published before an earlier one. Resuming a little before the last id catches
    // those; replay is idempotent for the subscriber.
    const resumeFrom = Number(lastEventId) - RESUME_MARGIN_MS;
    const since = Number.isSafeInteger(resumeFrom) && resumeFrom > oldestUseful ? resumeFrom : oldestUseful;
    let after: { endedAt: number; id: string } | undefined;
    for (;;) {
      const ended = await this.store.listEndedSessionsSince(since, PAGE, after);
      for (const session of ended) {
        response.write(
          this.#frame({
            sessionId: session.id,
            userId: session.userId,
            reason: session.endReason,
            endedAt: session.endedAt!,
          }),
        );
      }
      const last = ended.at(-1);
      if (ended.length < PAGE || !last) return;
      after = { endedAt: last.endedAt!, id: last.id };
    }
  }

  /** Ends every open stream (server shutdown); subscribers reconnect elsewhere or later. */
  closeAll(): void {
    for (const response of this.#subscribers) response.end();
  }

  #frame(revocation: Revocation): string {
    const data = JSON.stringify({
      session_id: revocation.sessionId,
      user_id: revocation.userId,
      reason: revocation.reason,
      ended_at: new Date(revocation.endedAt).toISOString(),
      // Tokens are issued only to live sessions, so none outlives the end by more than a lifetime.
      access_valid_until: new Date(revocation.endedAt + this.accessTokenTTLMs).toISOString(),
    });
    return `id: ${revocation.endedAt}\nevent: revoked\ndata: ${data}\n\n`;
  }
}

function fromEvent(event: {
  session_id: string | null;
  user_id: string | null;
  at: string;
  reason: string;
}): Revocation {
  return {
    sessionId: event.session_id ?? '',
    userId: event.user_id,
    reason: event.reason,
    endedAt: Date.parse(event.at),
  };
}
