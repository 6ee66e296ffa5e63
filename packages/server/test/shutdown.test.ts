import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 7: a node that is closing refuses what still reaches it in the {error, message} contract,
// so the client knows the request was not handled and can send it to another node.
let server: TestServer | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  await server?.close().catch(() => {});
});

/** Everything the server sends on `socket` until it closes the connection. */
async function readUntilClosed(connection: Socket): Promise<string> {
  let text = '';
  connection.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  await once(connection, 'close');
  return text;
}

it('a request arriving while the node closes: 503 service_unavailable, Connection: close, not handled', async () => {
  server = await startTestServer();
  const { app } = server;
  const { port } = new URL(server.url);
  socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const answer = readUntilClosed(socket);
  // Half a request: the connection is busy (not idle), so closing the server does not cut it.
  socket.write('POST /api/auth/signup HTTP/1.1\r\nHost: sessiond.test\r\nContent-Type: application/json\r\n');
  await new Promise((resolve) => setTimeout(resolve, 50));

  const closing = app.close();
  // Once the server stops listening, the preClose hooks (which mark the node as closing) have run.
  while (app.server.listening) await new Promise((resolve) => setTimeout(resolve, 5));
  const body = JSON.stringify({ email: 'late@example.com', password: 'correct horse battery staple' });
  socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

  const response = await answer;
  await closing;
  const [head, json] = response.split('\r\n\r\n') as [string, string];
  expect(head).toMatch(/^HTTP\/1\.1 503 /);
  expect(head.toLowerCase()).toContain('connection: close');
  expect(JSON.parse(json)).toEqual({
    error: 'service_unavailable',
    message: 'this node is shutting down: send the request again',
  });

  // It was not handled: the same sign-up succeeds once the node is back.
  await server.restart();
  const signUp = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  expect(signUp.status).toBe(201);
});

it('a request in flight when the close begins gets its answer with Connection: close, and the close does not wait for its keep-alive', async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = false;
  server = await startTestServer({
    wrapStore: (real) =>
      new Proxy(real, {
        get(target, key) {
          const value = Reflect.get(target, key, target);
          if (key === 'findUserByEmail' && holding) {
            return async (...args: unknown[]) => {
              await held;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
  });
  const { app } = server;
  const { port } = new URL(server.url);
  socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const answer = readUntilClosed(socket);
  const body = JSON.stringify({ email: 'held@example.com', password: 'correct horse battery staple' });
  holding = true;
  // A kept-alive request (HTTP/1.1, no Connection: close) that is in its handler when the close begins.
  socket.write(
    `POST /api/auth/session/create HTTP/1.1\r\nHost: sessiond.test\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  while (!app.server.listening) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closing = app.close();
  while (app.server.listening) await new Promise((resolve) => setTimeout(resolve, 5));
  release();
  const response = await answer; // the server closes the connection after its answer
  await closing;
  const [head] = response.split('\r\n\r\n') as [string];
  expect(head).toMatch(/^HTTP\/1\.1 401 /); // no such account: handled in full
  expect(head.toLowerCase()).toContain('connection: close');
});
