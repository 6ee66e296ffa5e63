export { backoffDelay } from './backoff.js';
export { type FailureKind, SessionClientError } from './errors.js';
export type { SessionHealth } from './health.js';
export { defaultPlatform, type Platform, type TabChannel } from './platform.js';
export {
  type ClientEventName,
  createSessionClient,
  type SessionClient,
  type SessionClientOptions,
  type SignInInput,
} from './session-client.js';
export { type EndReason, nextStatus, type SessionState, type SessionStatus } from './state.js';
export { browserStorage, memoryStorage, type SessionStorage } from './storage.js';
export { type Cart, type CartDocument, type CartLine, cart } from './sync/cart.js';
export type { WebSocketConstructor, WebSocketLike } from './sync/sync-connection.js';
export type { PendingOperation, SyncedDocument, SyncStatus } from './sync/sync-document.js';
