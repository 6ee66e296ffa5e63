import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, refresh, request, signUpAndIn } from './helpers/api.js';
import { demandStepUp } from './helpers/step-up.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** One sample of the Prometheus text format, 0 when absent. */
async function sample(name: string, labels = ''): Promise<number> {
  const response = await fetch(new URL('/metrics', server.url));
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('GET /metrics', () => {
  it('moves when things happen', async () => {
    const before = {
      logins: await sample('sessiond_logins_total', '{outcome="success"}'),
      failures: await sample('sessiond_logins_total', '{outcome="failure"}'),
      refreshes: await sample('sessiond_refreshes_total', '{outcome="success"}'),
      rejected: await sample('sessiond_refreshes_total', '{outcome="rejected"}'),
      reuses: await sample('sessiond_refresh_token_reuse_total'),
      revoked: await sample('sessiond_revocations_total', '{reason="logout"}'),
      stepUps: await sample('sessiond_step_ups_total', '{event="required"}'),
      active: await sample('sessiond_active_sessions'),
      sockets: await sample('sessiond_websocket_connections'),
    };
    const grant = await signUpAndIn(server.url);
    await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email: grant.email, password: `${PASSWORD}!` },
    });
    const next = await refresh(server.url, grant.refresh_token);
    expect(next.status).toBe(200);
    server.clock.advance(60_000);
    expect((await refresh(server.url, grant.refresh_token)).status).toBe(401);
    const other = await signUpAndIn(server.url);
    await demandStepUp(server, other.session.id);
    const socket = await openSync(server.url, { token: other.access_token });
    await socket.next('ready');
    expect(await sample('sessiond_websocket_connections')).toBe(before.sockets + 1);
    expect(await sample('sessiond_active_sessions')).toBe(before.active + 1);
    await request(server.url, 'POST', '/api/auth/session/logout', { token: other.access_token });
    await socket.closed;

    expect(await sample('sessiond_logins_total', '{outcome="success"}')).toBe(before.logins + 2);
    expect(await sample('sessiond_logins_total', '{outcome="failure"}')).toBe(before.failures + 1);
    expect(await sample('sessiond_refreshes_total', '{outcome="success"}')).toBe(before.refreshes + 1);
    expect(await sample('sessiond_refreshes_total', '{outcome="rejected"}')).toBe(before.rejected + 1);
    expect(await sample('sessiond_refresh_token_reuse_total')).toBe(before.reuses + 1);
    expect(await sample('sessiond_revocations_total', '{reason="logout"}')).toBe(before.revoked + 1);
    expect(await sample('sessiond_step_ups_total', '{event="required"}')).toBe(before.stepUps + 1);
    expect(await sample('sessiond_active_sessions')).toBe(before.active);
    expect(await sample('sessiond_websocket_connections')).toBe(before.sockets);
    expect(
      await sample('sessiond_refresh_duration_seconds_count', '{outcome="success"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(await sample('sessiond_webhook_backlog')).toBe(0);
  });
});
