import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { SessionStore } from '../store/session-store.js';

/**
 * TEST ONLY: faults the chaos suite (packages/server/test/chaos) injects into a real `sessiond
 * start` process through SESSIOND_TEST_FAULT. Unset (always, outside that suite) nothing here
 * runs. Comma-separated:
 * - `exit-after-commit:<operation>:<probability>`: after the store has committed `operation`
 *   (refresh, state, end-session), and before the response is written, the process kills itself
 *   with SIGKILL with that probability: the crash a client sees as a lost answer.
 * - `clock-offset:<ms>`: the node's clock runs that far ahead (or behind, negative) of the wall
 *   clock, as a node whose time is skewed.
 */
export interface TestFault {
  readonly exitAfterCommit: ReadonlyArray<{ readonly method: StoreWrite; readonly probability: number }>;
  readonly clockOffsetMs: number;
}

type StoreWrite = 'rotateRefreshToken' | 'applyStateOperation' | 'endSession';

const OPERATIONS: Readonly<Record<string, StoreWrite>> = {
  refresh: 'rotateRefreshToken',
  state: 'applyStateOperation',
  'end-session': 'endSession',
};

/** SESSIOND_TEST_FAULT, validated: a typo fails the start instead of testing nothing. */
export const testFaultSpec = z.string().transform((value, context): TestFault => {
  const exitAfterCommit: Array<{ method: StoreWrite; probability: number }> = [];
  let clockOffsetMs = 0;
  for (const part of value.split(',').map((item) => item.trim())) {
    const [kind, ...args] = part.split(':');
    const method = OPERATIONS[args[0] ?? ''];
    const probability = Number(args[1]);
    if (kind === 'exit-after-commit' && method && args.length === 2 && probability >= 0 && probability <= 1) {
      exitAfterCommit.push({ method, probability });
    } else if (kind === 'clock-offset' && args.length === 1 && /^-?\d+$/.test(args[0] ?? '')) {
      clockOffsetMs = Number(args[0]);
    } else {
      context.addIssue({
        code: 'custom',
        message: `"${part}" is not exit-after-commit:<${Object.keys(OPERATIONS).join('|')}>:<0..1> or clock-offset:<ms>`,
      });
      return z.NEVER;
    }
  }
  return Object.freeze({ exitAfterCommit: Object.freeze(exitAfterCommit), clockOffsetMs });
});

/** What `sessiond start` hands buildApp for a configured fault: a wrapped store, a skewed clock. */
export function testFaultOptions(fault: TestFault | undefined): {
  clock?: Clock;
  wrapStore?: (store: SessionStore) => SessionStore;
} {
  if (!fault) return {};
  const offset = fault.clockOffsetMs;
  return {
    ...(offset !== 0 ? { clock: { now: () => Date.now() + offset } } : {}),
    ...(fault.exitAfterCommit.length > 0 ? { wrapStore: (store) => crashAfterCommit(store, fault) } : {}),
  };
}

function crashAfterCommit(store: SessionStore, fault: TestFault): SessionStore {
  const probabilities = new Map<PropertyKey, number>(
    fault.exitAfterCommit.map(({ method, probability }) => [method, probability]),
  );
  // A proxy, not a subclass: the store's methods run on the store itself (private fields).
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const probability = probabilities.get(property);
      if (probability === undefined) return value.bind(target);
      return async (...args: unknown[]): Promise<unknown> => {
        const result = await value.apply(target, args);
        // Committed (the promise resolved), not yet answered: die as kill -9 would.
        if (Math.random() < probability) process.kill(process.pid, 'SIGKILL');
        return result;
      };
    },
  });
}
