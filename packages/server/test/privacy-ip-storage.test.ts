import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TokenResponse } from '@sessiond/protocol';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPMinimiser } from '../src/privacy/ip-minimiser.js';
import { networkOf } from '../src/risk/signals.js';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/test-server.js';

// SESSIOND_IP_STORAGE (issue 17, decision 035): what lands in the database in each mode, and the
// risk engine's network signals still firing on the stored forms.

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const from = (ip: string) => ({ 'x-forwarded-for': ip, 'user-agent': CHROME });
const ENV = {
  // Tests choose each request's IP with X-Forwarded-For.
  SESSIOND_TRUST_PROXY: 'true',
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: '1000',
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '1000',
  SESSIOND_LOGIN_LIMIT_PER_IP: '1000',
};

type Grant = TokenResponse & { email: string };

/** Reads rows straight from the server's SQLite file: what is really stored. */
function rows<T>(server: TestServer, query: string, ...params: unknown[]): T[] {
  const db = new SQLite(join(server.dataDir, 'sessiond.db'), { readonly: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

async function signUp(server: TestServer, ip: string): Promise<string> {
  const email = uniqueEmail();
  const answer = await request(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
    headers: from(ip),
  });
  expect(answer.status).toBe(201);
  return email;
}

/** Device secrets, kept as a real client keeps them: a device is its id and its secret. */
const deviceSecrets = new Map<string, string>();

async function signIn(server: TestServer, email: string, ip: string, device?: string): Promise<Grant> {
  const secret = device && deviceSecrets.get(`${email} ${device}`);
  const answer = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
    body: {
      email,
      password: PASSWORD,
      ...(device ? { device: { id: device, ...(secret ? { secret } : {}) } } : {}),
    },
    headers: from(ip),
  });
  expect(answer.status).toBe(200);
  if (answer.body.device.secret)
    deviceSecrets.set(`${email} ${answer.body.device.id}`, answer.body.device.secret);
  return { ...answer.body, email };
}

async function failSignIn(server: TestServer, email: string, ip: string): Promise<void> {
  const answer = await request(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: 'not the password at all' },
    headers: from(ip),
  });
  expect(answer.status).toBe(401);
}

async function refresh(server: TestServer, grant: Grant, ip: string): Promise<Grant> {
  const answer = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
    body: { refresh_token: grant.refresh_token },
    headers: from(ip),
  });
  expect(answer.status).toBe(200);
  return { ...grant, ...answer.body };
}

/** The signals of the newest log row with `action` for this grant's user. */
async function signalsOf(server: TestServer, grant: Grant, action: string): Promise<string[]> {
  const logs = await request<{
    logs: Array<{ action: string; detail: { risk?: { signals: Array<{ signal: string }> } } }>;
  }>(server.url, 'GET', '/api/auth/session/logs?limit=50', { token: grant.access_token });
  const row = logs.body.logs.find((l) => l.action === action);
  return row?.detail.risk?.signals.map((s) => s.signal) ?? [];
}

/** Every IP the database holds for a user: sessions, devices and audit log rows. */
function storedIPs(server: TestServer, userId: string) {
  return {
    sessions: rows<{ ip: string }>(server, 'SELECT ip FROM sessions WHERE user_id = ?', userId).map(
      (r) => r.ip,
    ),
    devices: rows<{ last_ip: string }>(server, 'SELECT last_ip FROM devices WHERE user_id = ?', userId).map(
      (r) => r.last_ip,
    ),
    logs: rows<{ ip: string }>(server, 'SELECT ip FROM session_logs WHERE user_id = ?', userId).map(
      (r) => r.ip,
    ),
  };
}

/** Collects the server's JSON log lines. */
function logSink(): { stream: Writable; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('') };
}

describe('SESSIOND_IP_STORAGE=full (the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: ENV });
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores the address as the proxy gave it, everywhere', async () => {
    const email = await signUp(server, '203.0.113.7');
    await failSignIn(server, email, '203.0.113.7');
    const grant = await signIn(server, email, '203.0.113.7');
    const stored = storedIPs(server, grant.session.user_id);
    expect(new Set([...stored.sessions, ...stored.devices, ...stored.logs])).toEqual(
      new Set(['203.0.113.7']),
    );
  });
});

describe('SESSIOND_IP_STORAGE=truncated', () => {
  let server: TestServer;
  const log = logSink();
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...ENV, SESSIOND_IP_STORAGE: 'truncated', SESSIOND_LOG_LEVEL: 'info' },
      logDestination: log.stream,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('keeps only the /24 or /48: in sessions, devices, the audit log, the log lines, the whole file', async () => {
    const email = await signUp(server, '203.0.113.7');
    await failSignIn(server, email, '203.0.113.7');
    const grant = await signIn(server, email, '203.0.113.7');
    await refresh(server, grant, '2001:DB8:ab:12::9');
    const stored = storedIPs(server, grant.session.user_id);
    expect(stored.devices).toEqual(['203.0.113.0/24']);
    // The refresh moved the session's last IP to the IPv6 network.
    expect(stored.sessions).toEqual(['2001:db8:ab::/48']);
    expect(new Set(stored.logs)).toEqual(new Set(['203.0.113.0/24', '2001:db8:ab::/48']));
    const everything = await server.storedText();
    expect(everything).not.toContain('203.0.113.7');
    expect(everything.toLowerCase()).not.toContain('2001:db8:ab:12::9');
    expect(log.lines()).toContain('"remoteAddress":"203.0.113.0/24"');
    expect(log.lines()).not.toContain('203.0.113.7');
  });

  it('still sees a network change on refresh, and not a new address in the same network', async () => {
    const grant = await signIn(server, await signUp(server, '203.0.113.20'), '203.0.113.20');
    const same = await refresh(server, grant, '203.0.113.99');
    expect(await signalsOf(server, same, 'risk_assessed')).toEqual([]);
    const moved = await refresh(server, same, '192.0.2.50');
    expect(await signalsOf(server, moved, 'risk_assessed')).toEqual(['ip_network_changed']);
  });

  it('counts sign-in velocity across networks and failed logins from the network', async () => {
    const fast = await signUp(server, '203.0.113.40');
    const device = (await signIn(server, fast, '203.0.113.40')).device.id;
    await signIn(server, fast, '198.51.100.40', device);
    const third = await signIn(server, fast, '192.0.2.40', device);
    expect(await signalsOf(server, third, 'login')).toEqual(['signin_velocity']);

    // Five failures from addresses of one /24: a network is all that is kept, so they add up.
    for (let i = 0; i < 5; i += 1) await failSignIn(server, uniqueEmail(), `198.51.100.${100 + i}`);
    const next = await signIn(server, await signUp(server, '198.51.100.200'), '198.51.100.200');
    expect(await signalsOf(server, next, 'login')).toEqual(['new_device', 'failed_logins_ip']);
  });
});

describe('SESSIOND_IP_STORAGE=hashed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...ENV, SESSIOND_IP_STORAGE: 'hashed' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('keeps h:<network>:<address>, equal for equal networks, and never the address', async () => {
    const email = await signUp(server, '203.0.113.7');
    await failSignIn(server, email, '203.0.113.7');
    const grant = await signIn(server, email, '203.0.113.7');
    const neighbour = await signIn(server, email, '203.0.113.8');
    const stored = storedIPs(server, grant.session.user_id);
    const all = new Set([...stored.sessions, ...stored.devices, ...stored.logs]);
    expect(all.size).toBe(2);
    for (const value of all) expect(value).toMatch(/^h:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{22}$/);
    const [first, second] = rows<{ ip: string }>(
      server,
      'SELECT ip FROM sessions WHERE id IN (?, ?) ORDER BY created_at, id',
      grant.session.id,
      neighbour.session.id,
    ).map((r) => r.ip);
    expect(first).not.toBe(second);
    expect(networkOf(first ?? null)).toBe(networkOf(second ?? null));
    expect(await server.storedText()).not.toContain('203.0.113.');
  });

  it('still sees a network change on refresh, sign-in velocity and failed logins from one IP', async () => {
    const grant = await signIn(server, await signUp(server, '203.0.113.20'), '203.0.113.20');
    const same = await refresh(server, grant, '203.0.113.99');
    expect(await signalsOf(server, same, 'risk_assessed')).toEqual([]);
    const moved = await refresh(server, same, '192.0.2.50');
    expect(await signalsOf(server, moved, 'risk_assessed')).toEqual(['ip_network_changed']);

    const fast = await signUp(server, '203.0.113.40');
    const device = (await signIn(server, fast, '203.0.113.40')).device.id;
    await signIn(server, fast, '198.51.100.40', device);
    const third = await signIn(server, fast, '192.0.2.40', device);
    expect(await signalsOf(server, third, 'login')).toEqual(['signin_velocity']);

    for (let i = 0; i < 5; i += 1) await failSignIn(server, uniqueEmail(), '198.51.100.77');
    const next = await signIn(server, await signUp(server, '198.51.100.77'), '198.51.100.77');
    expect(await signalsOf(server, next, 'login')).toEqual(['new_device', 'failed_logins_ip']);
    // Another address of that network has its own count: the hash keeps addresses apart.
    const neighbour = await signIn(server, await signUp(server, '198.51.100.78'), '198.51.100.78');
    expect(await signalsOf(server, neighbour, 'login')).toEqual(['new_device']);
  });

  it('hashes under the master secret: another secret stores other values for the same address', async () => {
    const other = await startTestServer({
      env: { ...ENV, SESSIOND_IP_STORAGE: 'hashed', SESSIOND_SECRET: `${TEST_SECRET}-other` },
    });
    try {
      const here = await signIn(server, await signUp(server, '192.0.2.123'), '192.0.2.123');
      const there = await signIn(other, await signUp(other, '192.0.2.123'), '192.0.2.123');
      const [mine] = storedIPs(server, here.session.user_id).sessions;
      const [theirs] = storedIPs(other, there.session.user_id).sessions;
      expect(mine).toMatch(/^h:/);
      expect(theirs).toMatch(/^h:/);
      expect(networkOf(mine ?? null)).not.toBe(networkOf(theirs ?? null));
      expect(mine).not.toBe(theirs);
      // The same secret gives the same value: what makes the stored forms comparable at all.
      expect(new IPMinimiser('hashed', TEST_SECRET).minimise('192.0.2.123')).toBe(mine);
    } finally {
      await other.close();
    }
  });
});

describe('IPMinimiser', () => {
  it('spells one address one way, and refuses what is not an IP', () => {
    const truncated = new IPMinimiser('truncated', TEST_SECRET);
    expect(truncated.minimise('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
    expect(truncated.minimise('2001:0DB8:0000:1::1')).toBe('2001:db8:0::/48');
    expect(truncated.minimise('not-an-ip')).toBe('unknown');
    const hashed = new IPMinimiser('hashed', TEST_SECRET);
    expect(hashed.minimise('2001:db8::1')).toBe(hashed.minimise('2001:DB8:0:0::0001'));
    expect(hashed.minimise('::ffff:198.51.100.9')).toBe(hashed.minimise('198.51.100.9'));
    expect(hashed.minimise('john@example.com')).toBe('unknown');
    expect(new IPMinimiser('full', TEST_SECRET).minimise('198.51.100.9')).toBe('198.51.100.9');
  });
});
