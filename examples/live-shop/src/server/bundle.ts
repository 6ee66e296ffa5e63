import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../page/main.ts', import.meta.url));

/**
 * Bundles the page's TypeScript with the built @sessiond/client (packages/client/dist, so
 * `npm run build` first) into one ES module, in memory, when the shop starts: the user runs no
 * build step of their own.
 */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: false,
    sourcemap: 'inline',
    // nanostores reads process.env.NODE_ENV, which an app's bundler replaces.
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no output for the shop page');
  return output.text;
}
