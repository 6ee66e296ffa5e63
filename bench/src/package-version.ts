import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The installed version of a dependency, for the report's labels. Read from node_modules by
 * walking up from `fromDir` (npm workspaces hoist to the root), because some packages'
 * `exports` do not expose package.json.
 */
export function installedVersion(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest))
      return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return '?';
  }
}
