#!/usr/bin/env node
import { join } from 'node:path';
import { buildApp } from './app.js';
import { systemClock } from './clock.js';
import { type Config, ConfigError, loadConfig, unknownVariables } from './config.js';
import { SecretBox } from './lib/crypto.js';
import { resolveMasterSecret } from './secret.js';
import { openSQLiteStore } from './store/sqlite.js';
import { SigningKeyRing } from './tokens/signing-key-ring.js';

const USAGE = `usage: sessiond <command>

commands:
  start          start the HTTP server (default)
  migrate        bring the database schema up to date and exit
  keys rotate    add a new signing key; the old one stays published until its tokens expire
  keys list      list signing keys
  help           show this text

Configuration comes from SESSIOND_* environment variables (docs/configuration.md).`;

async function start(config: Config): Promise<void> {
  const app = await buildApp({ config });
  const address = await app.listen({ host: config.host, port: config.port });
  // The one line a newcomer needs; printed even when the log level hides info.
  process.stdout.write(`sessiond listening on ${address}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

async function withKeys(config: Config, action: (ring: SigningKeyRing) => Promise<void>): Promise<void> {
  const store = await openSQLiteStore(join(config.dataDir, 'sessiond.db'));
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
    const store = await openSQLiteStore(join(config.dataDir, 'sessiond.db'));
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
