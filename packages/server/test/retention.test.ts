import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { request, signIn, signUpAndIn } from './helpers/api.js';
import { outboxesDrained } from './helpers/outboxes.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 24 * 60 * 60 * 1000;

/** Short windows and tiny batches, so one sweep loops over several batches of each kind. */
const RETENTION = {
  SESSIOND_RETENTION_AUDIT_LOG_DAYS: '7',
  SESSIOND_RETENTION_ENDED_SESSIONS_DAYS: '1',
  SESSIOND_RETENTION_DEVICES_DAYS: '2',
  SESSIOND_STATE_OP_RETENTION_DAYS: '1',
  SESSIOND_RETENTION_BATCH_SIZE: '2',
};

/** What the database holds for a user: its log rows, sessions, their refresh tokens, devices. */
async function holdings(server: TestServer, userId: string) {
  const { db } = server.app.sessiond.database;
  const logs = await db.selectFrom('sessionLogs').select('id').where('userId', '=', userId).execute();
  const sessions = await db.selectFrom('sessions').select('id').where('userId', '=', userId).execute();
  const tokens = await db
    .selectFrom('refreshTokens')
    .innerJoin('sessions', 'sessions.id', 'refreshTokens.sessionId')
    .select('refreshTokens.id')
    .where('sessions.userId', '=', userId)
    .execute();
  const devices = await db.selectFrom('devices').select('id').where('userId', '=', userId).execute();
  return { logs: logs.length, sessions: sessions.length, tokens: tokens.length, devices: devices.length };
}

async function metric(server: TestServer, line: string): Promise<number | undefined> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('retention settings', () => {
  it('defaults to a year of audit log, a month of ended sessions, half a year of idle devices', () => {
    expect(loadConfig({}).retention).toEqual({
      auditLogDays: 365,
      endedSessionsDays: 30,
      devicesDays: 180,
      stateOperationsDays: 30,
      batchSize: 500,
    });
  });

  it('refuses an audit log window shorter than the longest risk window, and empty batches', () => {
    expect(() => loadConfig({ SESSIOND_RETENTION_AUDIT_LOG_DAYS: '6' })).toThrow(
      /SESSIOND_RETENTION_AUDIT_LOG_DAYS/,
    );
    expect(() => loadConfig({ SESSIOND_RETENTION_BATCH_SIZE: '0' })).toThrow(/SESSIOND_RETENTION_BATCH_SIZE/);
    expect(() => loadConfig({ SESSIOND_RETENTION_DEVICES_DAYS: 'soon' })).toThrow(
      /SESSIOND_RETENTION_DEVICES_DAYS/,
    );
  });
});

describe('retention in the sweeper (decision 034)', () => {
  let server: TestServer | undefined;
  let receiver: Server | undefined;
  afterEach(async () => {
    await server?.close();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    server = undefined;
    receiver = undefined;
  });

  it('deletes what is past its window in batches, keeps what is not, and reports it', async () => {
    server = await startTestServer({ env: RETENTION });
    const old = await signUpAndIn(server.url, { device: { id: 'old-laptop' } });
    const userId = old.session.user_id as string;
    const logout = await request(server.url, 'POST', '/api/auth/session/logout', { token: old.access_token });
    expect(logout.status).toBe(200);
    const before = await holdings(server, userId);
    expect(before).toMatchObject({ sessions: 1, tokens: 1, devices: 1 });
    expect(before.logs).toBeGreaterThanOrEqual(3);

    server.clock.advance(8 * DAY);
    // Signed in again after the windows: a new device, a live session, fresh log rows.
    await signIn(server.url, old.email, { device: { id: 'new-phone' } });
    const fresh = await holdings(server, userId);
    // The outboxes (Web Push's among them) deliver in the background; retention stops at the
    // slowest one's cursor, so let them pass the new sign-in's rows first.
    await outboxesDrained(server);
    await server.app.sessiond.sweeper.sweep();

    const after = await holdings(server, userId);
    expect(after).toEqual({
      logs: fresh.logs - before.logs,
      sessions: 1,
      tokens: 1,
      devices: 1,
    });
    const devices = await server.app.sessiond.store.listDevices(userId);
    expect(devices.map((device) => device.id)).toEqual(['new-phone']);

    expect(await metric(server, 'sessiond_retention_deleted_total{kind="audit_log"}')).toBe(before.logs);
    expect(await metric(server, 'sessiond_retention_deleted_total{kind="ended_sessions"}')).toBe(1);
    expect(await metric(server, 'sessiond_retention_deleted_total{kind="refresh_tokens"}')).toBe(1);
    expect(await metric(server, 'sessiond_retention_deleted_total{kind="devices"}')).toBe(1);
    expect(await metric(server, 'sessiond_retention_last_run_timestamp_seconds')).toBe(
      server.clock.now() / 1000,
    );
  });

  it('keeps audit rows and ended sessions a webhook endpoint has not been sent yet', async () => {
    // An endpoint that refuses everything: its cursor stays where it started.
    receiver = createServer((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    server = await startTestServer({
      env: {
        ...RETENTION,
        SESSIOND_WEBHOOK_URLS: `http://127.0.0.1:${port}/hooks`,
        SESSIOND_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      },
    });
    const user = await signUpAndIn(server.url, { device: { id: 'work-laptop' } });
    const userId = user.session.user_id as string;
    await request(server.url, 'POST', '/api/auth/session/logout', { token: user.access_token });
    const before = await holdings(server, userId);

    server.clock.advance(8 * DAY);
    await server.app.sessiond.sweeper.sweep();

    const after = await holdings(server, userId);
    expect(after.logs).toBe(before.logs);
    expect(after.sessions).toBe(1);
    expect(await metric(server, 'sessiond_retention_deleted_total{kind="audit_log"}')).toBe(0);
    // The device holds no outbox row: it goes.
    expect(after.devices).toBe(0);
  });
});
