/**
 * The service-worker half of sessiond's Web Push (decision 037), for `@sessiond/client/push-sw`:
 * call `installPushHandlers(self)` in the app's service worker. A push shows the notification
 * sessiond sent (title, body, a tag so a newer one replaces it); a click focuses a window already
 * at the notification's URL, or opens it (the app's sessions or cart page, which asks for sign-in
 * itself: no token ever travels in a push).
 */

/** The decrypted payload sessiond pushes (`v: 1`). */
export interface SessiondPushPayload {
  v: 1;
  kind: string;
  title: string;
  body: string;
  url: string | null;
  tag: string;
  at: string;
}

/** What the helper needs of the service worker's global scope. */
export interface PushWorkerScope {
  readonly registration: {
    readonly scope: string;
    showNotification(title: string, options: Record<string, unknown>): Promise<void>;
  };
  readonly clients: {
    matchAll(options: {
      type: 'window';
      includeUncontrolled: boolean;
    }): Promise<ReadonlyArray<{ url: string; focus(): Promise<unknown> }>>;
    openWindow(url: string): Promise<unknown>;
  };
  addEventListener(type: 'push' | 'notificationclick', listener: (event: never) => void): void;
}

interface PushEventLike {
  readonly data: { json(): unknown } | null;
  waitUntil(promise: Promise<unknown>): void;
}

interface NotificationClickEventLike {
  readonly notification: { readonly data: unknown; close(): void };
  waitUntil(promise: Promise<unknown>): void;
}

export interface PushHandlerOptions {
  /** Changes or suppresses (null) what is shown, e.g. to translate or add an icon. */
  notification?: (payload: SessiondPushPayload) => { title: string; options: Record<string, unknown> } | null;
}

/** The payload of a push event if it is one of sessiond's, else undefined (another sender's). */
export function sessiondPayload(event: PushEventLike): SessiondPushPayload | undefined {
  let value: unknown;
  try {
    value = event.data?.json();
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const payload = value as Partial<SessiondPushPayload>;
  if (payload.v !== 1 || typeof payload.title !== 'string' || typeof payload.body !== 'string')
    return undefined;
  return payload as SessiondPushPayload;
}

/** Shows sessiond's notification for a push event; other pushes are left to the app's own handler. */
export function handlePush(
  scope: PushWorkerScope,
  event: PushEventLike,
  options: PushHandlerOptions = {},
): void {
  const payload = sessiondPayload(event);
  if (!payload) return;
  const shown = options.notification
    ? options.notification(payload)
    : {
        title: payload.title,
        options: { body: payload.body, tag: payload.tag, data: { sessiond: true, url: payload.url } },
      };
  if (!shown) return;
  event.waitUntil(scope.registration.showNotification(shown.title, shown.options));
}

/** Opens (or focuses) the URL of a clicked sessiond notification. */
export function handleNotificationClick(scope: PushWorkerScope, event: NotificationClickEventLike): void {
  const data = event.notification.data as { sessiond?: boolean; url?: string | null } | null;
  if (!data?.sessiond) return;
  event.notification.close();
  const url = new URL(data.url ?? '.', scope.registration.scope).href;
  event.waitUntil(
    scope.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((window) => window.url === url);
      return open ? open.focus() : scope.clients.openWindow(url);
    }),
  );
}

/** Installs both handlers on the service worker's global scope (`self`). */
export function installPushHandlers(scope: PushWorkerScope, options: PushHandlerOptions = {}): void {
  scope.addEventListener('push', ((event: PushEventLike) => handlePush(scope, event, options)) as (
    event: never,
  ) => void);
  scope.addEventListener('notificationclick', ((event: NotificationClickEventLike) =>
    handleNotificationClick(scope, event)) as (event: never) => void);
}
