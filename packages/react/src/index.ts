/** @sessiond/react: hooks and components on @sessiond/client's stores (issue 16, decision 032). */
export { DeviceTrust, type DeviceTrustProps } from './device-trust.js';
export { SessionList, type SessionListLabels, type SessionListProps } from './session-list.js';
export { SessionProvider, type SessionProviderProps, useSessionClient } from './session-provider.js';
export { StepUpPrompt, type StepUpPromptLabels, type StepUpPromptProps } from './step-up-prompt.js';
export { type UseDevices, useDevices } from './use-devices.js';
export { type UseSession, useSession } from './use-session.js';
export { type UseSessions, useSessions } from './use-sessions.js';
export { type UseSyncDocument, useSyncDocument } from './use-sync-document.js';
