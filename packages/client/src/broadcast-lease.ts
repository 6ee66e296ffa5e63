/**
 * A cross-tab mutex over BroadcastChannel, for browsers without Web Locks.
 *
 * Every tab remembers every live claim it hears, whenever it hears it. To take the lease a tab
 * broadcasts a claim and waits `settleMs`; it wins if, by then, it knows of no holder and no
 * live claim earlier than its own (ties broken by id, the same way in every tab). A loser
 * withdraws its claim, waits for the holder's release (or for the lease to lapse, should the
 * holder's tab have died), and claims again. The holder answers each new claim with `held`.
 */
export interface BroadcastLeaseOptions {
  settleMs?: number;
  /** A claim or holder that neither finishes nor releases within this long is presumed gone. */
  leaseMs?: number;
}

type LeaseMessage =
  | { type: 'claim'; name: string; id: string; at: number }
  | { type: 'held'; name: string; id: string }
  | { type: 'withdraw'; name: string; id: string }
  | { type: 'release'; name: string; id: string };

export function broadcastLease(
  channel: BroadcastChannel,
  options: BroadcastLeaseOptions = {},
): <T>(name: string, work: () => Promise<T>) => Promise<T> {
  const settleMs = options.settleMs ?? 40;
  const leaseMs = options.leaseMs ?? 10_000;
  const ownId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const holding = new Set<string>();
  /** name -> (tab id -> when it claimed or was last heard holding). */
  const claims = new Map<string, Map<string, number>>();
  const claimsFor = (name: string) => {
    let byTab = claims.get(name);
    if (!byTab) {
      byTab = new Map();
      claims.set(name, byTab);
    }
    return byTab;
  };
  const post = (message: LeaseMessage) => channel.postMessage(message);

  channel.addEventListener('message', (event: MessageEvent<LeaseMessage>) => {
    const message = event.data;
    if (!message || typeof message !== 'object' || message.id === ownId) return;
    if (message.type === 'claim') {
      claimsFor(message.name).set(message.id, message.at);
      if (holding.has(message.name)) post({ type: 'held', name: message.name, id: ownId });
    } else if (message.type === 'held') {
      // A holder outranks every claim: record it as the earliest possible one.
      claimsFor(message.name).set(message.id, Number.NEGATIVE_INFINITY);
    } else {
      claims.get(message.name)?.delete(message.id);
    }
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function released(name: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        channel.removeEventListener('message', listener);
        resolve();
      }
      function listener(event: MessageEvent<LeaseMessage>) {
        if (event.data?.type === 'release' && event.data.name === name) done();
      }
      channel.addEventListener('message', listener);
    });
  }

  function beaten(name: string, at: number): string | undefined {
    const now = Date.now();
    for (const [id, theirs] of claimsFor(name)) {
      const live = theirs === Number.NEGATIVE_INFINITY || now - theirs < leaseMs;
      if (!live) continue;
      if (theirs < at || (theirs === at && id < ownId)) return id;
    }
    return undefined;
  }

  async function acquire(name: string): Promise<void> {
    for (;;) {
      const at = Date.now();
      post({ type: 'claim', name, id: ownId, at });
      await sleep(settleMs);
      const winner = beaten(name, at);
      if (winner === undefined) return;
      post({ type: 'withdraw', name, id: ownId });
      await released(name, leaseMs);
      // A holder presumed gone is forgotten, so the next round can be won.
      if (claimsFor(name).get(winner) === Number.NEGATIVE_INFINITY) claimsFor(name).delete(winner);
    }
  }

  const local = new Map<string, Promise<unknown>>();
  return async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    // This tab's own callers queue first; only one of them competes with other tabs.
    const previous = local.get(name) ?? Promise.resolve();
    const run = previous.then(async () => {
      await acquire(name);
      holding.add(name);
      try {
        return await work();
      } finally {
        holding.delete(name);
        post({ type: 'release', name, id: ownId });
      }
    });
    local.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  };
}
