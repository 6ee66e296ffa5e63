import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';

// Row 11's data: an audit log of a million rows (and the users, devices and sessions it speaks
// of), written straight into a sessiond data dir that `sessiond migrate` has just created, in
// one transaction through prepared statements. Seeded from a fixed PRNG, so every run measures
// the same data; only the times follow the wall clock (the log ends "now").

export const SEED = {
  logRows: 1_000_000,
  users: 10_000,
  sessions: 100_000,
  /** Sessions live at the end of the seeding (the last ones created). */
  liveSessions: 2_000,
  days: 90,
  ips: 20_000,
  /** A few IPs with far more sign-in attempts than the rest: what `suspicious-ips` is for. */
  hotIPs: 20,
} as const;

const DAY_MS = 86_400_000;

/** The mix of actions, as a busy deployment writes them: mostly refreshes. */
const ACTIONS: ReadonlyArray<[action: string, weight: number]> = [
  ['refresh', 70],
  ['login', 10],
  ['login_failed', 5],
  ['logout', 5],
  ['session_expired', 4],
  ['session_revoked', 2],
  ['new_device_login', 2],
  ['step_up_required', 1],
  ['step_up', 1],
];

const DEVICE_TYPES: ReadonlyArray<string | null> = ['desktop', 'desktop', 'mobile', 'mobile', 'tablet', null];
const END_REASONS: ReadonlyArray<[reason: string, weight: number]> = [
  ['idle_timeout', 60],
  ['logout', 25],
  ['revoked', 10],
  ['absolute_timeout', 5],
];

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T>(random: () => number, table: ReadonlyArray<[T, number]>): T {
  const total = table.reduce((sum, [, weight]) => sum + weight, 0);
  let pick = random() * total;
  for (const [value, weight] of table) {
    pick -= weight;
    if (pick < 0) return value;
  }
  return table[table.length - 1]![0];
}

export interface SeededData {
  /** The log's last row time; the log spans SEED.days before it. */
  now: number;
  /** A user with log rows, for the user filter. */
  sampleUserId: string;
  /** An ordinary IP and a hot one, for the IP filters. */
  sampleIP: string;
  hotIP: string;
  /** How long the seeding took, in ms. */
  seedMs: number;
}

/** Seeds the data dir's `sessiond.db` (schema already migrated). */
export function seedAdminData(dbFile: string, now: number): SeededData {
  const started = performance.now();
  const random = prng(0x5e55_10d);
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  // Seeding is not what is measured: one transaction, no fsync per row.
  db.pragma('synchronous = OFF');
  const start = now - SEED.days * DAY_MS;
  const userIds = Array.from({ length: SEED.users }, () => randomUUID());
  const ip = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const hotIP = (n: number): string => `203.0.113.${n + 1}`;
  const pickIP = (attempt: boolean): string =>
    attempt && random() < 0.1
      ? hotIP(Math.floor(random() * SEED.hotIPs))
      : ip(Math.floor(random() * SEED.ips) + 1);

  const insertUser = db.prepare(
    'insert into users (id, email, password_hash, created_at) values (?, ?, ?, ?)',
  );
  const insertDevice = db.prepare(
    `insert into devices (user_id, id, name, platform, browser, os, device_type, user_agent, trusted,
       trusted_at, first_seen_at, last_seen_at, last_ip)
     values (?, ?, null, null, null, null, ?, null, 0, null, ?, ?, ?)`,
  );
  const insertSession = db.prepare(
    `insert into sessions (id, user_id, device_id, client_id, acr, ip, user_agent, auth_time, created_at,
       last_activity_at, idle_timeout_ms, idle_expires_at, expires_at, ended_at, end_reason,
       step_up_required, refresh_count)
     values (?, ?, ?, 'default', 'aal1', ?, null, ?, ?, ?, 1800000, ?, ?, ?, ?, 0, 0)`,
  );
  const insertLog = db.prepare(
    `insert into session_logs (user_id, session_id, device_id, action, success, error, ip, user_agent,
       actor, detail, created_at)
     values (?, ?, ?, ?, ?, ?, ?, null, ?, null, ?)`,
  );

  db.transaction(() => {
    for (const [index, id] of userIds.entries()) {
      insertUser.run(id, `admin-bench-${index}@bench.test`, 'not-a-real-hash', start);
      const deviceType = DEVICE_TYPES[index % DEVICE_TYPES.length] ?? null;
      insertDevice.run(id, `device-${index}`, deviceType, start, now, ip(index + 1));
    }
    for (let i = 0; i < SEED.sessions; i++) {
      const userIndex = Math.floor(random() * SEED.users);
      const live = i >= SEED.sessions - SEED.liveSessions;
      // Ended sessions spread over the whole span; live ones began within the last 25 minutes.
      const createdAt = live
        ? now - Math.floor(random() * 25 * 60_000)
        : start + Math.floor((i / SEED.sessions) * (SEED.days * DAY_MS - DAY_MS));
      const lastActivity = createdAt + Math.floor(random() * 4 * 3_600_000);
      const reason = live ? null : weighted(random, END_REASONS);
      const idleExpires = live ? now + DAY_MS : lastActivity + 1_800_000;
      const expires = createdAt + 14 * DAY_MS;
      const endedAt =
        reason === null ? null : reason === 'idle_timeout' ? idleExpires + 30_000 : lastActivity;
      insertSession.run(
        randomUUID(),
        userIds[userIndex],
        `device-${userIndex}`,
        pickIP(false),
        createdAt,
        createdAt,
        live ? now : lastActivity,
        idleExpires,
        expires,
        endedAt,
        reason,
      );
    }
    const span = now - start;
    for (let i = 0; i < SEED.logRows; i++) {
      const action = weighted(random, ACTIONS);
      const userIndex = Math.floor(random() * SEED.users);
      const failed = action === 'login_failed';
      // A fifth of failed sign-ins name an email nobody registered: no user.
      const userId = failed && random() < 0.2 ? null : userIds[userIndex];
      const attempt = action === 'login' || failed;
      insertLog.run(
        userId,
        failed ? null : randomUUID(),
        failed ? null : `device-${userIndex}`,
        action,
        failed ? 0 : 1,
        failed ? 'invalid_credentials' : null,
        pickIP(attempt),
        action === 'session_revoked' ? 'user' : null,
        // In id order, as the server appends them.
        start + Math.floor((i / SEED.logRows) * span),
      );
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    now,
    sampleUserId: userIds[42]!,
    sampleIP: ip(4_242),
    hotIP: hotIP(0),
    seedMs: performance.now() - started,
  };
}

/** The indexes migration 0004 adds for the admin API; the baseline runs on a copy without them. */
export const ADMIN_LOG_INDEXES = [
  'session_logs_action_time_idx',
  'session_logs_ip_time_idx',
  'session_logs_time_idx',
] as const;

/** Drops the admin indexes from a copy of the database, for the full-scan baseline. */
export function dropAdminIndexes(dbFile: string): void {
  const db = new Database(dbFile);
  for (const index of ADMIN_LOG_INDEXES) db.exec(`drop index if exists ${index}`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
