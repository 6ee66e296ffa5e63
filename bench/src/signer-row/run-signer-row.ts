import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { importPKCS8, SignJWT } from 'jose';

// The bare RS256 signer, the ceiling of any refresh (issue 18, decision 038): one process, the
// same 2048-bit key and a JWT-sized input, three ways of signing, each with `IN_FLIGHT` calls
// in flight. ops/s is what the process gets out of the machine; event-loop µs per sign is what
// one sign costs the thread that also serves requests (from eventLoopUtilization), which is
// what "off the event loop" buys. `npm run bench` runs it with the multi-node rows (row 12's
// ceiling: a refresh signs one access token).

const IN_FLIGHT = 8;

interface SignerLine {
  name: string;
  sign: () => Promise<unknown>;
}

async function timed(
  line: SignerLine,
  seconds: number,
): Promise<{ opsPerSecond: number; loopMicros: number }> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const before = performance.eventLoopUtilization();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await line.sign();
        done += 1;
      }
    }),
  );
  const wall = performance.now() - start;
  const loop = performance.eventLoopUtilization(before);
  return { opsPerSecond: (done / wall) * 1000, loopMicros: (loop.active * 1000) / done };
}

function signAsync(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign('sha256', data, key, (error, signature) => (error ? reject(error) : resolve(signature))),
  );
}

/** Row 16: the bare signer three ways; returns its markdown table. */
export async function measureSignerRow(options: { seconds: number; runs: number }): Promise<string> {
  const { seconds, runs: RUNS } = options;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cryptoKey = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RS256');
  const data = Buffer.from(`eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${'x'.repeat(400)}`);
  const claims = { sub: 'user', sid: 'session', did: 'device', aud: 'api', iss: 'https://auth.example' };
  const lines: SignerLine[] = [
    {
      name: 'node:crypto sign, synchronous (one thread)',
      sign: async () => sign('sha256', data, privateKey),
    },
    { name: 'node:crypto sign, callback (libuv pool)', sign: () => signAsync(data, privateKey) },
    {
      name: "jose SignJWT on a CryptoKey (WebCrypto; sessiond's signer)",
      sign: () => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(cryptoKey),
    },
  ];
  for (const line of lines) await timed(line, seconds); // warm-up
  const results = new Map<string, Array<{ opsPerSecond: number; loopMicros: number }>>();
  for (let run = 0; run < RUNS; run++) {
    for (const line of lines)
      results.set(line.name, [...(results.get(line.name) ?? []), await timed(line, seconds)]);
  }
  const out = [
    '### Row 16: the bare RS256 signer (the ceiling of a refresh)',
    '',
    '| Signer | ops/s | ÷ one thread | event-loop µs per sign |',
    '| --- | ---: | ---: | ---: |',
  ];
  const single = results.values().next().value ?? [];
  const opsOf = (runs: Array<{ opsPerSecond: number }>): number =>
    runs.map((r) => r.opsPerSecond).sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? 0;
  for (const [name, runs] of results) {
    const median = <K extends 'opsPerSecond' | 'loopMicros'>(key: K): number =>
      runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    const ratio = opsOf(single) > 0 ? `${(median('opsPerSecond') / opsOf(single)).toFixed(2)}×` : '—';
    out.push(
      `| ${name} | ${Math.round(median('opsPerSecond')).toLocaleString('en')} | ${ratio} | ${median('loopMicros').toFixed(1)} |`,
    );
  }
  out.push(
    '',
    `${IN_FLIGHT} signs in flight, ${RUNS} × ${seconds} s per line after a warm-up, median shown.`,
    '',
  );
  return out.join('\n');
}
