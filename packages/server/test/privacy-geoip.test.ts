import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ActiveSession, AdminSession, Device, TokenResponse } from '@sessiond/protocol';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// SESSIOND_GEOIP (issue 17, decision 035): country and city from geoip-lite's bundled data, looked
// up from the full IP behind a trusted proxy, stored and shown instead of the IP.

const ADMIN_KEY = `sk_admin_${'G'.repeat(43)}`;
const geoipLoaded = (): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/geoip-lite/'));

/** A password sign-in, from `ip` as the trusted proxy says, or from loopback. */
async function signIn(server: TestServer, email: string, ip?: string): Promise<TokenResponse> {
  const answer = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: PASSWORD },
    headers: ip ? { 'x-forwarded-for': ip } : {},
  });
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('SESSIOND_GEOIP=true', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        SESSIOND_GEOIP: 'true',
        SESSIOND_TRUST_PROXY: 'true',
        SESSIOND_IP_STORAGE: 'hashed',
        SESSIOND_ADMIN_API_KEYS: ADMIN_KEY,
      },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores country and city on the session and the device, and shows them in the session, device and admin views', async () => {
    const email = uniqueEmail();
    expect(
      (await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const british = await signIn(server, email, '81.2.69.160');
    const american = await signIn(server, email, '8.8.8.8');
    const local = await signIn(server, email);
    expect(geoipLoaded()).toBe(true);

    const active = await request<{ sessions: ActiveSession[] }>(
      server.url,
      'GET',
      '/api/auth/session/active',
      {
        token: british.access_token,
      },
    );
    expect(active.status).toBe(200);
    const where = (id: string) => active.body.sessions.find((s) => s.id === id)?.location;
    expect(where(british.session.id)).toEqual({ country: 'GB', city: expect.any(String) });
    expect(where(american.session.id)).toMatchObject({ country: 'US' });
    // Loopback is in no table.
    expect(where(local.session.id)).toBeNull();

    const devices = await request<{ devices: Device[] }>(server.url, 'GET', '/api/auth/devices', {
      token: british.access_token,
    });
    const device = devices.body.devices.find((d) => d.id === british.device.id);
    expect(device?.location).toMatchObject({ country: 'GB' });
    expect(device?.last_ip).toMatch(/^h:/);

    const admin = await request<{ sessions: AdminSession[] }>(
      server.url,
      'GET',
      `/api/admin/users/${british.session.user_id}/sessions`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    expect(admin.status).toBe(200);
    expect(admin.body.sessions.find((s) => s.id === american.session.id)?.location).toMatchObject({
      country: 'US',
    });

    // What the database holds: the location as JSON, the IP only hashed.
    const db = new SQLite(join(server.dataDir, 'sessiond.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT ip, location FROM sessions WHERE id = ?').get(british.session.id) as {
        ip: string;
        location: string;
      };
      expect(JSON.parse(row.location)).toMatchObject({ country: 'GB' });
      expect(row.ip).toMatch(/^h:/);
    } finally {
      db.close();
    }
    const stored = await server.storedText();
    expect(stored).not.toContain('81.2.69.160');
    expect(stored).not.toContain('8.8.8.8');
  });
});
