// A person's visit to ferry's web app, in Debian's headless chromium driven by
// playwright-core, at a desktop and a phone viewport: start a transfer from the example
// account to a package (with the keyboard alone on the desktop), watch it, read the
// report, download the package; one to a folder on the server; one from a real IMAP
// server (Dovecot) with a password; a form sent wrong; the list of transfers. Every page
// is checked by axe-core for WCAG 2.1 A and AA, every step is kept as a screenshot, and
// no page or answer may hold the password. Run by crates/cli/tests/serve_web.rs.
//
// Environment: FERRY_URL (the server), ARTIFACTS (a folder for screenshots and downloads),
// IMAP_ADDRESS and IMAP_PASSWORD (an account holding mail). Prints one JSON line per
// downloaded package; exits 1, listing every problem, if anything was wrong.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.FERRY_URL;
const out = process.env.ARTIFACTS;
const imapAddress = process.env.IMAP_ADDRESS;
const secret = process.env.IMAP_PASSWORD;
if (!base || !out || !imapAddress || !secret) {
  console.error('FERRY_URL, ARTIFACTS, IMAP_ADDRESS and IMAP_PASSWORD must be set');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const problems = [];
const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];

for (const vp of viewports) {
  const context = await browser.newContext({
    viewport: vp.viewport, isMobile: !!vp.isMobile, hasTouch: !!vp.hasTouch,
    deviceScaleFactor: vp.deviceScaleFactor || 1, acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  // a form sent wrong is answered 400, which the console reports: expected then only
  let expectBadRequest = false;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expectBadRequest && m.text().includes('status of 400')) return;
    problems.push(`${vp.name}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${vp.name}: script error: ${e.message}`));
  page.on('response', async (r) => {
    const type = r.headers()['content-type'] || '';
    if (!/text|json/.test(type)) return;
    const body = await r.text().catch(() => '');
    if (body.includes(secret)) problems.push(`${vp.name}: the password is in the answer to ${r.url()}`);
    if (r.url().includes(secret)) problems.push(`${vp.name}: the password is in a URL`);
  });

  let step = 0;
  const shot = async (name) => {
    step += 1;
    await page.screenshot({ path: `${out}/${vp.name}-${String(step).padStart(2, '0')}-${name}.png`, fullPage: true });
  };
  const axe = async (name) => {
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }));
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
      problems.push(`${vp.name} ${name}: axe ${v.id} (${v.impact}): ${v.help} at ${where}`);
    }
  };
  const press = async (name) => {
    const button = page.getByRole('button', { name });
    if (vp.hasTouch) await button.tap(); else await button.click();
  };
  const finished = async (name) => {
    await page.waitForURL(/\/jobs\/[0-9a-f]+$/);
    await shot(`${name}-progress`);
    await page.locator('.status').filter({ hasText: /^(Done|Trial done|Stopped|Cancelled)/ }).waitFor({ timeout: 120000 });
    const status = await page.locator('.status').innerText();
    if (!status.startsWith('Done: all')) problems.push(`${vp.name} ${name}: ended "${status}"`);
    await shot(`${name}-report`);
    await axe(`${name} report`);
  };
  const download = async (name) => {
    const [file] = await Promise.all([page.waitForEvent('download'), press('Download the package')]);
    const path = `${out}/${vp.name}-${name}.zip`;
    await file.saveAs(path);
    console.log(JSON.stringify({ package: path }));
  };

  // the home page, then the example account into a package
  await page.goto(`${base}/`);
  await shot('home');
  await axe('home');
  if (vp.name === 'desktop') {
    // the keyboard alone: Tab to the button, Enter
    let reached = false;
    for (let i = 0; i < 80 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === 'Start the transfer');
    }
    if (!reached) problems.push('desktop: the start button cannot be reached with Tab');
    await page.keyboard.press('Enter');
  } else {
    await press('Start the transfer');
  }
  await finished('example-package');
  await download('example');

  // the example account into a folder on the server
  await page.goto(`${base}/`);
  await page.locator('#destination-dir').check();
  await page.locator('#destination-dir-address').fill(`people/${vp.name}`);
  await shot('folder-form');
  await press('Start the transfer');
  await finished('example-folder');

  // mail from a real IMAP server, with its password
  await page.goto(`${base}/`);
  await page.locator('input[name="verticals"][value="mail"]').check();
  await page.locator('#source-imap').check();
  await page.locator('#source-imap-address').fill(imapAddress);
  await page.locator('#source-imap-password').fill(secret);
  await shot('imap-form');
  await press('Start the transfer');
  await finished('imap-package');
  await download('imap');

  // a form sent without the password: said plainly, the form kept
  expectBadRequest = true;
  await page.goto(`${base}/`);
  await page.locator('#source-imap').check();
  await page.locator('#source-imap-address').fill(imapAddress);
  await press('Start the transfer');
  await page.getByRole('alert').waitFor();
  if ((await page.locator('#source-imap-address').inputValue()) !== imapAddress) problems.push(`${vp.name}: the form lost what was typed`);
  await shot('error');
  await axe('error');
  expectBadRequest = false;

  // past transfers
  await page.getByRole('link', { name: 'Your transfers' }).click();
  await page.waitForURL(/\/jobs$/);
  const rows = await page.locator('tbody tr').count();
  if (rows < 3) problems.push(`${vp.name}: ${rows} transfers listed, 3 expected`);
  await shot('jobs');
  await axe('jobs');
  await context.close();
}

await browser.close();
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
