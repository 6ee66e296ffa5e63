import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './helpers/api.js';
import { BACKEND_ENV, backendSession } from './helpers/backend.js';
import { decodeParts } from './helpers/forge.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Backend sessions meet the same devices, risk engine, audit log and webhooks as password ones. */
let server: TestServer;
let receiver: Server;
const hooks: Array<{ type: string; data: Record<string, unknown> }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  server = await startTestServer({
    env: {
      ...BACKEND_ENV,
      SESSIOND_WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      SESSIOND_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      // A sign-in from a new device (30 points) must step up.
      SESSIOND_RISK_THRESHOLD: '30',
    },
  });
});
afterAll(async () => {
  await server.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function waitForHook(type: string, sessionId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i += 1) {
    const hook = hooks.find((h) => h.type === type && h.data.session_id === sessionId);
    if (hook) return hook.data;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${type} webhook for ${sessionId}; got ${JSON.stringify(hooks.map((h) => h.type))}`);
}

describe('a backend session is a session like any other', () => {
  it('logs login (detail backend) and new_device_login, sends webhooks, and flags a suspicious one', async () => {
    const user = { external_id: `risk-${Date.now()}` };
    const desktop = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
    const first = await backendSession(server.url, { user, ip: '203.0.113.7', user_agent: desktop });
    expect(first.device.new).toBe(true);
    const logs = await request<{
      logs: Array<{ action: string; ip: string; detail: Record<string, unknown> | null }>;
    }>(server.url, 'GET', '/api/auth/session/logs', { token: first.access_token });
    const actions = logs.body.logs.map((log) => log.action);
    expect(actions).toContain('new_device_login');
    const login = logs.body.logs.find((log) => log.action === 'login');
    // The end user's address as the backend reported it, and who vouched for the user.
    expect(login).toMatchObject({ ip: '203.0.113.7', detail: { backend: 'app', provisioned: true } });
    expect(await waitForHook('device.new', first.session.id)).toMatchObject({ ip: '203.0.113.7' });
    expect(await waitForHook('session.created', first.session.id)).toBeDefined();

    // A new device scores 30, the threshold here: the first session must step up, like a password one.
    const status = await request<{ session: { step_up_required: boolean } }>(
      server.url,
      'GET',
      '/api/auth/session/status',
      {
        token: first.access_token,
      },
    );
    expect(status.body.session.step_up_required).toBe(true);
    expect(await waitForHook('session.step_up_required', first.session.id)).toMatchObject({ reason: 'risk' });
    // The same device again (id and secret, as a client keeps them): known, nothing to flag.
    const second = await backendSession(server.url, {
      user,
      ip: '203.0.113.7',
      user_agent: desktop,
      device: { id: first.device.id, secret: first.device.secret },
    });
    expect(second.device.new).toBe(false);
    const calm = await request<{ session: { step_up_required: boolean } }>(
      server.url,
      'GET',
      '/api/auth/session/status',
      {
        token: second.access_token,
      },
    );
    expect(calm.body.session.step_up_required).toBe(false);
    expect(decodeParts(second.access_token).payload.acr).toBe('aal1');
  });
});
