/**
 * `npm run screenshots`: the README's pictures of the inspector page (docs/images/inspector-*.png), taken in headless
 * Chromium from a real session on the local stack: events of a few types sent from the page, one whose handler keeps
 * failing (dead-lettered after 5 attempts), one Front never delivered (recovered by the reconciliation), a signed body
 * that is not an event (kept in the DLQ by ingest) and an unsigned request (refused). Needs `npm run build` (the
 * script runs it) and Chromium (tests/helpers/chromium.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders } from '../lib/front/samples.ts';
import type { LocalStack } from '../local/stack.ts';
import { launchChromium } from '../tests/helpers/chromium.ts';
import { startInspectorStack } from '../tests/helpers/inspector.ts';

const OUT = 'docs/images';
const dir = mkdtempSync(join(tmpdir(), 'inspector-screenshots-'));
const failing = { type: 'mention', error: 'Slack answered 503 Service Unavailable' };
let stack: LocalStack;
try {
  // The port npm start uses, so the page shows the URL a reader sees; any free one when it is taken.
  stack = await startInspectorStack({ dir, port: 3000, failing });
} catch {
  stack = await startInspectorStack({ dir, failing });
}
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`http://127.0.0.1:${stack.port}/`);
  await page.getByText('live', { exact: true }).waitFor();

  const send = async (type: string, options: { scheme?: 'rule' | 'application'; preview?: boolean; count?: number; mode?: RegExp } = {}) => {
    await page.getByLabel('Event type').selectOption(type);
    await page.getByRole('radio', { name: options.scheme ?? 'rule', exact: true }).check();
    await page.getByLabel('preview').setChecked(options.preview ?? false);
    await page.getByLabel('How many').fill(String(options.count ?? 1));
    await page.getByRole('radio', { name: options.mode ?? /^delivered/ }).check();
    const answered = page.waitForResponse((r) => r.url().endsWith('/_local/send'));
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    return ((await (await answered).json()) as { results: Array<{ eventId: string }> }).results;
  };
  const settled = (eventId: string, status: string) => page.locator(`#items li.event[data-event-id="${eventId}"][data-status="${status}"]`).waitFor({ timeout: 30_000 });

  const [missed] = await send('reopen', { mode: /^missed/ });
  const [failed] = await send(failing.type);
  await settled(failed!.eventId, 'dead-lettered');
  await fetch(stack.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"inbound"}' });
  await fetch(stack.url, { method: 'POST', headers: signedHeaders('rule', stack.secrets.rule, '<html>'), body: '<html>' });
  for (const [type, options] of [['inbound', {}], ['assign', {}], ['tag', { scheme: 'application', preview: true, count: 2 }], ['comment', {}]] as const) {
    for (const { eventId } of await send(type, options)) await settled(eventId, 'processed');
  }
  await page.getByRole('button', { name: 'Reconcile now' }).click();
  await settled(missed!.eventId, 'processed');
  await page.locator('#dlq-letters li').nth(1).waitFor();
  await page.getByRole('heading', { name: /Requests and events/ }).click(); // no button keeps the focus ring
  await page.locator('#notice').evaluate((notice) => { notice.textContent = ''; }); // it would cover the pictures' bottom

  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, 'inspector-overview.png') });
  await page.locator('#dlq').screenshot({ path: join(OUT, 'inspector-dlq.png') });
  // The failing event with its lines open: every attempt, its reason and duration.
  const item = page.locator(`#items li.event[data-event-id="${failed!.eventId}"]`);
  await item.locator('summary').click();
  await item.screenshot({ path: join(OUT, 'inspector-failed-event.png') });
  console.log(`saved ${OUT}/inspector-overview.png, inspector-dlq.png, inspector-failed-event.png`);
} finally {
  await browser.close();
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
