import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signUpAndIn } from '../../server/test/helpers/api.js';
import { waitForOutput } from '../../server/test/helpers/child-output.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const EXAMPLE = fileURLToPath(new URL('../examples/resource-server.mjs', import.meta.url));

let sessiond: TestServer;
beforeAll(async () => {
  sessiond = await startTestServer({ issuerIsURL: true });
});
afterAll(async () => {
  await sessiond.close();
});

describe('the README’s runnable example', () => {
  it('runs as documented and enforces tokens and revocations', async () => {
    const child = spawn(process.execPath, [EXAMPLE], {
      env: {
        ...process.env,
        SESSIOND_ISSUER: sessiond.url,
        SESSIOND_CLIENT_ID: RESOURCE_SERVER.id,
        SESSIOND_CLIENT_SECRET: RESOURCE_SERVER.secret,
        PORT: '0',
      },
    });
    try {
      // Ready once it listens and its revocation stream is live, in whichever order it prints them.
      const [, url] = await waitForOutput(
        child,
        /^(?=[\s\S]*revocation stream: live)[\s\S]*listening on (http:\/\/\S+)/,
      );
      const grant = await signUpAndIn(sessiond.url);
      expect(await request(url, 'GET', '/orders', { token: grant.access_token })).toMatchObject({
        status: 200,
        body: { orders: [] },
      });
      expect((await request(url, 'GET', '/orders')).status).toBe(401);
      await request(sessiond.url, 'POST', '/api/auth/session/logout', { token: grant.access_token });
      const deadline = Date.now() + 1000;
      let status = 200;
      while (status === 200 && Date.now() < deadline)
        status = (await request(url, 'GET', '/orders', { token: grant.access_token })).status;
      expect(status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
