/**
 * Where a component reports trouble; the app's pino logger fits. Details are objects so pino
 * keeps them structured; they never carry a secret (a password, a token, a Redis URL's password).
 */
export interface Log {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
