export type {
  ActiveByDevice,
  AdminDevicePage,
  AdminLogEntry,
  AdminLogPage,
  AdminRevokeAllAnswer,
  AdminRevokeAnswer,
  AdminSession,
  AdminSessionPage,
  AdminSessionState,
  FailedLogins,
  LoginsPerDay,
  SessionDuration,
  SuspiciousIPs,
} from './admin.js';
export type { ErrorBody, ErrorCode, OAuthErrorCode } from './errors.js';
export { ERROR_CODES, ERROR_STATUS, isErrorCode, OAUTH_ERROR_CODES } from './errors.js';
export type {
  Actor,
  EventName,
  EventPayloads,
  LifecycleEvent,
  LogAction,
  SessionEndReason,
} from './events.js';
export { EVENT_NAMES, LOG_ACTIONS } from './events.js';
export type { JSONObject, JSONValue, StateOperation, StatePath } from './state-operations.js';
export {
  applyStateOperation,
  canonical,
  parseStateOperation,
  readState,
  STATE_LIMITS,
  STATE_OPERATION_NAMES,
  StateOperationError,
  stateDocumentSize,
} from './state-operations.js';
export type {
  SyncClientMessage,
  SyncCloseReason,
  SyncOperation,
  SyncServerMessage,
  SyncSessionEvent,
  SyncSessionEventName,
} from './sync.js';
export {
  CLIENT_OP_ID_MAX_LENGTH,
  isSessionEndingClose,
  NAMESPACE_PATTERN,
  SYNC_BEARER_PROTOCOL_PREFIX,
  SYNC_CLOSE_CODES,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
} from './sync.js';
export type { WebhookBody, WebhookEventData, WebhookEventType, WebhookPayloads } from './webhooks.js';
export { WEBHOOK_EVENT_TYPES } from './webhooks.js';
export type {
  AccessTokenClaims,
  ActiveSession,
  AssuranceLevel,
  Device,
  DeviceInput,
  DeviceSummary,
  GeoLocation,
  LogEntry,
  LogPage,
  Passkey,
  SessionStatus,
  SessionSummary,
  TokenResponse,
} from './wire.js';
