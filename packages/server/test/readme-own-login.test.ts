import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './helpers/api.js';
import { BACKEND, BACKEND_ENV } from './helpers/backend.js';
import { decodeParts } from './helpers/forge.js';
import { freePort, startTestServer, type TestServer } from './helpers/test-server.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The README's "Use your own login" example, exactly as printed. */
function readmeExample(): string {
  const text = readFileSync(README, 'utf8');
  const match = /<!-- own-login-example -->\n```js\n([\s\S]*?)```/.exec(text);
  if (!match?.[1]) throw new Error('README has no own-login example');
  return match[1];
}

let sessiond: TestServer;
let child: ChildProcess;
let dir: string;
let url: string;

beforeAll(async () => {
  sessiond = await startTestServer({ env: BACKEND_ENV });
  dir = mkdtempSync(join(tmpdir(), 'own-login-'));
  const expressURL = pathToFileURL(createRequire(import.meta.url).resolve('express')).href;
  // The app's own login, which the example leaves to the reader: one known user.
  const stub = `async function checkPasswordAndMFA({ username, password }) {
  return username === 'ann' && password === 'pw' ? { id: 'shop-user-ann', roles: ['admin'] } : null;
}\n`;
  const file = join(dir, 'app.mjs');
  writeFileSync(file, readmeExample().replace("from 'express'", `from '${expressURL}'`) + stub);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [file], {
    env: {
      ...process.env,
      SESSIOND_URL: sessiond.url,
      BACKEND_ID: BACKEND.id,
      BACKEND_SECRET: BACKEND.secret,
      PORT: String(port),
    },
    stdio: 'inherit',
  });
  for (let i = 0; i < 200; i += 1) {
    const up = await fetch(url).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the README example did not start');
});
afterAll(async () => {
  child?.kill();
  await sessiond.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('README: use your own login', () => {
  it('the Express example opens a sessiond session for a user its own login accepted', async () => {
    const answer = await request<{ access_token: string; refresh_token: string }>(url, 'POST', '/login', {
      body: { username: 'ann', password: 'pw' },
    });
    expect(answer.status).toBe(200);
    expect(decodeParts(answer.body.access_token).payload).toMatchObject({ amr: ['pwd'], roles: ['admin'] });
    const status = await request(sessiond.url, 'GET', '/api/auth/session/status', {
      token: answer.body.access_token,
    });
    expect(status.status).toBe(200);
    const refused = await request(url, 'POST', '/login', { body: { username: 'ann', password: 'no' } });
    expect(refused.status).toBe(401);
  });
});
