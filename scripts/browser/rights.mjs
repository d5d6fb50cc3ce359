// A person asks a shop for their data on ferry's request page, and staff answer it on
// the staff pages, in Debian's headless chromium driven by playwright-core, at a desktop
// and a phone viewport: the request form, the request's page with its code form (a wrong
// code), staff's sign-in, the queue, the request with its history, drawing the answer up,
// withholding a row from the preview with a reason, delivering it sealed; then the
// person's page with the download links. Every page is checked by axe-core for WCAG 2.1
// A and AA, and kept as a screenshot. Run by crates/cli/tests/serve_web.rs.
//
// Environment: FERRY_URL (the server, with [requests] set up), ARTIFACTS (a folder for
// screenshots), STAFF_TOKEN (an operator's API token). Exits 1, listing every problem.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.FERRY_URL;
const out = process.env.ARTIFACTS;
const token = process.env.STAFF_TOKEN;
if (!base || !out || !token) {
  console.error('FERRY_URL, ARTIFACTS and STAFF_TOKEN must be set');
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
  { name: 'desktop', viewport: { width: 1280, height: 900 }, email: 'alice@example.com' },
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, email: 'bob@example.com' },
];

for (const vp of viewports) {
  const context = await browser.newContext({
    viewport: vp.viewport, isMobile: !!vp.isMobile, hasTouch: !!vp.hasTouch, deviceScaleFactor: vp.deviceScaleFactor || 1,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  let expectBadRequest = false;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expectBadRequest && m.text().includes('status of 400')) return;
    problems.push(`${vp.name}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${vp.name}: script error: ${e.message}`));
  let step = 0;
  const shot = async (name) => {
    step += 1;
    await page.screenshot({ path: `${out}/rights-${vp.name}-${String(step).padStart(2, '0')}-${name}.png`, fullPage: true });
  };
  const axe = async (name) => {
    await shot(name);
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }));
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
      problems.push(`${vp.name} ${name}: axe ${v.id} (${v.impact}): ${v.help} at ${where}`);
    }
  };
  // every button here sends a form: it is done when the next page has loaded
  const press = async (name) => {
    const button = page.getByRole('button', { name, exact: true }).first();
    const loaded = page.waitForEvent('load');
    if (vp.hasTouch) await button.tap(); else await button.click();
    await loaded;
  };
  const expect = async (text, where) => {
    if (!(await page.getByText(text).first().isVisible().catch(() => false))) problems.push(`${vp.name} ${where}: "${text}" is not shown`);
  };

  // the person asks
  await page.goto(`${base}/rights`);
  await axe('request form');
  await page.getByLabel('Your email address').fill(vp.email);
  await page.getByLabel('A copy of all my data, with how it is used').check();
  await press('Send my request');
  await page.waitForURL(/\/rights\/R-[0-9a-f]+\?key=/);
  const requestUrl = page.url();
  await expect('Confirm that it is you', 'request page');
  await axe('request page');
  expectBadRequest = true;
  await page.getByLabel('The code').fill('000000');
  await press('Confirm');
  await expect('tries left', 'wrong code');
  await axe('wrong code');
  expectBadRequest = false;

  // staff answer it
  await page.goto(`${base}/staff`);
  await axe('staff sign-in');
  await page.getByLabel('Your API token').fill(token);
  await press('Sign in');
  await page.waitForURL(/\/staff$/);
  await axe('queue');
  const id = requestUrl.match(/R-[0-9a-f]+/)[0];
  await page.getByRole('link', { name: id }).click();
  await page.waitForURL(new RegExp(`/staff/requests/${id}$`));
  await axe('staff request');
  await page.getByLabel('Identity confirmed by staff: how').fill('seen at the desk with a passport');
  await press('Record');
  await press('Draw up the answer for review');
  await expect('Drawn up for review', 'draw up');
  await axe('preview');
  const reason = page.getByPlaceholder('reason').first();
  await reason.fill("names another customer's complaint");
  await press('Withhold');
  await expect('The row is withheld', 'withhold');
  await press('Seal and deliver');
  await expect('The passphrase, shown this once', 'deliver');
  await axe('delivered');

  // the person's page gives the links
  await page.goto(requestUrl);
  await expect('Your data', 'request page after delivery');
  const links = await page.locator('a[download]').count();
  if (links < 1) problems.push(`${vp.name}: no download link on the person's page`);
  await axe('answer ready');
  await context.close();
}
await browser.close();
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
