// The one place a peer server reads its environment (the harness passes PORT and, for
// servers with a database, DATA_DIR). Peers are separate programs, so they do not share
// the harness config module.

export interface ServerEnv {
  port: number;
  dataDir: string | undefined;
}

export function readServerEnv(): ServerEnv {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port, got ${JSON.stringify(process.env.PORT)}`);
  }
  return { port, dataDir: process.env.DATA_DIR };
}
