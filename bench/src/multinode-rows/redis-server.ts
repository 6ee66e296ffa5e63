import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { track } from '../cleanup.js';
import { findFreePort } from '../free-port.js';
import { sleep } from '../sleep.js';

// Row 12 runs its four setups at once (the rounds go over them in turn), so each PostgreSQL setup
// gets a Redis of its own, as a separate deployment would. One Redis for all of them would not
// keep them apart: sessiond's nodes share the pub/sub channel `sessiond:events`, and Redis
// pub/sub ignores the database number in the URL, so every node would hear every other setup's
// events. The redis-server binary is the one scripts/services.sh installs; this one keeps nothing
// on disk and is a child of the harness, killed however the run ends.

const START_TIMEOUT_MS = 10_000;

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('utf8').startsWith('+PONG')));
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await findFreePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: 'ignore' },
  );
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const exited = once(child, 'exit');
  // A spawn that fails rejects `exited`; spawnError says so instead.
  exited.catch(() => {});
  const stop = async (): Promise<void> => {
    untrack();
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const untrack = track({ close: stop, closeNow: () => child.kill('SIGKILL') });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (spawnError !== undefined || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server on port ${port} did not answer PING${spawnError ? `: ${spawnError.message}` : ''}`,
      );
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}
