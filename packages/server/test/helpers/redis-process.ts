import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { waitForOutput } from './child-output.js';
import { freePort } from './test-server.js';

/**
 * A redis-server child of a test's own, on a loopback port of its own, so the test can kill it
 * (an outage) and start it again on the same port. The shared test Redis
 * (SESSIOND_TEST_REDIS_URL) is never touched.
 */
export class RedisProcess {
  #child: ChildProcess | undefined;
  #output = '';

  /** A process to start later: `start()` on `port` (the cluster gives its nodes the URL first). */
  constructor(readonly port: number) {}

  /** Started on a free port. */
  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Everything redis-server printed, across restarts (for failure messages). */
  get output(): string {
    return this.#output;
  }

  async start(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#output += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#output += chunk;
    });
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    await waitForOutput(child, /Ready to accept connections/, { timeoutMs: 10_000, what: 'redis-server' });
  }

  /** A crash: SIGKILL, nothing flushed, every connection reset. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
