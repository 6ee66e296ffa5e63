#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { AdminStore } from './admin/admin-store.js';
import { createAdminKey, isAdminKeyName } from './admin/create-admin-key.js';
import { buildApp } from './app.js';
import { systemClock } from './clock.js';
import { type Config, ConfigError, loadConfig, unknownVariables } from './config.js';
import { SecretBox } from './lib/crypto.js';
import { testFaultOptions } from './lib/test-fault.js';
import { resolveMasterSecret } from './secret.js';
import { openStore } from './store/open-store.js';
import { SigningKeyRing } from './tokens/signing-key-ring.js';

const USAGE = `usage: sessiond <command>

commands:
  start          start the HTTP server (default)
  migrate        bring the database schema up to date and exit
  keys rotate    add a new signing key; the old one stays published until its tokens expire
  keys list      list signing keys
  admin create-key [--name N]
                 create an admin API key for /api/admin; prints it once (only its hash is kept)
  admin list-keys
                 list created admin keys (id, creation time, name)
  admin revoke-key <id>
                 delete a created admin key; requests with it are refused at once
  help           show this text

Configuration comes from SESSIOND_* environment variables (docs/configuration.md).`;

async function start(config: Config): Promise<void> {
  const app = await buildApp({ config, ...testFaultOptions(config.testFault) });
  const address = await app.listen({ host: config.host, port: config.port });
  // The one line a newcomer needs; printed even when the log level hides info.
  process.stdout.write(`sessiond listening on ${address}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void shutDown(app, signal, config.shutdownGraceSeconds));
  }
}

/**
 * Graceful shutdown: stop listening (the load balancer sends new connections elsewhere; a new
 * request on a kept-alive connection gets 503 and `Connection: close`), let in-flight requests
 * finish, close sync sockets with 1012 so clients reconnect to another node and catch up, end
 * revocation streams, then exit. Requests still running after the grace period are cut.
 */
async function shutDown(app: FastifyInstance, signal: string, graceSeconds: number): Promise<void> {
  app.log.info({ signal, grace_seconds: graceSeconds }, 'shutting down: finishing in-flight requests');
  const cut = setTimeout(() => {
    app.log.warn('shutdown grace period over: closing the remaining connections');
    app.server.closeAllConnections();
  }, graceSeconds * 1000);
  cut.unref();
  // Closing only cuts the kept-alive connections idle at that moment; one busy then goes idle
  // once its response is sent, and would hold the close open until the grace period ends.
  const sweepIdle = setInterval(() => app.server.closeIdleConnections(), 100);
  sweepIdle.unref();
  try {
    await app.close();
    app.log.info('shut down');
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

async function withKeys(config: Config, action: (ring: SigningKeyRing) => Promise<void>): Promise<void> {
  const store = await openStore(config);
  try {
    const secret = resolveMasterSecret(config);
    if (secret.source === 'generated') {
      process.stderr.write(
        'sessiond: warning: SESSIOND_SECRET is not set: generated a development secret in the data dir\n',
      );
    }
    const box = new SecretBox(secret.value, 'signing-keys');
    const ring = await SigningKeyRing.open(store, box, systemClock, {
      accessTokenTTLSeconds: config.accessTokenTTLSeconds,
      reloadIntervalSeconds: config.sweepIntervalSeconds,
    });
    await action(ring);
  } finally {
    await store.close();
  }
}

async function withAdminStore(config: Config, action: (store: AdminStore) => Promise<void>): Promise<void> {
  const store = await openStore(config);
  try {
    await action(new AdminStore(store.database));
  } finally {
    await store.close();
  }
}

/** `sessiond admin ...`; false when `sub` or its arguments are not a command. */
async function admin(config: Config, sub: string | undefined, args: string[]): Promise<boolean> {
  if (sub === 'create-key') {
    const { values } = parseArgs({ args, options: { name: { type: 'string' } }, strict: true });
    const name = values.name ?? 'admin';
    if (!isAdminKeyName(name)) {
      process.stderr.write('sessiond: --name is 1 to 100 characters, without control characters\n');
      process.exitCode = 2;
      return true;
    }
    await withAdminStore(config, async (store) => {
      const created = await createAdminKey(store, { name, now: systemClock.now() });
      process.stderr.write(
        `created admin key ${created.id} (${created.name}); it is shown once, below, and kept only as its SHA-256\n`,
      );
      // Alone on stdout, so that `KEY=$(sessiond admin create-key)` captures exactly the key.
      process.stdout.write(`${created.key}\n`);
    });
    return true;
  }
  if (sub === 'list-keys' && args.length === 0) {
    await withAdminStore(config, async (store) => {
      for (const key of await store.listKeys()) {
        process.stdout.write(`${key.id}  ${new Date(key.createdAt).toISOString()}  ${key.name}\n`);
      }
      if (config.adminAPIKeyHashes.length > 0) {
        process.stdout.write(
          `(and ${config.adminAPIKeyHashes.length} configured in SESSIOND_ADMIN_API_KEYS)\n`,
        );
      }
    });
    return true;
  }
  if (sub === 'revoke-key' && args.length === 1) {
    const [id = ''] = args;
    await withAdminStore(config, async (store) => {
      if (await store.deleteKey(id)) {
        process.stdout.write(`revoked admin key ${id}\n`);
      } else {
        process.stderr.write(`sessiond: no admin key ${id}\n`);
        process.exitCode = 1;
      }
    });
    return true;
  }
  return false;
}

async function main(argv: string[]): Promise<void> {
  const [command = 'start', sub] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Before validating: a misspelt name is often why validation fails.
  for (const name of unknownVariables(process.env)) {
    process.stderr.write(
      `sessiond: warning: ${name} is not a sessiond setting (see docs/configuration.md)\n`,
    );
  }
  const config = loadConfig(process.env);
  if (command === 'start') return start(config);
  if (command === 'migrate') {
    const store = await openStore(config);
    await store.close();
    process.stdout.write('database is up to date\n');
    return;
  }
  if (command === 'keys' && sub === 'rotate') {
    return withKeys(config, async (ring) => {
      const kid = await ring.rotate();
      process.stdout.write(
        `new signing key ${kid}; running servers sign with it within ${config.sweepIntervalSeconds} s (their key reload)\n`,
      );
    });
  }
  if (command === 'keys' && sub === 'list') {
    return withKeys(config, async (ring) => {
      for (const key of ring.list()) {
        const state = key.retiredAt === null ? 'signing' : key.published ? 'retired, published' : 'retired';
        process.stdout.write(`${key.kid}  ${new Date(key.createdAt).toISOString()}  ${state}\n`);
      }
    });
  }
  if (command === 'admin') {
    try {
      if (await admin(config, sub, argv.slice(2))) return;
    } catch (error) {
      // parseArgs: an unknown option or a missing value.
      if (
        !(error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
      ) {
        throw error;
      }
    }
  }
  process.stderr.write(`unknown command: ${argv.join(' ')}\n\n${USAGE}\n`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`sessiond: ${error.message}\n`);
  } else {
    process.stderr.write(
      `sessiond: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
