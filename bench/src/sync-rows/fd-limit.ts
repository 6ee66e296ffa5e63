import { readFileSync } from 'node:fs';

// Every socket is a file descriptor, in the harness and again in the server. Node raises its own
// soft limit to the hard one at start-up, so what /proc/self/limits says now is what this
// process (and each server it starts, under the same limits) can open.

/** Descriptors beyond the sockets: stdio, pipes to the children, the database, Node's own. */
const HEADROOM = 500;

/** The open-files limit of this process, or null where /proc does not say (not Linux). */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    const value = Number(soft);
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}

/** Throws, saying what to raise, unless `sockets` sockets fit under the open-files limit. */
export function assertRoomForSockets(sockets: number): void {
  const limit = openFileLimit();
  const needed = sockets + HEADROOM;
  if (limit === null || limit >= needed) return;
  throw new Error(
    `${sockets.toLocaleString('en-US')} sockets need about ${needed.toLocaleString('en-US')} open files, ` +
      `but this process may open only ${limit.toLocaleString('en-US')} (\`ulimit -n\`): run the benchmark ` +
      `from a shell with \`ulimit -n ${needed}\` or more (above the hard limit, \`ulimit -Hn\`, that needs root)`,
  );
}
