import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { track } from './cleanup.js';

export interface JSONChildOptions {
  /** For error messages. */
  name: string;
  /** Node flags and the script, e.g. `['--expose-gc', '--import', 'tsx', path]`. */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** The child is killed after this long, and the run fails. */
  timeoutMs: number;
}

/**
 * Runs a measurement child with the harness's own `node`, forwards its stderr (progress) to the
 * log, and answers the one JSON line it printed on stdout. Fails, with the child's last output,
 * if it exits non-zero or outlives its time.
 */
export async function runJSONChild<T>(options: JSONChildOptions): Promise<T> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  const untrack = track({ close: async () => kill(), closeNow: kill });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-4_000);
    process.stderr.write(text);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  try {
    // 'close', not 'exit': it comes after stdout has been read to the end.
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    if (timedOut) {
      throw new Error(`${options.name} took longer than ${Math.round(options.timeoutMs / 1000)} s`);
    }
    if (code !== 0)
      throw new Error(`${options.name} exited (${code ?? signal}); its last output:\n${stderr}`);
  } finally {
    clearTimeout(timer);
    untrack();
  }
  try {
    return JSON.parse(stdout.trim()) as T;
  } catch {
    throw new Error(`${options.name} printed no JSON result: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
}
