// PEER (c) for row 2: the classic stateful stack, express 5 + express-session with the
// express-session-better-sqlite3 store on a better-sqlite3 database in WAL mode. The measured
// request is GET /session with the session cookie: one store read and one JSON answer.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import session from 'express-session';
import sqliteStore from 'express-session-better-sqlite3';
import { listenAndAnnounce } from './lib/listen.js';
import { readServerEnv } from './lib/server-env.js';

const env = readServerEnv();
if (env.dataDir === undefined) throw new Error('DATA_DIR is required');

const db = new Database(join(env.dataDir, 'express-session.sqlite'));
db.pragma('journal_mode = WAL');
const SQLiteStore = sqliteStore(session, db);

const app = express();
app.get('/healthz', (_req, res) => {
  res.status(200).send('ok');
});
app.use(
  session({
    store: new SQLiteStore(),
    secret: randomBytes(32).toString('hex'),
    name: 'sid',
    // The usual production settings: no write on unchanged reads, no empty sessions.
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false },
  }),
);
app.post('/login', (req, res) => {
  req.session.userId = randomUUID();
  res.json({ user: { id: req.session.userId } });
});
app.get('/session', (req, res) => {
  if (req.session.userId === undefined) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  res.json({ session: { id: req.sessionID, user_id: req.session.userId } });
});

await listenAndAnnounce(createServer(app), { name: 'express-session', port: env.port });
