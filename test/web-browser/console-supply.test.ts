import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

/** The public price table's Telegram · United States row, read after a fresh load. */
async function telegramUsRow(page: Page) {
  await page.goto('/');
  const prices = page.getByRole('table', { name: 'Prices by service and country' });
  const row = prices.getByRole('row', { name: /Telegram.*United States/ });
  await row.waitFor();
  return (await row.innerText()).replace(/\s+/g, ' ');
}

describe('console: supply', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('creates a provider (secret shown once), imports numbers from CSV and stock rises on the public price table; retire, history and attaching an unmatched SMS', async () => {
    const visitor = await newVisitor(browser, server.url);
    assert.match(await telegramUsRow(visitor.page), /Out of stock/, 'no US stock before the import');

    const admin = await newVisitor(browser, server.url, { width: 1440, height: 900 });
    const page = admin.page;
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Supply', exact: true }).click();
    await page.getByRole('heading', { name: 'Supply', exact: true }).waitFor();

    // A new HTTP provider: its secret is shown once, with a copy button.
    await page.getByLabel('Provider name').fill('modem-room');
    await page.getByLabel('Cost per number in USD (optional)').fill('0.05');
    await page.getByRole('button', { name: 'Create provider' }).click();
    const credentials = page.getByTestId('provider-credentials');
    await credentials.getByText('shown only once').waitFor();
    const secret = (await credentials.getByTestId('provider-secret').textContent())!.trim();
    assert.match(secret, /^nps_/);
    await credentials.getByRole('button', { name: 'Copy secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await credentials.getByRole('button', { name: 'I have copied it' }).click();
    const providers = page.getByRole('table', { name: 'Providers' });
    const providerRow = providers.getByRole('row', { name: /modem-room/ });
    await providerRow.getByText('enabled').waitFor();
    assert.match(await providerRow.innerText(), /\$0\.05/);

    // A CSV with bad lines imports nothing and says which lines to fix.
    await providerRow.getByRole('button', { name: 'Import numbers for modem-room' }).click();
    assert.match((await page.getByLabel('Provider for the numbers').locator('option:checked').textContent())!, /modem-room/);
    await page.getByLabel('Numbers (CSV)').fill('e164,country_id\n+16465551000,6\n+1555,6\n+16465551001,999\n');
    await page.getByRole('button', { name: 'Import numbers', exact: true }).click();
    const lineErrors = page.getByRole('list', { name: 'Lines to fix' });
    await lineErrors.waitFor();
    assert.equal(await lineErrors.getByRole('listitem').count(), 2);
    assert.match(await lineErrors.innerText(), /\+1555/);
    assert.match(await lineErrors.innerText(), /999/);
    await page.getByRole('alert').filter({ hasText: 'Nothing was imported' }).waitFor();
    assert.match(await telegramUsRow(visitor.page), /Out of stock/, 'all or nothing');

    // A good paste: three added, the repeated line skipped.
    await page.getByLabel('Numbers (CSV)').fill('e164,country_id\n+16465551000,6\n+16465551001,6\n+16465551002,6\n+16465551002,6\n');
    await page.getByRole('button', { name: 'Import numbers', exact: true }).click();
    await page.getByTestId('import-result').filter({ hasText: 'Added 3 numbers, skipped 1' }).waitFor();
    // And a file upload: one new number, one already known.
    await page.getByLabel('Or a CSV file').setInputFiles({ name: 'sims.csv', mimeType: 'text/csv', buffer: Buffer.from('+16465551003,6\n+16465551000,6\n') });
    await page.waitForFunction(() => [...document.querySelectorAll('textarea')].some((t) => t.value.includes('+16465551003')));
    await page.getByRole('button', { name: 'Import numbers', exact: true }).click();
    await page.getByTestId('import-result').filter({ hasText: 'Added 1 number, skipped 1' }).waitFor();
    await providerRow.getByTestId('provider-numbers').filter({ hasText: /^4$/ }).waitFor();

    // The stock is live on the public price table and the API.
    assert.match(await telegramUsRow(visitor.page), /\$0\.50.*4 in stock/);
    const customer = await server.createCompany('5');
    const api = server.api(customer.apiKey);
    const prices = await api.get('/api/v1/prices');
    assert.equal(prices.status, 200, JSON.stringify(prices.body));
    assert.match(JSON.stringify(prices.body), /"available":4/);

    // Numbers: history of one, retire another; stock falls by one.
    await page.getByRole('tab', { name: 'Numbers' }).click();
    const numbers = page.getByRole('table', { name: 'Numbers' });
    await numbers.getByRole('row', { name: /\+16465551003/ }).waitFor();
    assert.equal(await numbers.getByRole('row').count(), 5, 'a header and four numbers');
    await numbers.getByRole('button', { name: 'History of +16465551003' }).click();
    await page.getByRole('heading', { name: 'History of +16465551003' }).waitFor();
    await page.getByText('Never sold.').waitFor();
    await page.getByRole('button', { name: 'Close history' }).click();
    await numbers.getByRole('button', { name: 'Retire +16465551003' }).click();
    await page.getByLabel('Why retire it? (optional)').fill('SIM returned to the carrier');
    await page.getByRole('button', { name: 'Yes, retire' }).click();
    await numbers.getByRole('row', { name: /\+16465551003/ }).waitFor({ state: 'detached' });
    await page.getByLabel('State').selectOption('retired');
    await numbers.getByRole('row', { name: /\+16465551003.*retired/ }).waitFor();
    assert.match(await telegramUsRow(visitor.page), /3 in stock/);

    // A sale, then an SMS the modem reports for a number we do not know: it shows live as
    // unmatched, and staff attach it to the activation by hand.
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const activation = bought.body.data.activation ?? bought.body.data;
    await page.getByRole('tab', { name: 'Incoming SMS' }).click();
    await page.getByTestId('sms-live').filter({ hasText: 'Live' }).waitFor();
    await page.getByLabel('Unmatched only').check();
    await page.getByText('No unmatched SMS.').waitFor();
    const stray = await server.api(secret).post('/api/v1/supply/sms', { to: '+16465559999', from: 'Telegram', text: 'Telegram code: 24680' });
    assert.equal(stray.status, 200, JSON.stringify(stray.body));
    const smsTable = page.getByRole('table', { name: 'Incoming SMS' });
    const strayRow = smsTable.getByRole('row', { name: /\+16465559999.*24680/ });
    await strayRow.waitFor({ timeout: 3000 });
    await strayRow.getByRole('button', { name: /Attach SMS \d+ to an activation/ }).click();
    await strayRow.getByLabel('Activation id').fill(String(activation.id));
    await strayRow.getByRole('button', { name: 'Attach', exact: true }).click();
    await strayRow.waitFor({ state: 'detached' });
    const status = await api.get(`/api/v1/activations/${activation.id}`);
    const attached = status.body.data.activation ?? status.body.data;
    assert.equal(attached.status, 'sms_received');
    assert.equal(attached.code, '24680');

    // A matching SMS shows in the full feed, live, with its activation.
    await page.getByLabel('Unmatched only').uncheck();
    await server.api(secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 11223' });
    await smsTable.getByRole('row', { name: new RegExp(`11223.*${activation.id}`) }).waitFor({ timeout: 3000 });

    await page.getByRole('tab', { name: 'Providers' }).click();
    await providers.getByRole('row', { name: /modem-room/ }).waitFor();
    await screenshot(page, 'console-supply');

    // Disable with a reason, then enable again.
    await providers.getByRole('button', { name: 'Disable modem-room' }).click();
    await page.getByLabel('Why disable modem-room? (optional)').fill('Modem overheating');
    await page.getByRole('button', { name: 'Disable provider' }).click();
    await providers.getByTestId('disabled-reason').filter({ hasText: 'Modem overheating' }).waitFor();
    assert.match(await telegramUsRow(visitor.page), /Out of stock/, "a disabled provider's numbers are off sale");
    await providers.getByRole('button', { name: 'Enable modem-room' }).click();
    await providerRow.getByText('enabled').waitFor();

    await visitor.context.close();
    await admin.context.close();
  });
});
