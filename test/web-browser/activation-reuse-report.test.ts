import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const escaped = (text: string) => text.replace(/[+]/g, '\\+');

describe('website: buying a number again and reporting a bad one', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Buys Telegram in the United States from the dashboard; returns the number of the new waiting card. */
  async function buyTelegram(page: Page): Promise<string> {
    const before = await page.locator('li.activation').count();
    await page.getByText('Telegram · United States').click();
    await page.getByRole('button', { name: 'Buy for $0.50' }).click();
    await page.locator('li.activation').nth(before).waitFor();
    return (await page.locator('li.activation').first().getByTestId('number').textContent())!.trim();
  }

  it('buys a completed activation’s number again, refuses it while that number is busy or reported, and refunds a "used" report at once', async () => {
    const { secret } = await server.createProvider({ countryId: 6, count: 2 });
    const { context, page } = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(page, server);
    await server.services.billing.credit({ companyId: account.company_id, amount: 30_000, kind: 'topup', reason: 'test credit' });
    await page.reload();
    await page.getByTestId('balance').filter({ hasText: '$3.00' }).waitFor();

    const number = await buyTelegram(page);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    assert.equal((await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 51515' })).status, 200);
    const card = page.locator('li.activation');
    await card.getByTestId('code').filter({ hasText: '51515' }).waitFor();
    assert.equal(await card.getByRole('button', { name: 'Report number' }).count(), 0, 'only a waiting activation can be reported');
    await card.getByRole('button', { name: 'Complete' }).click();
    await page.getByText('No active numbers.').waitFor();
    await page.getByTestId('balance').filter({ hasText: '$2.50' }).waitFor();

    // Buy again from the history: the same number, waiting again, charged again.
    const history = page.getByRole('table', { name: 'Activation history' });
    const completedRow = history.getByRole('row', { name: new RegExp(`${escaped(number)}.*Completed.*51515`) });
    await completedRow.getByRole('button', { name: `Buy again ${number}` }).click();
    await card.getByText('Waiting for the SMS').waitFor();
    assert.equal((await card.getByTestId('number').textContent())!.trim(), number);
    await page.getByTestId('balance').filter({ hasText: '$2.00' }).waitFor();
    const reusedId = Number(await card.getAttribute('data-activation-id'));
    const firstId = reusedId - 1;
    await history.getByRole('row', { name: new RegExp(`^${reusedId} .*Waiting for SMS.*again after ${firstId}`) }).waitFor();
    const csv = await page.evaluate(async () => (await fetch('/api/web/activations.csv')).text());
    assert.match(csv.split('\r\n')[0], /,reused_from,report_reason,report_refunded$/);
    assert.match(csv, new RegExp(`^${reusedId},${escaped(number)},tg,6,0\\.5,waiting,,.*,${firstId},,\\r$`, 'm'));

    // While the number waits in the new activation, buying it again is refused with the server's reason.
    await completedRow.getByRole('button', { name: `Buy again ${number}` }).click();
    await page.getByRole('alert').filter({ hasText: `Activation ${firstId}:` }).filter({ hasText: 'buy a new number instead' }).waitFor();
    assert.equal(await page.locator('li.activation').count(), 1);

    // Report the number as already used: cancelled and refunded at once, no 3-minute wait.
    await card.getByRole('button', { name: 'Report number' }).click();
    const form = page.getByRole('form', { name: `Report number ${number}` });
    await form.getByLabel('What is wrong with the number?').selectOption('used');
    await form.getByLabel('Note (optional)').fill('Telegram says this number is taken');
    await screenshot(page, 'activation-report');
    await form.getByRole('button', { name: 'Send report' }).click();
    await page.getByTestId('report-notice').filter({ hasText: `activation ${reusedId} is refunded` }).waitFor();
    await page.getByText('No active numbers.').waitFor();
    await page.getByTestId('balance').filter({ hasText: '$2.50' }).waitFor();
    // The history says so, and the CSV too.
    await history.getByRole('row', { name: new RegExp(`^${reusedId} .*reported: already used for this service, refunded`) }).waitFor();
    const reportedCsv = await page.evaluate(async () => (await fetch('/api/web/activations.csv')).text());
    assert.match(reportedCsv, new RegExp(`^${reusedId},.*,${firstId},used,true\\r$`, 'm'));

    // A number reported as used is not offered again for the service.
    await completedRow.getByRole('button', { name: `Buy again ${number}` }).click();
    await page.getByRole('alert').filter({ hasText: 'was reported as used or blocked' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$2.50' }).waitFor();
    await context.close();
  });

  it('records a "no SMS" report while the activation goes on waiting, and shows the refusal of a second report', async () => {
    await server.createProvider({ countryId: 6, count: 1 });
    const { context, page } = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(page, server);
    await server.services.billing.credit({ companyId: account.company_id, amount: 10_000, kind: 'topup', reason: 'test credit' });
    await page.reload();
    await page.getByTestId('balance').filter({ hasText: '$1.00' }).waitFor();
    const number = await buyTelegram(page);
    const card = page.locator('li.activation');

    await card.getByRole('button', { name: 'Report number' }).click();
    let form = page.getByRole('form', { name: `Report number ${number}` });
    await form.getByLabel('What is wrong with the number?').selectOption('no_sms');
    await form.getByRole('button', { name: 'Send report' }).click();
    await page.getByTestId('report-notice').filter({ hasText: 'stays open until its SMS comes or it expires' }).waitFor();
    await card.getByText('Waiting for the SMS').waitFor();
    await page.getByTestId('balance').filter({ hasText: '$0.50' }).waitFor();

    await card.getByRole('button', { name: 'Report number' }).click();
    form = page.getByRole('form', { name: `Report number ${number}` });
    await form.getByLabel('What is wrong with the number?').selectOption('blocked');
    await form.getByRole('button', { name: 'Send report' }).click();
    await form.getByRole('alert').filter({ hasText: 'already reported' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$0.50' }).waitFor();
    await context.close();
  });
});
