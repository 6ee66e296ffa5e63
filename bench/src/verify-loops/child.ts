// ROW 4, run as its own process (`node --import tsx src/verify-loops/child.ts`) so the loops
// have one core to themselves and nothing else in the process: three ways of verifying the
// same real sessiond access token, each called strictly one at a time. Every contender gets a
// warm-up, then come RUNS rounds that time each contender once, interleaved like the HTTP rows.
// The only line on stdout is the JSON result (LoopOutput).
import { type Contender, joseContender, rawContender, sessiondContender } from './contenders.js';
import { readLoopEnv } from './loop-env.js';
import type { LoopOutput } from './loop-result.js';
import { fetchSigningJWK } from './signing-jwk.js';
import { callsPerSecond } from './timed-loop.js';

const env = readLoopEnv();
// Progress for the harness log (which forwards stderr); stdout is kept for the result.
const progress = (contender: Contender, run: string, rate: number): void => {
  process.stderr.write(
    `  ${contender.id.padEnd(24)} ${run.padEnd(8)} ${Math.round(rate).toString().padStart(7)} calls/s\n`,
  );
};
const token = env.accessToken;
const jwk = await fetchSigningJWK(env.issuer, token);
const contenders: Contender[] = [
  await sessiondContender(token, env),
  rawContender(token, jwk),
  await joseContender(token, jwk, env),
];

// All three must accept the token and read the same claims, or the timings compare nothing.
const subjects = await Promise.all(contenders.map(async (contender) => (await contender.call()).sub));
if (typeof subjects[0] !== 'string' || subjects.some((sub) => sub !== subjects[0])) {
  throw new Error(`the contenders disagree on the token's sub: ${JSON.stringify(subjects)}`);
}

const output: LoopOutput = {
  contenders: contenders.map((contender) => ({ id: contender.id, warmupCallsPerSecond: 0, runs: [] })),
  verifierStatus: 'unknown',
};
for (const [index, contender] of contenders.entries()) {
  const rate = await callsPerSecond(contender.call, env.warmupSeconds);
  output.contenders[index]!.warmupCallsPerSecond = rate;
  progress(contender, 'warm-up', rate);
}
for (let round = 1; round <= env.runs; round++) {
  for (const [index, contender] of contenders.entries()) {
    const rate = await callsPerSecond(contender.call, env.durationSeconds);
    output.contenders[index]!.runs.push(rate);
    progress(contender, `run ${round}`, rate);
  }
}
output.verifierStatus = contenders.find((contender) => contender.status)?.status?.() ?? 'unknown';
await Promise.all(contenders.map((contender) => contender.close()));
process.stdout.write(`${JSON.stringify(output)}\n`);
