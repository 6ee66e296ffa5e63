import { afterAll, expect, it } from 'vitest';
import { formatTable, type Scenario, type ScenarioResult, SHORT } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';

// Issue 12, the short form of `npm run chaos`: every fault once or twice, a few seconds each,
// against real processes; lost and violations must be 0. The full form: scripts/chaos.mjs.
const results: ScenarioResult[] = [];
afterAll(() => {
  if (results.length > 0) console.log(`\n${formatTable(results)}\n`);
});

for (const scenario of SCENARIOS as readonly Scenario[]) {
  it(`${scenario.name}: nothing acknowledged is lost, no invariant breaks`, async () => {
    const result = await scenario.run(SHORT);
    results.push(result);
    console.log(result.fault, JSON.stringify(result.answers));
    expect(result.acknowledged, JSON.stringify(result.answers)).toBeGreaterThan(0);
    expect(result.violations, JSON.stringify(result.answers)).toEqual([]);
    expect(result.lost).toBe(0);
  }, 90_000);
}
