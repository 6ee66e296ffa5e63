import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { track } from './cleanup.js';
import { sleep } from './sleep.js';

// Each server under test runs in its own process, so on this 2-core machine it has one core
// and autocannon, in the harness process, has the other.

export interface ChildServerOptions {
  name: string;
  /** Executable and arguments; the harness runs everything with its own `node`. */
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** Base URL of the server; readiness is `GET {baseURL}{readyPath}` answering 200. */
  baseURL: string;
  /** The readiness probe's path; `/healthz` unless the server has none (row 15's shop: `/`). */
  readyPath?: string;
  startTimeoutMs: number;
}

export interface ChildServer {
  readonly name: string;
  readonly baseURL: string;
  readonly pid: number;
  /** The last lines the server wrote, for error messages. */
  recentOutput(): string;
  stop(): Promise<void>;
}

const KEPT_LINES = 40;
const STOP_GRACE_MS = 5_000;

function keepRecentLines(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0),
    );
    lines.splice(0, Math.max(0, lines.length - KEPT_LINES));
  };
  // Draining both pipes also keeps a chatty server from blocking on a full pipe.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = sleep(STOP_GRACE_MS).then(() => 'timeout' as const);
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Starts the server and resolves once it answers /healthz; throws with its output otherwise. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const untrack = track({
    close: () => stopChild(child),
    closeNow: () => {
      child.kill('SIGKILL');
    },
  });
  const recentOutput = keepRecentLines(child);
  const server: ChildServer = {
    name: options.name,
    baseURL: options.baseURL,
    pid: child.pid ?? -1,
    recentOutput,
    stop: async () => {
      untrack();
      await stopChild(child);
    },
  };

  const deadline = Date.now() + options.startTimeoutMs;
  const probe = `${options.baseURL}${options.readyPath ?? '/healthz'}`;
  while (!(await isHealthy(probe))) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await server.stop();
      const why = exited
        ? `exited (${child.exitCode ?? child.signalCode})`
        : 'did not become healthy in time';
      throw new Error(`${options.name} ${why}; its last output:\n${recentOutput()}`);
    }
    await sleep(100);
  }
  return server;
}
