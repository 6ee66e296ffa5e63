import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { SecretBox } from '../src/lib/crypto.js';
import { request, signIn, signUpAndIn } from './helpers/api.js';
import { decodeParts, signWith } from './helpers/forge.js';
import { suiteOnPostgres } from './helpers/postgres.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/test-server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

type JWKS = { keys: Array<{ kid: string; kty: string; alg: string; use: string; d?: string }> };
const jwks = async () => (await request<JWKS>(server.url, 'GET', '/.well-known/jwks.json')).body;
const status = (token: string) => request(server.url, 'GET', '/api/auth/session/status', { token });

describe('signing keys', () => {
  it('publishes only public RS256 keys', async () => {
    const { keys } = await jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]!.d).toBeUndefined();
  });

  it('keeps private keys encrypted at rest', async () => {
    const bytes = await server.storedText();
    expect(bytes).toContain('v1.');
    expect(bytes).not.toContain('PRIVATE KEY');
    expect(bytes).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  });

  it('rotation: new tokens use the new key, old tokens stay valid until the old key’s tokens expire', async () => {
    const before = await signUpAndIn(server.url);
    const oldKid = decodeParts(before.access_token).header.kid;
    server.clock.advance(60_000);
    const newKid = await server.app.sessiond.keys.rotate();
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    const after = await signIn(server.url, before.email);
    expect(decodeParts(after.access_token).header.kid).toBe(newKid);
    expect((await status(before.access_token)).status).toBe(200);
    // A server may sign with the retired key until its next reload (the sweep interval, 60 s),
    // so the key stays published one token lifetime plus that interval, and not longer.
    server.clock.advance(15 * 60_000 + 59_000);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    server.clock.advance(1_000);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('`sessiond keys rotate` on the data dir is picked up by the running server', async () => {
    const env = { ...process.env, ...server.cliEnv, SESSIOND_LOG_LEVEL: 'silent' };
    const rotated = await run(process.execPath, [MAIN, 'keys', 'rotate'], { env });
    const kid = /new signing key ([0-9a-f-]{36})/.exec(rotated.stdout)?.[1];
    expect(kid).toBeDefined();
    const listed = await run(process.execPath, [MAIN, 'keys', 'list'], { env });
    expect(listed.stdout).toContain(`${kid}`);
    expect(listed.stdout).toMatch(/signing/);
    await server.app.sessiond.sweeper.sweep();
    const grant = await signUpAndIn(server.url);
    expect(decodeParts(grant.access_token).header.kid).toBe(kid);
    expect((await jwks()).keys.map((k) => k.kid)).toContain(kid);
  });

  it('tokens of a key another node just added are accepted at once, however many arrive together', async () => {
    // Reading the keys takes a while here, so the requests surely arrive while the reload runs.
    let slowKeyReads = false;
    const slow = await startTestServer({
      wrapStore: (real) =>
        new Proxy(real, {
          get(target, key) {
            const value = Reflect.get(target, key, target);
            if (key === 'listSigningKeys' && slowKeyReads) {
              return async () => {
                await new Promise((resolve) => setTimeout(resolve, 300));
                return target.listSigningKeys();
              };
            }
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    onTestFinished(() => slow.close());
    const grant = await signUpAndIn(slow.url);
    // Another node rotates: its key is in the shared store, and this server has not loaded it.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomUUID();
    await slow.app.sessiond.store.addSigningKey({
      kid,
      alg: 'RS256',
      publicJWK: JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }),
      privateKeySealed: new SecretBox(TEST_SECRET, 'signing-keys').seal(
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
      createdAt: slow.clock.now(),
      retiredAt: null,
    });
    const { header, payload } = decodeParts(grant.access_token);
    const token = signWith(privateKey, { ...header, kid }, payload);
    const statusOn = (bearer: string) =>
      request(slow.url, 'GET', '/api/auth/session/status', { token: bearer });
    // Its clients arrive together: one reload serves them all, none is refused meanwhile.
    slowKeyReads = true;
    const answers = await Promise.all(Array.from({ length: 8 }, () => statusOn(token)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    // A kid no node ever made is still refused.
    const forged = signWith(privateKey, { ...header, kid: randomUUID() }, payload);
    expect((await statusOn(forged)).status).toBe(401);
  });

  it('refuses to start with a master secret other than the one that sealed the keys', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-secret-'));
    const configWith = (secret: string) =>
      loadConfig({ SESSIOND_DATA_DIR: dataDir, SESSIOND_SECRET: secret, SESSIOND_LOG_LEVEL: 'silent' });
    try {
      await (await buildApp({ config: configWith(TEST_SECRET) })).close();
      await expect(
        buildApp({ config: configWith('a-different-secret-0123456789abcdefghijkl') }),
      ).rejects.toThrow(/SESSIOND_SECRET is not the secret the keys were sealed with/);
      // The failed start released the data dir: the right secret starts again.
      await (await buildApp({ config: configWith(TEST_SECRET) })).close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  if (!suiteOnPostgres())
    it('refuses a second server on the same data dir, in this process or another', async () => {
      const config = loadConfig({
        SESSIOND_DATA_DIR: server.dataDir,
        SESSIOND_SECRET: TEST_SECRET,
        SESSIOND_LOG_LEVEL: 'silent',
      });
      await expect(buildApp({ config })).rejects.toThrow(/in use by another sessiond/);
      const env = {
        ...process.env,
        SESSIOND_DATA_DIR: server.dataDir,
        SESSIOND_SECRET: TEST_SECRET,
        SESSIOND_PORT: '0',
      };
      const failure = await run(process.execPath, [MAIN, 'start'], { env }).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure).toMatchObject({ code: 1 });
      expect((failure as { stderr: string }).stderr).toContain(
        `is in use by another sessiond (pid ${process.pid})`,
      );
    });
  else
    it('lets a second server share the PostgreSQL database and its keys', async () => {
      const config = loadConfig({
        ...server.cliEnv,
        SESSIOND_ISSUER: 'http://sessiond.test',
        SESSIOND_LOG_LEVEL: 'silent',
      });
      const second = await buildApp({ config, clock: server.clock });
      try {
        const grant = await signUpAndIn(server.url);
        const status = await second.inject({
          method: 'GET',
          url: '/api/auth/session/status',
          headers: { authorization: `Bearer ${grant.access_token}` },
        });
        expect(status.statusCode).toBe(200);
        const published = (
          await second.inject({ method: 'GET', url: '/.well-known/jwks.json' })
        ).json() as JWKS;
        expect(published.keys.map((key) => key.kid)).toContain(decodeParts(grant.access_token).header.kid);
      } finally {
        await second.close();
      }
    });
});
