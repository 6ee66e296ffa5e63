#!/usr/bin/env node
// `npm run demo`: sessiond on SQLite in a temp dir, the live shop in front of it, seeded data,
// the URLs printed. Ctrl-C stops both and deletes the data. Works with no network: sessiond,
// the shop and its esbuild bundle are all local. `npm run demo -- --keep` keeps the data dir.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { freePort } from './lib/free-port.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEEP = process.argv.includes('--keep');
const PASSWORD = 'demo-password-1234';
const USERS = ['ada@example.com', 'grace@example.com', 'linus@example.com'];

// Demo-only credentials, printed below: never reuse them.
const adminKey = `demo_admin_${randomBytes(24).toString('base64url')}`;
const secret = randomBytes(32).toString('base64url');
const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-demo-'));
const sessiondPort = await freePort();
const shopPort = await freePort();
const sessiondURL = `http://127.0.0.1:${sessiondPort}`;
// The shop is opened as localhost: a passkey's relying-party id must be a domain, not an IP.
const shopOrigin = `http://localhost:${shopPort}`;

const sessiond = spawn(process.execPath, [join(ROOT, 'packages/server/dist/main.js'), 'start'], {
  env: {
    ...process.env,
    SESSIOND_HOST: '127.0.0.1',
    SESSIOND_PORT: String(sessiondPort),
    SESSIOND_DATA_DIR: dataDir,
    SESSIOND_SECRET: secret,
    SESSIOND_ADMIN_API_KEYS: adminKey,
    SESSIOND_CORS_ORIGINS: shopOrigin,
    SESSIOND_WEBAUTHN_RP_ID: 'localhost',
    SESSIOND_WEBAUTHN_ORIGINS: shopOrigin,
    // The shop's proxy passes the browser's address on; the seed below poses as several networks.
    SESSIOND_TRUST_PROXY: 'true',
    SESSIOND_LOG_LEVEL: process.env.SESSIOND_LOG_LEVEL ?? 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

let shop;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await shop?.close().catch(() => undefined);
  if (sessiond.exitCode === null) {
    const exited = new Promise((resolve) => sessiond.once('exit', resolve));
    sessiond.kill('SIGTERM');
    await exited;
  }
  if (KEEP) console.log(`\nstopped; data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
sessiond.once('exit', (code) => {
  if (!stopping) {
    console.error(`sessiond exited (${code}); stopping the demo`);
    void stop(1);
  }
});

async function waitReady() {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      if ((await fetch(`${sessiondURL}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('sessiond did not become ready in 20 s');
}

/** One JSON call to sessiond, posing as a browser on `ip` with `userAgent`. */
async function call(method, path, { body, token, ip = '203.0.113.24', userAgent } = {}) {
  const headers = { 'x-forwarded-for': ip };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (userAgent) headers['user-agent'] = userAgent;
  const response = await fetch(`${sessiondURL}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

// One /24 for every seeded device: with the browser's own network that makes two per account,
// below the risk engine's sign-in velocity signal (three networks), so the shop's sign-in from a
// new browser scores only new_device and needs no second factor.
const DEVICES = [
  {
    name: 'iPhone',
    platform: 'ios',
    ip: '203.0.113.24',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
  {
    name: 'Work laptop',
    platform: 'web',
    ip: '203.0.113.57',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  },
  {
    name: 'Home Mac',
    platform: 'web',
    ip: '203.0.113.81',
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  },
];

const CARTS = {
  'ada@example.com': [
    ['mug-sunrise', 2],
    ['candle-fig', 1],
  ],
  'grace@example.com': [['print-harbour', 1]],
  'linus@example.com': [],
};
const FOLLOWS = {
  'ada@example.com': ['maya'],
  'grace@example.com': ['leo', 'sana'],
  'linus@example.com': [],
};
const PRICES = { 'mug-sunrise': 1800, 'candle-fig': 2200, 'print-harbour': 3500 };
const NAMES = { 'mug-sunrise': 'Sunrise mug', 'candle-fig': 'Fig candle', 'print-harbour': 'Harbour print' };

async function stateOp(token, namespace, operation) {
  const answer = await call('POST', `/api/state/${namespace}/ops`, {
    token,
    body: { client_op_id: randomUUID(), ...operation },
  });
  if (answer.status !== 200) throw new Error(`seeding ${namespace} failed: ${JSON.stringify(answer.body)}`);
}

async function seed() {
  for (const [index, email] of USERS.entries()) {
    const signup = await call('POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    if (signup.status !== 201) throw new Error(`signup of ${email} failed: ${JSON.stringify(signup.body)}`);
    // Sessions on several devices: the dashboard lists them, the analytics count them.
    let token;
    for (const device of DEVICES.slice(0, 3 - (index % 2))) {
      const created = await call('POST', '/api/auth/session/create', {
        body: { email, password: PASSWORD, device: { name: device.name, platform: device.platform } },
        ip: device.ip,
        userAgent: device.userAgent,
      });
      if (created.status !== 200)
        throw new Error(`sign-in of ${email} failed: ${JSON.stringify(created.body)}`);
      token ??= created.body.access_token;
    }
    for (const [sku, qty] of CARTS[email]) {
      await stateOp(token, 'cart', { op: 'set', path: ['items', sku, 'name'], value: NAMES[sku] });
      await stateOp(token, 'cart', { op: 'set', path: ['items', sku, 'price'], value: PRICES[sku] });
      await stateOp(token, 'cart', { op: 'increment', path: ['items', sku, 'qty'], value: qty });
    }
    for (const creator of FOLLOWS[email])
      await stateOp(token, 'follows', { op: 'add', path: ['creators'], value: creator });
  }
  // Failed logins for the analytics, from addresses the demo's browser never uses, and below the
  // risk engine's threshold for the demo accounts (so signing in from the shop needs no second factor).
  const attempts = [
    ['grace@example.com', '203.0.113.99'],
    ['linus@example.com', '203.0.113.99'],
    ['nobody@example.com', '203.0.113.99'],
    ['admin@example.com', '203.0.113.99'],
    ['root@example.com', '198.51.100.200'],
    ['test@example.com', '198.51.100.200'],
  ];
  for (const [email, ip] of attempts) {
    await call('POST', '/api/auth/session/create', { body: { email, password: 'wrong-password-0000' }, ip });
  }
}

try {
  await waitReady();
  const { startShop } = await tsImport('../examples/live-shop/src/server/shop-server.ts', import.meta.url);
  shop = await startShop({ sessiondURL, port: shopPort });
  await seed();
  shop.live.start({ creator: 'maya', title: 'Glazing the new sunrise mugs' });
} catch (error) {
  console.error(`the demo could not start: ${error.message}`);
  await stop(1);
}

console.log(`
sessiond demo is running (data in ${dataDir}${KEEP ? ', kept' : ', deleted on exit'})

  Shop       ${shopOrigin}/?device=Phone     (open ${shopOrigin}/?device=Laptop in a private window: a second device)
  Dashboard  ${sessiondURL}/admin
  API        ${sessiondURL}   (admin API: ${sessiondURL}/api/admin/..., Authorization: Bearer <admin key>)

  Admin key  ${adminKey}
  Users      ${USERS.join(', ')}   password: ${PASSWORD}

Ctrl-C stops everything.`);
