/**
 * Debian's Chromium, driven by playwright-core, for the browser tests (npm run test:browser) and the README's
 * screenshots (npm run screenshots). Playwright's own browser download is not used: it cannot run everywhere this
 * project is built, and the system's Chromium is one `apt-get install` away.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** CHROMIUM_PATH points at another Chromium or Chrome binary. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: the browser tests drive the system's Chromium. Install it with ` +
      '`sudo apt-get update && sudo apt-get install -y chromium` (Debian), or set CHROMIUM_PATH to a Chromium ' +
      'or Chrome binary, then run `npm run test:browser` again. (`npm test` does not need it.)',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // Chromium refuses to start its sandbox as root (CI runs as root).
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      // Nothing but the page on loopback: no background calls home, which fail (and log) without a network.
      '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
    ],
  });
}
