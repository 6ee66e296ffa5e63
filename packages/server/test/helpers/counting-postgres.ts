import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import pg from 'pg';

/**
 * Counts the statements this process sends to PostgreSQL on behalf of one piece of work: each
 * `query` of a node-postgres client is one round trip (parse, bind, execute and sync go out
 * together, and the client waits for the answer). The work is followed by its async context, so a
 * sweeper or a key reload running meanwhile is not counted. Nothing is faked: the statements run.
 */
export class PostgresRoundTrips {
  readonly #context = new AsyncLocalStorage<string[]>();
  readonly #original = pg.Client.prototype.query;

  constructor() {
    const context = this.#context;
    const original = this.#original;
    pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      context
        .getStore()
        ?.push(typeof first === 'string' ? first : String((first as { text?: unknown }).text));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pg.Client.prototype.query;
  }

  /** The statements `work` sent, in order, and its result. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    const statements: string[] = [];
    const result = await this.#context.run(statements, work);
    return { result, statements };
  }

  /**
   * Counts what an HTTP server does for the requests that arrive while `work` runs: each request
   * handler starts in the context entered here (the listener runs before the server's own).
   */
  async duringRequests<T>(
    server: Server,
    work: () => Promise<T>,
  ): Promise<{ result: T; statements: string[] }> {
    const statements: string[] = [];
    const enter = (): void => this.#context.enterWith(statements);
    server.prependListener('request', enter);
    try {
      return { result: await work(), statements };
    } finally {
      server.off('request', enter);
    }
  }

  restore(): void {
    pg.Client.prototype.query = this.#original;
  }
}
