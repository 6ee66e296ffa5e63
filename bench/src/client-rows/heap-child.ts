// ROW 8, run as its own process (`node --expose-gc --import tsx src/client-rows/heap-child.ts`)
// so nothing else lives in its heap: what a Node client retains after CYCLES refreshes against
// the benchmark's sessiond (bearer transport, memory storage). VARIANT picks the loop (see
// heap-output.ts). Sign in, gc(), read heapUsed; CYCLES cycles, gc() twice, read it again; then
// CYCLES more cycles and a third reading. The only line on stdout is the JSON result.
import { getHeapSpaceStatistics } from 'node:v8';
import { createSessionClient, memoryStorage, type SessionStorage } from '@sessiond/client';
import type { HeapOutput, HeapVariant } from './heap-output.js';

const VARIANTS: readonly HeapVariant[] = ['one-client', 'client-per-cycle', 'bare-fetch'];

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const baseUrl = required('SESSIOND_URL');
const credentials = { email: required('EMAIL'), password: required('PASSWORD') };
const cycles = Number(required('CYCLES'));
const variant = required('VARIANT') as HeapVariant;
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('CYCLES must be a positive integer');
if (!VARIANTS.includes(variant)) throw new Error(`VARIANT must be one of ${VARIANTS.join(', ')}`);
const gc = globalThis.gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const newClient = (storage: SessionStorage) => createSessionClient({ baseUrl, transport: 'bearer', storage });

/** Signs in and answers one cycle of the variant, and how to release what it keeps. */
async function prepare(): Promise<{ cycle: () => Promise<void>; close: () => void }> {
  if (variant === 'bare-fetch') return prepareBareFetch();
  const storage = memoryStorage();
  const client = newClient(storage);
  await client.ready;
  const signedIn = await client.signIn(credentials);
  if (signedIn.status !== 'authenticated') throw new Error(`sign-in left the client ${signedIn.status}`);
  if (variant === 'one-client') return { cycle: () => client.refresh(), close: () => client.close() };
  // Each new client restores the session the previous one persisted; each refresh rotates it.
  client.close();
  return {
    cycle: async () => {
      const next = newClient(storage);
      await next.ready;
      await next.refresh();
      next.close();
    },
    close: () => {},
  };
}

/** The floor: the requests a refresh makes, with fetch() alone. */
async function prepareBareFetch(): Promise<{ cycle: () => Promise<void>; close: () => void }> {
  const post = async (path: string, body: unknown): Promise<string> => {
    const response = await fetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path} answered HTTP ${response.status}`);
    return ((await response.json()) as { refresh_token: string }).refresh_token;
  };
  let refreshToken = await post('/api/auth/session/create', { ...credentials, device: { name: 'bench' } });
  return {
    cycle: async () => {
      refreshToken = await post('/api/auth/session/refresh', { refresh_token: refreshToken });
    },
    close: () => {},
  };
}

const codeSpace = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'code_space')?.space_used_size ?? 0;

/** heapUsed after gc() twice, with a turn of the event loop between for the finalizers the first one queued. */
async function settledHeapUsed(): Promise<number> {
  // A restored client checks its session in the background (GET /session/status): let the
  // last of those finish, so it is not counted as retained.
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc!();
  await new Promise((resolve) => setImmediate(resolve));
  gc!();
  return process.memoryUsage().heapUsed;
}

const { cycle, close } = await prepare();
gc();
const beforeBytes = process.memoryUsage().heapUsed;
const codeBefore = codeSpace();
for (let i = 0; i < cycles; i++) await cycle();
const afterBytes = await settledHeapUsed();
const codeSpaceGrowthBytes = codeSpace() - codeBefore;
for (let i = 0; i < cycles; i++) await cycle();
const afterMoreBytes = await settledHeapUsed();
close();

const output: HeapOutput = { variant, cycles, beforeBytes, afterBytes, afterMoreBytes, codeSpaceGrowthBytes };
process.stdout.write(`${JSON.stringify(output)}\n`);
