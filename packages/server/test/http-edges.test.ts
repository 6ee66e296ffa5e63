import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const host = 'Host: sessiond.test\r\n';

describe('a body over the limit', () => {
  it('is answered 413 payload_too_large, every time, while the client is still sending it', async () => {
    const bytes = 2 * 1024 * 1024;
    for (let attempt = 0; attempt < 6; attempt++) {
      const head = `POST /api/auth/signup HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`;
      const answer = await rawExchange(server.url, head, { bytes, chunkBytes: 64 * 1024, pauseMs: 2 });
      expect({ attempt, status: answer.status, error: answer.error }).toEqual({
        attempt,
        status: 413,
        error: undefined,
      });
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' });
    }
  });
});
