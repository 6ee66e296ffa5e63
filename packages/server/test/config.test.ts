import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, unknownVariables } from '../src/config.js';
import { sha256 } from '../src/lib/crypto.js';
import { waitForOutput } from './helpers/child-output.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 7420,
      dataDir: './data',
      issuer: 'http://127.0.0.1:7420',
      audience: 'sessiond',
      accessTokenTTLSeconds: 15 * 60,
      sessionLifetimeSeconds: 14 * 86_400,
      idleTimeoutSeconds: 30 * 60,
      refreshGraceSeconds: 10,
      clients: ['default'],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads lists and ignores variables that are not SESSIOND_*', () => {
    const config = loadConfig({
      SESSIOND_CLIENTS: 'web, ios ,,android',
      PATH: '/bin',
      SESSIOND_RESOURCE_SERVERS: 'api:s3cret:x',
    });
    expect(config.clients).toEqual(['web', 'ios', 'android']);
    // Only the secret's SHA-256 is kept.
    expect(config.resourceServers).toEqual([{ id: 'api', secretHash: sha256('s3cret:x') }]);
  });

  it.each([
    ['SESSIOND_ACCESS_TOKEN_TTL_MINUTES', '5'],
    ['SESSIOND_ACCESS_TOKEN_TTL_MINUTES', '61'],
    ['SESSIOND_REFRESH_TOKEN_TTL_DAYS', '31'],
    ['SESSIOND_PORT', 'eighty'],
    ['SESSIOND_SECRET', 'too-short'],
    ['SESSIOND_DATABASE_URL', 'not a url'],
    ['SESSIOND_DATABASE_URL', 'mysql://db.example/sessiond'],
    ['SESSIOND_REDIS_URL', 'http://redis.example'],
    ['SESSIOND_ISSUER', 'ftp://issuer.example'],
    ['SESSIOND_CLIENTS', ' , ,'],
    ['SESSIOND_LOG_LEVEL', 'loud'],
    ['SESSIOND_RESOURCE_SERVERS', 'no-secret'],
    ['SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES', '5'],
    ['SESSIOND_CORS_ORIGINS', 'app.example'],
    ['SESSIOND_CORS_ORIGINS', '*'],
    ['SESSIOND_CORS_ORIGINS', 'ftp://app.example'],
    ['SESSIOND_CORS_ORIGINS', 'https://app.example/login'],
    ['SESSIOND_CORS_ORIGINS', 'https://app.example?x=1'],
    ['SESSIOND_CORS_ORIGINS', 'https://user@app.example'],
    ['SESSIOND_CORS_ORIGINS', 'https://app.example, null'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('accepts the URL schemes each setting is for', () => {
    const config = loadConfig({
      SESSIOND_DATABASE_URL: 'postgresql://db.example/sessiond',
      SESSIOND_REDIS_URL: 'rediss://cache.example:6380',
      SESSIOND_ISSUER: 'https://auth.example/',
      SESSIOND_SECRET: 's'.repeat(32),
    });
    expect(config.issuer).toBe('https://auth.example');
    expect(config.databaseURL).toBe('postgresql://db.example/sessiond');
  });

  it('asks several nodes to share a secret, and Redis only next to PostgreSQL', () => {
    expect(() => loadConfig({ SESSIOND_DATABASE_URL: 'postgres://db.example/sessiond' })).toThrow(
      /SESSIOND_SECRET: required with SESSIOND_DATABASE_URL/,
    );
    expect(() => loadConfig({ SESSIOND_REDIS_URL: 'redis://cache.example' })).toThrow(
      /SESSIOND_REDIS_URL: needs SESSIOND_DATABASE_URL/,
    );
  });

  it('asks nodes sharing a database to name their one issuer', () => {
    const shared = {
      SESSIOND_DATABASE_URL: 'postgres://db.example/sessiond',
      SESSIOND_SECRET: 's'.repeat(32),
    };
    expect(() => loadConfig(shared)).toThrow(ConfigError);
    expect(() => loadConfig(shared)).toThrow(/SESSIOND_ISSUER: required with SESSIOND_DATABASE_URL/);
    expect(loadConfig({ ...shared, SESSIOND_ISSUER: 'https://auth.example' }).issuer).toBe(
      'https://auth.example',
    );
    // One node on its own SQLite file may keep the default.
    expect(loadConfig({ SESSIOND_PORT: '8080' }).issuer).toBe('http://127.0.0.1:8080');
  });

  it('`sessiond start` with a database URL and no issuer exits 1 naming the variable, before connecting', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      // Nothing listens there: the refusal must come before any connection attempt.
      SESSIOND_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sessiond',
      SESSIOND_SECRET: 's'.repeat(32),
    };
    const failure = await run(process.execPath, [MAIN, 'start'], { env, timeout: 20_000 }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /^sessiond: invalid configuration:\n {2}SESSIOND_ISSUER: required with SESSIOND_DATABASE_URL/,
    );
  });

  it('normalises CORS origins as browsers serialise the Origin header', () => {
    const config = loadConfig({
      SESSIOND_CORS_ORIGINS: 'HTTPS://App.Example:443/, http://localhost:5173, https://app.example',
    });
    expect(config.corsOrigins).toEqual(['https://app.example', 'http://localhost:5173']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });

  it('names SESSIOND_* variables that configure nothing (typos), but not the test suites’ own', () => {
    expect(
      unknownVariables({
        SESSIOND_IDLE_TIMEOUT_MINUTE: '5',
        SESSIOND_PORT: '1',
        SESSIOND_TEST_DATABASE_URL: 'x',
        HOME: '/',
      }),
    ).toEqual(['SESSIOND_IDLE_TIMEOUT_MINUTE']);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ SESSIOND_PORT: '-1', SESSIOND_ACCESS_TOKEN_TTL_MINUTES: '1' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('SESSIOND_PORT');
      expect((error as Error).message).toContain('SESSIOND_ACCESS_TOKEN_TTL_MINUTES');
    }
  });
});

describe('the sessiond command', () => {
  it('exits 1 with a clear message on invalid configuration', async () => {
    const failure = await run(process.execPath, [MAIN, 'start'], {
      env: { ...process.env, SESSIOND_ACCESS_TOKEN_TTL_MINUTES: '5' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /sessiond: invalid configuration:\n\s+SESSIOND_ACCESS_TOKEN_TTL_MINUTES: .*15/,
    );
  });

  it('starts on the SQLite default, prints its address, generates a private dev secret, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-cli-'));
    const child = spawn(process.execPath, [MAIN, 'start'], {
      env: {
        ...process.env,
        SESSIOND_DATA_DIR: dataDir,
        SESSIOND_PORT: '0',
        SESSIOND_LOG_LEVEL: 'warn',
        SESSIOND_SECRET: '',
      },
    });
    try {
      const [, address] = await waitForOutput(child, /sessiond listening on (http:\/\/\S+)/);
      expect((await fetch(`${address}/healthz`)).status).toBe(200);
      expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'sessiond.db')).isFile()).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('warns about a misspelt variable on start-up', async () => {
    const failure = await run(process.execPath, [MAIN, 'start'], {
      env: { ...process.env, SESSIOND_IDLE_TIMEOUT_MINUTE: '5', SESSIOND_ACCESS_TOKEN_TTL_MINUTES: '5' },
    }).catch((error: { stderr: string }) => error);
    expect((failure as { stderr: string }).stderr).toContain(
      'warning: SESSIOND_IDLE_TIMEOUT_MINUTE is not a sessiond setting',
    );
  });

  it('rejects an unknown command', async () => {
    const failure = await run(process.execPath, [MAIN, 'frobnicate']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('unknown command');
  });
});
