import type { BenchConfig } from '../config.js';
import { mapWithLimit } from '../map-limit.js';
import { createSession, refreshSession, signUp, type Tokens } from '../targets/sessiond-api.js';
import { startSessiondChild } from '../targets/sessiond-child.js';

// Rows 9 and 10 run against a sessiond of their own, started after the other rows have stopped
// theirs: a fresh data dir, and limits raised for one IP and a few users doing a lot.

const PASSWORD = 'correct horse battery';
// Sign-ins run argon2id; a few at a time keeps them from timing out on one core.
const SETUP_CONCURRENCY = 4;
// Far above anything one run does, so no measured operation meets a limit. The per-second
// rate is at sessiond's maximum (100,000).
const RAISED_LIMIT = '1000000';
const OPS_PER_SECOND = '100000';

/** Users whose devices send and receive: two sessions each (a phone and a laptop, say). */
export const ACTIVE_USERS = 50;
/** Users whose sockets only stay open and subscribed: one session each, many sockets on it. */
export const IDLE_USERS = 50;

/** One signed-in device; refresh() replaces the tokens in place. */
export interface SyncSession {
  accessToken: string;
  refreshToken: string;
}

export interface SyncUser {
  /** The user's name for the bare ws server's groups. */
  name: string;
  sessions: SyncSession[];
}

/** The rows' users and their sessions, signed in through one node. */
export interface SyncUsers {
  /** ACTIVE_USERS users with two sessions each. */
  active: SyncUser[];
  /** IDLE_USERS users with one session each. */
  idle: SyncUser[];
  /** Refreshes every session: new sockets then present access tokens that cannot expire mid-row. */
  refreshAll(): Promise<void>;
}

export interface SyncNode extends SyncUsers {
  baseURL: string;
  stop(): Promise<void>;
}

function asSession(tokens: Tokens): SyncSession {
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

export async function startSyncSessiond(config: BenchConfig): Promise<SyncNode> {
  const server = await startSessiondChild(config, {
    name: 'sessiond (sync)',
    env: {
      // 100 sign-ups and 150 sign-ins from one IP: the defaults (20 an hour, 30 a minute) refuse them.
      SESSIOND_SIGNUP_LIMIT_PER_IP: RAISED_LIMIT,
      SESSIOND_LOGIN_LIMIT_PER_IP: RAISED_LIMIT,
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: RAISED_LIMIT,
      // Row 10 applies thousands of operations per second per user; the default is 20 (burst 200).
      SESSIOND_STATE_OPS_PER_SECOND: OPS_PER_SECOND,
      SESSIOND_STATE_OPS_BURST: RAISED_LIMIT,
    },
  });
  try {
    return { baseURL: server.baseURL, ...(await seedSyncUsers(server.baseURL)), stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Signs up ACTIVE_USERS + IDLE_USERS users on the sessiond at `baseURL` and signs in their
 * sessions (two per active user, one per idle user). Row 13 seeds its cluster through one node.
 */
export async function seedSyncUsers(baseURL: string): Promise<SyncUsers> {
  const newUser = async (name: string, sessions: number): Promise<SyncUser> => {
    const credentials = { email: `${name}@bench.test`, password: PASSWORD };
    await signUp(baseURL, credentials);
    const grants: SyncSession[] = [];
    for (let i = 0; i < sessions; i++) grants.push(asSession(await createSession(baseURL, credentials)));
    return { name, sessions: grants };
  };
  const users = (prefix: string, count: number, sessions: number): Promise<SyncUser[]> =>
    mapWithLimit(Array.from({ length: count }), SETUP_CONCURRENCY, (_, i) =>
      newUser(`${prefix}-${i + 1}`, sessions),
    );
  const active = await users('sync-active', ACTIVE_USERS, 2);
  const idle = await users('sync-idle', IDLE_USERS, 1);
  const allSessions = [...active, ...idle].flatMap((user) => user.sessions);
  return {
    active,
    idle,
    refreshAll: async () => {
      await mapWithLimit(allSessions, SETUP_CONCURRENCY, async (session) => {
        Object.assign(session, asSession(await refreshSession(baseURL, session.refreshToken)));
      });
    },
  };
}
