import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('console: customer reports', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows a customer's report of a bad number under Supply, with its note and refund, and counts it on the provider", async () => {
    const provider = await server.createProvider({ countryId: 6, count: 2 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const { activation } = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data;
    const reported = await api.post(`/api/v1/activations/${activation.id}/report`, { reason: 'used', note: 'Already registered on Telegram' });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));

    const admin = await newVisitor(browser, server.url, { width: 1440, height: 900 });
    const page = admin.page;
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Supply', exact: true }).click();
    await page.getByRole('heading', { name: 'Supply', exact: true }).waitFor();

    const providerRow = page.getByRole('table', { name: 'Providers' }).locator(`tr[data-provider-id="${provider.providerId}"]`);
    assert.equal((await providerRow.getByTestId('provider-reports').textContent())?.trim(), '1 reported by customers');

    await page.getByRole('tab', { name: 'Customer reports' }).click();
    const row = page.getByRole('table', { name: 'Customer reports' }).locator(`tr[data-report-id]`).first();
    await row.waitFor();
    const text = (await row.innerText()).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(activation.number.replace('+', '\\+')));
    assert.match(text, /Already used/);
    assert.match(text, /Already registered on Telegram/);
    assert.match(text, /refunded/);
    assert.match(text, /cancelled/);
    await screenshot(page, 'console-customer-reports');

    // Filtering by another reason leaves nothing.
    await page.getByRole('search', { name: 'Filter reports' }).getByLabel('Reason').selectOption('no_sms');
    await page.getByText('No reports match.').waitFor();
  });
});
