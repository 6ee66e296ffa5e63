import { broadcastLease } from './broadcast-lease.js';

/**
 * Every platform capability the client uses, behind a small interface (STYLE §10): the browser
 * supplies real ones, Node and React Native their own, tests fakes.
 */
export interface Platform {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
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
    setTimer: (callback, ms) => {
      const handle = setTimeout(callback, ms);
      (handle as { unref?: () => void }).unref?.();
      return handle;
    },
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
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
