import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchReport } from './report.js';

/** Writes `<name>.md` and `<name>.json` (the directory is gitignored); returns their paths. */
export async function writeResults(
  resultsDir: string,
  name: string,
  report: BenchReport,
  markdown: string,
): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const files = [join(resultsDir, `${name}.md`), join(resultsDir, `${name}.json`)];
  await writeFile(files[0]!, markdown);
  await writeFile(files[1]!, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}
