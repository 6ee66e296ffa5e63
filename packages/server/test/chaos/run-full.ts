// `npm run chaos` (scripts/chaos.mjs runs this with tsx after the build): every scenario at full
// length, one table at the end, exit 1 if anything was lost or any invariant broke.
import { FULL, formatTable, type ScenarioResult } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';

// `npm run chaos -- disk` runs the scenarios whose name contains "disk" (while working on one).
const only = process.argv[2];
const chosen = SCENARIOS.filter((scenario) => only === undefined || scenario.name.includes(only));
if (chosen.length === 0) throw new Error(`no chaos scenario is named like "${only}"`);
const results: ScenarioResult[] = [];
for (const scenario of chosen) {
  process.stdout.write(`== ${scenario.name} ...\n`);
  const started = Date.now();
  let result: ScenarioResult;
  try {
    result = await scenario.run(FULL);
  } catch (error) {
    // A scenario that could not deal its fault or finish is a failure, never a skipped row.
    result = {
      fault: scenario.name,
      sent: 0,
      acknowledged: 0,
      lost: 0,
      violations: [String(error)],
      answers: {},
    };
  }
  results.push(result);
  process.stdout.write(
    `   ${((Date.now() - started) / 1000).toFixed(1)} s; answers seen: ${JSON.stringify(result.answers)}\n`,
  );
  for (const violation of result.violations) process.stdout.write(`   VIOLATION: ${violation}\n`);
}
process.stdout.write(`\n${formatTable(results)}\n`);
const failed = results.filter(
  (result) => result.lost > 0 || result.violations.length > 0 || result.acknowledged === 0,
);
process.stdout.write(`${results.length - failed.length} passed, ${failed.length} failed\n`);
process.exit(failed.length === 0 ? 0 : 1);
