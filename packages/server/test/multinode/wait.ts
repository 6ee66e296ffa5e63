import { request } from '../helpers/api.js';
import type { ClusterNode } from './cluster.js';

/**
 * Polls `probe` until it returns a value other than undefined. The cluster runs on wall time
 * (real processes, a real Redis reconnecting), so this is the one place a test waits for it.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${last ? `: ${last}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Readiness {
  status: number;
  body: { status?: string; storage?: string; bus?: string; error?: string };
}

export async function readyz(node: ClusterNode): Promise<Readiness> {
  const answer = await request<Readiness['body']>(node.url, 'GET', '/readyz');
  return { status: answer.status, body: answer.body };
}

/** Waits until `/readyz` of `node` says `status` (`ready` or `degraded`); returns that answer. */
export async function readinessBecomes(
  node: ClusterNode,
  status: string,
  timeoutMs = 10_000,
): Promise<Readiness> {
  let seen: Readiness | undefined;
  try {
    return await eventually(
      async () => {
        seen = await readyz(node);
        return seen.body.status === status ? seen : undefined;
      },
      `node ${node.name} /readyz says ${status}`,
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last answer: ${JSON.stringify(seen)}`);
  }
}
