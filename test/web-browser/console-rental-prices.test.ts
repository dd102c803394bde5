import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('console: rental prices and rented numbers', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sets a rental price on the Catalog page, live at once for customers and audited', async () => {
    await server.createProvider({ countryId: 16, count: 1, rentable: true });
    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Catalog & pricing' }).click();
    await page.getByRole('tab', { name: 'Rental prices' }).click();
    await page.getByText('No rental prices yet').waitFor();

    await page.getByLabel('Rental country').selectOption('16');
    await page.getByLabel('Price per hour (USD)').fill('0.20');
    await page.getByLabel('Price per day (USD)').fill('2.50');
    await page.getByRole('button', { name: 'Set rental price' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved: United Kingdom, any operator: $0.20 an hour, $2.50 a day.' }).waitFor();
    const table = page.getByRole('table', { name: 'Rental prices' });
    const row = table.getByRole('row', { name: /United Kingdom \(16\).*any.*\$0\.20.*\$2\.50.*1/ });
    await row.waitFor();

    const { apiKey } = await server.createCompany();
    const prices = await server.api(apiKey).get('/api/v1/rentals/prices?country=16');
    assert.deepEqual(prices.body.data.prices, [{ country: 16, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 1 }]);

    // Edit fills the form with the row; a bad price is refused with the server's message.
    await page.getByRole('button', { name: 'Edit the rental price of 16:any' }).click();
    assert.equal(await page.getByLabel('Price per hour (USD)').inputValue(), '0.2');
    await page.getByLabel('Price per day (USD)').fill('0');
    await page.getByRole('button', { name: 'Set rental price' }).click();
    await page.getByText(/Price per day "0" must be a positive USD amount/).waitFor();
    await page.getByLabel('Price per day (USD)').fill('3');
    await page.getByRole('button', { name: 'Set rental price' }).click();
    await table.getByRole('row', { name: /United Kingdom \(16\).*\$0\.20.*\$3\.00/ }).waitFor();

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('rental_price.set');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    const entry = page.getByRole('table', { name: 'Audit entries' }).getByRole('row', { name: /rental_price\.set/ }).first();
    await entry.waitFor();
    assert.match(await entry.innerText(), /2\.5.*→.*3/s);
    await context.close();
  });

  it('shows a rented number as busy with its rental, and marks rentable numbers, on the Supply page', async () => {
    await server.services.rentals.setPrice({ countryId: 6, pricePerHour: 2000, pricePerDay: 25_000 });
    const { numbers } = await server.createProvider({ countryId: 6, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const rented = await server.api(apiKey).post('/api/v1/rentals', { country_id: 6, hours: 1 });
    assert.equal(rented.status, 201, JSON.stringify(rented.body));
    assert.equal(rented.body.data.rental.number, numbers[0]);

    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Supply' }).click();
    await page.getByRole('tab', { name: 'Numbers' }).click();
    await page.getByLabel('State').selectOption('busy');
    const row = page.getByRole('table', { name: 'Numbers' }).locator(`tr[data-number="${numbers[0]}"]`);
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /busy/);
    assert.match(text, new RegExp(`rental ${rented.body.data.rental.id}`));
    assert.match(text, /rentable/);
    await context.close();
  });
});
