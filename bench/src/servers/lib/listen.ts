import type { Server } from 'node:http';

// Loopback only: the benchmark must never expose a test server on the network.
const HOST = '127.0.0.1';

/** Listens on 127.0.0.1:port, prints one ready line for the harness log, exits on SIGTERM. */
export async function listenAndAnnounce(
  server: Server,
  options: { name: string; port: number },
): Promise<void> {
  // Keep-alive longer than any benchmark run so autocannon's connections are never reset mid-run.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, HOST, () => resolve());
  });
  process.stdout.write(`${options.name} ready on http://${HOST}:${options.port}\n`);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
