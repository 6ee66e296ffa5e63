import { broadcastLease } from './broadcast-lease.js';

/**
 * Every platform capability the client uses, behind a small interface (STYLE §10): the browser
 * supplies real ones, Node and React Native their own, tests fakes.
 */
export interface Platform {
  now(): number;
  /**
   * A wait that an awaited call is blocked on (a refresh's retry backoff, a 429's Retry-After).
   * It must keep a Node process alive: were it unref'd, a program awaiting `client.refresh()`
   * through an outage would exit mid-await (code 13, "unsettled top-level await"; issue 12).
   */
  sleep(ms: number): Promise<void>;
  /**
   * Background work nobody awaits: the proactive refresh, the idle timeout, sync pings and
   * reconnects. It never keeps a Node process alive by itself. Returns a handle for `cancel`.
   */
  schedule(callback: () => void, ms: number): unknown;
  /** Cancels a `schedule`d callback; ignores undefined and handles already fired. */
  cancel(handle: unknown): void;
  /** Runs `work` while holding the named lock across every tab of the app (or just this process). */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** A channel to the other tabs of the app; undefined where there are none. */
  channel(name: string): TabChannel | undefined;
  /** Calls back when the app comes back to the foreground or the network comes back. */
  onWake(callback: () => void): () => void;
  /** Calls back on user activity (DOM events in the browser); none elsewhere. */
  onActivity(callback: () => void): () => void;
}

export interface TabChannel {
  post(message: unknown): void;
  onMessage(callback: (message: unknown) => void): () => void;
  close(): void;
}

const processLocks = new Map<string, Promise<unknown>>();

/** A lock for one process: chains work per name. */
async function processLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const previous = processLocks.get(name) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  processLocks.set(name, settled);
  try {
    return await run;
  } finally {
    if (processLocks.get(name) === settled) processLocks.delete(name);
  }
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'scroll', 'touchstart', 'visibilitychange'] as const;

/**
 * The default platform: Web Locks (or, lacking them, a BroadcastChannel lease) and
 * BroadcastChannel in browsers, a per-process lock elsewhere; DOM focus/online and activity
 * events in a browser.
 */
export function defaultPlatform(options: { activityEvents?: readonly string[] } = {}): Platform {
  const g = globalThis as unknown as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: typeof BroadcastChannel;
    document?: Document;
    addEventListener?: (type: string, listener: () => void, options?: AddEventListenerOptions) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  const locks = g.navigator?.locks;
  const inBrowser = g.document !== undefined && g.addEventListener !== undefined;
  // Without Web Locks (older browsers), tabs agree over a BroadcastChannel lease instead.
  const lease =
    !locks && inBrowser && g.BroadcastChannel
      ? broadcastLease(new g.BroadcastChannel('sessiond-lock'))
      : undefined;
  return {
    now: () => Date.now(),
    // A plain timer is ref'd in Node: the process stays up until the wait is over.
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    schedule: (callback, ms) => {
      const handle = setTimeout(callback, ms);
      // Node only (browsers and React Native return a number): a background timer alone must
      // not keep a finished program running.
      (handle as { unref?: () => void }).unref?.();
      return handle;
    },
    cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    withLock: (name, work) =>
      locks ? locks.request(name, work) : lease ? lease(name, work) : processLock(name, work),
    channel: (name) => {
      if (!inBrowser || !g.BroadcastChannel) return undefined;
      const channel = new g.BroadcastChannel(name);
      return {
        post: (message) => channel.postMessage(message),
        onMessage: (callback) => {
          const listener = (event: MessageEvent) => callback(event.data);
          channel.addEventListener('message', listener);
          return () => channel.removeEventListener('message', listener);
        },
        close: () => channel.close(),
      };
    },
    onWake: (callback) => {
      if (!inBrowser) return () => {};
      const onVisible = () => {
        if (g.document?.visibilityState === 'visible') callback();
      };
      g.addEventListener?.('online', callback);
      g.document?.addEventListener('visibilitychange', onVisible);
      return () => {
        g.removeEventListener?.('online', callback);
        g.document?.removeEventListener('visibilitychange', onVisible);
      };
    },
    onActivity: (callback) => {
      if (!inBrowser) return () => {};
      const events = options.activityEvents ?? ACTIVITY_EVENTS;
      for (const type of events) g.addEventListener?.(type, callback, { passive: true });
      return () => {
        for (const type of events) g.removeEventListener?.(type, callback);
      };
    },
  };
}
