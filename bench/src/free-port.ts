import { createServer } from 'node:net';

/**
 * Asks the kernel for a free loopback port. The port is released before the child binds it,
 * a small race that only matters if something else grabs ports at the same moment.
 */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for free port');
  return address.port;
}
