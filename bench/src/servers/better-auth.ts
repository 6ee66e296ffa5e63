// PEER (b) for row 2: Better Auth on its SQLite default (better-sqlite3, default journal
// mode, no cookie cache, no secondary storage), email and password enabled, mounted with its
// own node:http adapter. The measured request is GET /api/auth/get-session with the session
// cookie that sign-in set: one database lookup of the session and its user per request.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type BetterAuthOptions, betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import Database from 'better-sqlite3';
import { answerHealth } from './lib/health.js';
import { listenAndAnnounce } from './lib/listen.js';
import { readServerEnv } from './lib/server-env.js';

const env = readServerEnv();
if (env.dataDir === undefined) throw new Error('DATA_DIR is required');

const options = {
  database: new Database(join(env.dataDir, 'better-auth.sqlite')),
  baseURL: `http://127.0.0.1:${env.port}`,
  secret: randomBytes(32).toString('hex'),
  emailAndPassword: { enabled: true },
  // Off for the same reason sessiond's login limits are raised: 50 connections from one IP.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: 'error' },
} satisfies BetterAuthOptions;

// Better Auth's own migration planner creates its tables (user, session, account, verification).
const { runMigrations } = await getMigrations(options);
await runMigrations();

const handleAuth = toNodeHandler(betterAuth(options));
const server = createServer((req, res) => {
  if (answerHealth(req, res)) return;
  void handleAuth(req, res);
});

await listenAndAnnounce(server, { name: 'better-auth', port: env.port });
