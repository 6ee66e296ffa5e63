import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { waitForOutput } from '../../server/test/helpers/child-output.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./node/await-through-outage.ts', import.meta.url));
/** Long enough for several failed attempts and their backoff waits. */
const OUTAGE_MS = 1_500;

let server: TestServer;
beforeAll(async () => {
  // A fixed port, so the server comes back where the child's client looks for it.
  server = await startTestServer({ issuerIsURL: true });
});
afterAll(async () => {
  await server?.close();
});

/**
 * Runs the child program: it signs in, the server goes down, the child awaits `mode` at the
 * top level, and the server comes back on the same port after OUTAGE_MS.
 */
async function awaitThroughOutage(
  mode: 'refresh' | 'fetch' | 'settled',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, SESSIOND_URL: server.url, EMAIL: email, PASSWORD, MODE: mode },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await waitForOutput(child, /signed-in\n/, { timeoutMs: 15_000, what: 'the child program' });
    await server.app.close();
    child.stdin?.end('go\n');
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  } finally {
    await server.restart();
  }
  const [code] = await exited;
  return { code, stdout, stderr };
}

describe('the client in a Node process, through a server outage', () => {
  it('an awaited refresh() keeps the process alive until the server is back, then succeeds', async () => {
    const result = await awaitThroughOutage('refresh');
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('{"mode":"refresh","state":"authenticated"}');
  });

  it('an awaited fetch() that must refresh first keeps the process alive, then answers', async () => {
    const result = await awaitThroughOutage('fetch');
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('{"mode":"fetch","status":200,"state":"authenticated"}');
  });

  it('an awaited doc.settled() keeps the process alive while the sync socket waits to reconnect', async () => {
    const result = await awaitThroughOutage('settled');
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('{"mode":"settled","value":{"items":{"sku-1":{"qty":2}}},"pending":0}');
  });
});
