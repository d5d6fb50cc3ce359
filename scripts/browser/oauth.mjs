// Connecting an account through OAuth 2.0 in ferry's web app, in Debian's headless
// chromium (playwright-core): a person connects their "Example Cloud" account (the real
// authorization server, oidc-provider, signs them in and grants at once), a second person
// tries to use that connection and is refused, the provider's answer is replayed and
// refused, and the first person moves a folder to the account. Run by
// crates/cli/tests/oauth.rs, which checks the resource server, the token requests and the
// revocation. Environment: FERRY_URL, ARTIFACTS, SOURCE_FOLDER. Prints {"job": ID}.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.FERRY_URL;
const out = process.env.ARTIFACTS;
const folder = process.env.SOURCE_FOLDER;
if (!base || !out || !folder) {
  console.error('FERRY_URL, ARTIFACTS and SOURCE_FOLDER must be set');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const problems = [];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const alice = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await alice.newPage();
page.setDefaultTimeout(30000);
let callback = null;
page.on('request', (r) => { if (r.url().includes('/oauth/callback')) callback = r.url(); });

// connect the account for the destination
await page.goto(`${base}/`);
await page.locator('#destination-cloud').check();
await page.screenshot({ path: `${out}/oauth-01-choose.png`, fullPage: true });
await page.getByRole('link', { name: 'Connect your Example Cloud account' }).click();
await page.waitForURL((u) => u.origin === new URL(base).origin && u.pathname === '/');
await page.getByText('Your Example Cloud account is connected.').waitFor();
await page.screenshot({ path: `${out}/oauth-02-connected.png`, fullPage: true });
const account = await page.locator('input[name="destination_account:cloud"]').inputValue();
if (!callback) problems.push('the provider did not send the browser back to the callback');

// a second person, in another browser, with the first one's account id
const bob = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const other = await bob.newPage();
await other.goto(`${base}/?destination_connector=cloud&destination_account=${account}`);
if (await other.getByText('Your Example Cloud account is connected.').count()) problems.push("another person's page shows the account connected");
await other.locator('#destination-cloud').check();
await other.evaluate((id) => {
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = 'destination_account:cloud';
  input.value = id;
  document.querySelector('form.transfer').append(input);
}, account);
await other.getByRole('button', { name: 'Start the transfer' }).click();
await other.getByRole('alert').waitFor();
const refused = await other.getByRole('alert').innerText();
if (!refused.includes('no such connected account')) problems.push(`another person's use was answered: ${refused}`);
await other.screenshot({ path: `${out}/oauth-03-someone-else.png`, fullPage: true });

// the provider's answer again: refused
const replay = await (await bob.newPage()).goto(callback);
if (replay.status() !== 403) problems.push(`a replayed callback was answered ${replay.status()}`);
const replayAlice = await (await alice.newPage()).goto(callback);
if (replayAlice.status() !== 403) problems.push(`a replayed callback (same session) was answered ${replayAlice.status()}`);

// the transfer, from a folder on the server to the account
await page.locator('#source-dir').check();
await page.locator('#source-dir-address').fill(folder);
await page.getByRole('button', { name: 'Start the transfer' }).click();
await page.waitForURL(/\/jobs\/[0-9a-f]+$/);
const job = page.url().split('/').pop();
await page.locator('.status').filter({ hasText: /^(Done|Stopped|Cancelled)/ }).waitFor({ timeout: 120000 });
const status = await page.locator('.status').innerText();
if (!status.startsWith('Done: all')) problems.push(`the transfer ended "${status}": ${await page.locator('.reason').allInnerTexts()}`);
await page.screenshot({ path: `${out}/oauth-04-done.png`, fullPage: true });
console.log(JSON.stringify({ job, account }));
await browser.close();
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
