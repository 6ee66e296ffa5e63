// Just enough of express 5 and express-session for the peer server: @types/express is not a
// dependency of this workspace, and adding one is not this package's call.
declare module 'express' {
  import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

  export interface Request extends IncomingMessage {
    session: { userId?: string };
    sessionID: string;
  }
  export interface Response extends ServerResponse {
    status(code: number): Response;
    json(body: unknown): Response;
    send(body: string): Response;
  }
  export type NextFunction = (error?: unknown) => void;
  export type Handler = (req: Request, res: Response, next: NextFunction) => void;
  export interface Application extends RequestListener {
    use(handler: Handler): Application;
    get(path: string, handler: Handler): Application;
    post(path: string, handler: Handler): Application;
  }

  function express(): Application;
  export default express;
}

declare module 'express-session' {
  import type { Handler } from 'express';

  export interface SessionOptions {
    store: Store;
    secret: string;
    name: string;
    resave: boolean;
    saveUninitialized: boolean;
    cookie: { httpOnly: boolean; sameSite: 'lax' | 'strict' | 'none'; secure: boolean };
  }
  export class Store {}

  function session(options: SessionOptions): Handler;
  namespace session {
    export { Store };
  }
  export default session;
}

declare module 'express-session-better-sqlite3' {
  import type { Database } from 'better-sqlite3';
  import type { Store } from 'express-session';

  /** Creates the express_session table and returns a Store class bound to the database. */
  function sqliteStore(expressSession: { Store: typeof Store }, db: Database): new () => Store;
  export default sqliteStore;
}
