export { PASSWORD_HASH_PARAMS } from './accounts/password.js';
export { type BuildAppOptions, buildApp } from './app.js';
export { type EventBus, InProcessBus } from './bus/event-bus.js';
export { type Clock, systemClock } from './clock.js';
export { type Config, ConfigError, loadConfig } from './config.js';
export { SessiondError } from './errors.js';
export type { SessionStore } from './store/session-store.js';
export { openSQLiteStore } from './store/sqlite.js';
