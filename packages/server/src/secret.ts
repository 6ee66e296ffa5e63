import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

export interface MasterSecret {
  value: string;
  /** Where it came from, for the start-up log line (never the value). */
  source: 'environment' | 'generated' | 'data-dir';
}

/**
 * The master secret from SESSIOND_SECRET, or a development secret kept in the data dir
 * (created on first start, mode 0600). Losing it makes the stored signing keys unreadable.
 */
export function resolveMasterSecret(config: Config): MasterSecret {
  if (config.secret) return { value: config.secret, source: 'environment' };
  const file = join(config.dataDir, 'secret.key');
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), source: 'data-dir' };
  mkdirSync(config.dataDir, { recursive: true });
  const value = randomBytes(32).toString('hex');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { value, source: 'generated' };
}
