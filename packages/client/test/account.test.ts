import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { demandStepUp, letPasswordCountAgain } from '../../server/test/helpers/step-up.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { SessionClientError } from '../src/errors.js';
import { createSessionClient, type SessionClient } from '../src/session-client.js';

let server: TestServer;
const clients: SessionClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function twoDevices(): Promise<{ laptop: SessionClient; phone: SessionClient }> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const laptop = createSessionClient({ baseUrl: server.url });
  const phone = createSessionClient({ baseUrl: server.url });
  clients.push(laptop, phone);
  await laptop.signIn({ email, password: PASSWORD, device: { name: 'Laptop' } });
  await phone.signIn({ email, password: PASSWORD, device: { name: 'Phone' } });
  return { laptop, phone };
}

describe('client.sessions', () => {
  it('lists both devices’ sessions, marking this one, and revokes the other on the server', async () => {
    const { laptop, phone } = await twoDevices();
    const listed = await laptop.sessions.list();
    expect(listed.map((s) => [s.device?.name, s.current]).sort()).toEqual([
      ['Laptop', true],
      ['Phone', false],
    ]);
    const phoneId = phone.state.get().session!.id;
    expect(await laptop.sessions.revoke(phoneId)).toBe(true);
    expect(await laptop.sessions.revoke(phoneId)).toBe(false);
    await expect(phone.refresh()).rejects.toMatchObject({ code: 'session_revoked' });
    expect((await laptop.sessions.list()).map((s) => s.current)).toEqual([true]);
  });

  it('revokeOthers ends every other session and keeps this one', async () => {
    const { laptop, phone } = await twoDevices();
    expect(await laptop.sessions.revokeOthers()).toBe(1);
    expect(laptop.state.get().status).toBe('authenticated');
    await expect(phone.refresh()).rejects.toMatchObject({ code: 'session_revoked' });
  });
});

describe('client.devices', () => {
  it('lists the devices, trusts and untrusts this one, and forgets the other', async () => {
    const { laptop, phone } = await twoDevices();
    const laptopDevice = laptop.state.get().device!.id;
    const devices = await laptop.devices.list();
    expect(devices.map((d) => [d.name, d.current, d.trusted]).sort()).toEqual([
      ['Laptop', true, false],
      ['Phone', false, false],
    ]);
    expect((await laptop.devices.trust(laptopDevice)).trusted).toBe(true);
    expect((await laptop.devices.list()).find((d) => d.current)?.trusted).toBe(true);
    expect((await laptop.devices.trust(laptopDevice, { trusted: false })).trusted).toBe(false);
    await laptop.devices.forget(phone.state.get().device!.id);
    expect((await laptop.devices.list()).map((d) => d.name)).toEqual(['Laptop']);
    await expect(phone.refresh()).rejects.toBeInstanceOf(SessionClientError);
  });
});

describe('client.stepUpFactors', () => {
  it('names the password only once the sign-in is old enough, as the server decides', async () => {
    const { laptop } = await twoDevices();
    await demandStepUp(server, laptop.state.get().session!.id);
    expect(await laptop.stepUpFactors()).toEqual([]);
    letPasswordCountAgain(server);
    expect(await laptop.stepUpFactors()).toEqual(['password']);
  });

  it('a sensitive call refused for step-up moves the state to step_up_required', async () => {
    const { laptop, phone } = await twoDevices();
    await demandStepUp(server, laptop.state.get().session!.id);
    await expect(laptop.sessions.revoke(phone.state.get().session!.id)).rejects.toMatchObject({
      code: 'step_up_required',
    });
    expect(laptop.state.get().status).toBe('step_up_required');
  });
});
