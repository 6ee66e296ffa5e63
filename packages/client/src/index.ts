export type { DeviceManager, UserDevice } from './account-devices.js';
export type { ActiveSession, SessionManager } from './account-sessions.js';
export { backoffDelay } from './backoff.js';
export {
  BiometricCancelledError,
  type BiometricKeychain,
  type MemoryBiometricKeychain,
  memoryBiometricKeychain,
} from './biometric-keychain.js';
export {
  type FailureKind,
  type SecondFactor,
  SecondFactorRequiredError,
  SessionClientError,
} from './errors.js';
export type { SessionHealth } from './health.js';
export type { EmailCodeSent, Passkey, PasskeyManager } from './passkeys.js';
export { defaultPlatform, type Platform, type TabChannel } from './platform.js';
export type {
  PushControls,
  PushKind,
  PushPreferences,
  PushRegistrationLike,
  PushSubscriptionJSONLike,
  PushSubscriptionLike,
} from './push.js';
export {
  type ClientEventName,
  createSessionClient,
  type SecondFactorInput,
  type SessionClient,
  type SessionClientOptions,
  type SignInInput,
  type StepUpFactor,
  type StepUpInput,
} from './session-client.js';
export { type EndReason, nextStatus, type SessionState, type SessionStatus } from './state.js';
export { browserStorage, memoryStorage, type SessionStorage } from './storage.js';
export { type Cart, type CartDocument, type CartLine, cart } from './sync/cart.js';
export type { WebSocketConstructor, WebSocketLike } from './sync/sync-connection.js';
export type { PendingOperation, SyncedDocument, SyncStatus } from './sync/sync-document.js';
export type { UnlockOptions, UnlockResult } from './unlock-gate.js';
export {
  type AuthenticationResponseJSON,
  browserWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type WebAuthnAdapter,
} from './webauthn.js';
