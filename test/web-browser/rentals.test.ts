import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: renting a number and reading its messages live', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    // $0.10 an hour, $1.00 a day in the United States.
    await server.services.rentals.setPrice({ countryId: 6, pricePerHour: 1000, pricePerDay: 10_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('rents a number at the quoted price, shows two SMS live newest first without a reload, extends it, refuses cancel after an SMS and finishes it', async () => {
    const { secret } = await server.createProvider({ countryId: 6, count: 2, rentable: true });
    const { context, page } = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(page, server);
    await server.services.billing.credit({ companyId: account.company_id, amount: 50_000, kind: 'topup', reason: 'test credit' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rentals' }).click();
    await page.getByRole('heading', { name: 'Rentals', level: 1 }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$5.00' }).waitFor();
    const prices = page.getByRole('table', { name: 'Rental prices' });
    await prices.getByRole('row', { name: /United States.*Any operator.*\$0\.10.*\$1\.00.*2 in stock/ }).waitFor();

    // The price shows before paying, and follows the hours typed.
    await page.getByLabel('Country').selectOption({ label: 'United States — 2 in stock' });
    await page.getByLabel(/^Hours/).fill('30');
    await page.getByTestId('rent-quote').filter({ hasText: '1 day 6 hours in United States: $1.60' }).waitFor();
    await page.getByLabel(/^Hours/).fill('721');
    await page.getByRole('alert').filter({ hasText: 'between 1 and 720 hours' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Rent for/ }).count(), 0, 'no price to pay for 721 hours');
    await page.getByLabel(/^Hours/).fill('3');
    await page.getByTestId('rent-quote').filter({ hasText: '3 hours in United States: $0.30' }).waitFor();
    await page.getByRole('button', { name: 'Rent for $0.30' }).click();

    const rental = page.locator('section.rental');
    await rental.getByTestId('rental-status').filter({ hasText: 'Active' }).waitFor();
    const number = (await rental.getByTestId('rental-number').textContent())!.trim();
    assert.match(number, /^\+1\d{10}$/);
    await rental.getByText('No SMS yet').waitFor();
    await rental.getByText(/0[23]:\d\d:\d\d/).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$4.70' }).waitFor();
    await rental.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByRole('table', { name: 'My rentals' }).getByRole('row', { name: new RegExp(`${number.replace('+', '\\+')}.*Active.*\\$0\\.30`) }).waitFor();

    // Two SMS, pushed to the open page: each appears by itself, the newest on top.
    await page.evaluate(() => Object.assign(window, { novaMarker: 'same page' }));
    const supply = server.api(secret);
    assert.equal((await supply.post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 48213' })).status, 200);
    const messages = rental.getByRole('list', { name: 'Messages' }).getByRole('listitem');
    await messages.first().getByTestId('message-code').filter({ hasText: '48213' }).waitFor({ timeout: 5000 });
    server.clock.advance(30);
    assert.equal((await supply.post('/api/v1/supply/sms', { to: number, from: 'WhatsApp', text: 'Your WhatsApp code: 905118' })).status, 200);
    await messages.first().getByTestId('message-code').filter({ hasText: '905118' }).waitFor({ timeout: 5000 });
    assert.equal(await messages.count(), 2);
    assert.deepEqual(await rental.getByTestId('message-text').allTextContents(), ['Your WhatsApp code: 905118', 'Telegram code: 48213']);
    assert.equal(await page.evaluate(() => (window as unknown as { novaMarker?: string }).novaMarker), 'same page', 'no reload');
    await rental.getByRole('button', { name: 'Copy code 905118' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), '905118');

    // Cancel after an SMS: refused with the server's reason; nothing changes.
    await rental.getByText('only within 20 minutes of renting and before the first SMS').waitFor();
    await rental.getByRole('button', { name: 'Cancel and refund' }).click();
    await rental.getByRole('alert').filter({ hasText: /SMS/ }).waitFor();
    await rental.getByTestId('rental-status').filter({ hasText: 'Active' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$4.70' }).waitFor();

    // Extend by a day: the price shows on the button, the paid hours and balance follow.
    await rental.getByLabel('Extra hours').fill('24');
    await rental.getByRole('button', { name: 'Extend for $1.00' }).click();
    await rental.getByText('1 day 3 hours paid, $1.30 in all').waitFor();
    await rental.getByText(/1d 0[23]:\d\d:\d\d/).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$3.70' }).waitFor();
    await screenshot(page, 'rentals', { fullPage: true });

    const csv = await page.evaluate(async () => (await fetch('/api/web/rentals.csv')).text());
    assert.match(csv, new RegExp(`,${number.replace('+', '\\+')},6,any,1\\.3,active,27,`));
    assert.equal(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'), '/api/web/rentals.csv');

    // Finish: ends at once, the stream stops, the list follows.
    await rental.getByRole('button', { name: 'Finish' }).click();
    await rental.getByRole('button', { name: 'Yes, finish now' }).click();
    await rental.getByTestId('rental-status').filter({ hasText: 'Finished' }).waitFor();
    assert.equal(await rental.getByRole('button', { name: 'Cancel and refund' }).count(), 0);
    assert.equal(await messages.count(), 2, 'the messages stay readable');
    await page.getByRole('table', { name: 'My rentals' }).getByRole('row', { name: new RegExp(`${number.replace('+', '\\+')}.*Finished`) }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$3.70' }).waitFor();

    // A reload opens the same rental from the address.
    await page.reload();
    await page.locator('section.rental').getByTestId('rental-number').filter({ hasText: number }).waitFor();
    await context.close();
  });

  it('cancels a fresh rental with a full refund, and the list filters by status', async () => {
    await server.createProvider({ countryId: 6, count: 1, rentable: true });
    const { context, page } = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(page, server);
    await server.services.billing.credit({ companyId: account.company_id, amount: 10_000, kind: 'topup', reason: 'test credit' });
    await page.goto('/rentals');
    await page.getByTestId('balance').filter({ hasText: '$1.00' }).waitFor();
    await page.getByRole('button', { name: /^Rent in United States/ }).first().click();
    await page.getByLabel(/^Hours/).fill('2');
    await page.getByRole('button', { name: 'Rent for $0.20' }).click();
    const rental = page.locator('section.rental');
    await rental.getByTestId('rental-status').filter({ hasText: 'Active' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$0.80' }).waitFor();
    await rental.getByRole('button', { name: 'Cancel and refund' }).click();
    await rental.getByTestId('rental-status').filter({ hasText: 'Cancelled' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$1.00' }).waitFor();

    const list = page.getByRole('table', { name: 'My rentals' });
    await page.getByLabel('Status').selectOption('active');
    await page.getByText('No rentals with this status.').waitFor();
    await page.getByLabel('Status').selectOption('cancelled');
    await list.getByRole('row', { name: /Cancelled/ }).waitFor();
    await context.close();
  });
});
