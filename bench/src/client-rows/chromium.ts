import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { track } from '../cleanup.js';

// Debian's Chromium, never a downloaded one (/work/shared/RECIPES.md, "Chromium with
// playwright-core"). Loopback only: nothing the pages load leaves 127.0.0.1.
const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_TIMEOUT_MS = 30_000;

/** Launches headless Chromium, released by the cleanup registry however the run ends. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const untrack = track({
    close: () => browser.close(),
    // playwright also kills the browsers it launched when this process exits.
    closeNow: () => {},
  });
  browser.once('disconnected', untrack);
  return browser;
}
