import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('console: activations monitor and feedback', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows today's sales, refunds and margin with charts and per service/provider delivery, then the feedback they left", async () => {
    // A day of business: two Telegram sales in the US, one answered and completed, one cancelled (refunded).
    const { secret } = await server.createProvider({ countryId: 6, count: 3 });
    const customer = await server.createCompany('5');
    const api = server.api(customer.apiKey);
    const buy = async () => {
      const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(bought.status, 201, JSON.stringify(bought.body));
      return (bought.body.data.activation ?? bought.body.data) as { id: number; number: string };
    };
    const answered = await buy();
    const unanswered = await buy();
    server.clock.advance(40);
    assert.equal((await server.api(secret).post('/api/v1/supply/sms', { to: answered.number, from: 'Telegram', text: 'Telegram code: 31337' })).status, 200);
    assert.equal((await api.post(`/api/v1/activations/${answered.id}/complete`)).status, 200);
    server.clock.advance(181);
    assert.equal((await api.post(`/api/v1/activations/${unanswered.id}/cancel`)).status, 200);

    await server.services.support.leaveFeedback({ rating: 5, comment: 'The code came in seconds', context: 'activation', reference: String(answered.id), accountId: customer.accountId });
    const chat = await server.services.support.startConversation(null);
    await server.services.support.post(chat.conversationId, 'visitor', 'Hello?');
    await server.services.support.leaveFeedback({ rating: 2, comment: 'Nobody answered for an hour', context: 'chat', reference: String(chat.conversationId), accountId: null });

    const { page, context } = await newVisitor(browser, server.url, { width: 1440, height: 1000 });
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Activations', exact: true }).click();
    await page.getByRole('heading', { name: 'Activations monitor' }).waitFor();

    const today = page.getByRole('region', { name: 'Today' });
    await today.getByTestId('today-sold').filter({ hasText: '2' }).filter({ hasText: '$1.00 charged' }).waitFor();
    await today.getByTestId('today-refunded').filter({ hasText: '1' }).filter({ hasText: '$0.50' }).waitFor();
    await today.getByTestId('today-revenue').filter({ hasText: '$0.50' }).waitFor();
    const last30 = page.getByRole('region', { name: 'Last 30 days' });
    await last30.getByTestId('last30-sold').filter({ hasText: '2' }).waitFor();
    // The charts draw (uPlot canvases) and say the same numbers as a table.
    const salesChart = page.getByRole('figure', { name: 'Activations per day' });
    await salesChart.locator('canvas').first().waitFor();
    await page.getByRole('figure', { name: 'Money per day (USD)' }).locator('canvas').first().waitFor();
    await salesChart.getByText('Show the numbers').click();
    const lastDay = salesChart.getByRole('table', { name: 'Activations per day by day' }).getByRole('row').last();
    assert.match((await lastDay.innerText()).replace(/\s+/g, ' '), /2 1$/, "today's row: 2 sold, 1 refunded");

    const perServiceCountry = page.getByRole('table', { name: 'Per service and country' });
    const tgRow = perServiceCountry.getByRole('row', { name: /tg.*#6/ });
    await tgRow.waitFor();
    assert.match((await tgRow.innerText()).replace(/\s+/g, ' '), /2 1 with code 50%/);
    await page.getByRole('table', { name: 'Per provider' }).getByRole('row', { name: /provider/ }).waitFor();

    const list = page.getByRole('table', { name: 'Activations', exact: true });
    await list.getByRole('row', { name: /31337/ }).waitFor();
    assert.equal(await list.getByRole('row').count(), 3);
    await page.getByLabel('Status').selectOption('cancelled');
    await list.getByRole('row', { name: new RegExp(unanswered.number.replace('+', '\\+')) }).waitFor();
    await list.getByRole('row', { name: /31337/ }).waitFor({ state: 'detached' });
    assert.equal(await list.getByRole('row').count(), 2);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await list.getByRole('row', { name: /31337/ }).waitFor();
    await salesChart.getByText('Show the numbers').click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'console-monitor');

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Feedback', exact: true }).click();
    await page.getByRole('heading', { name: 'Feedback', exact: true }).waitFor();
    await page.getByTestId('feedback-average').filter({ hasText: '3.50' }).waitFor();
    await page.getByTestId('feedback-count').filter({ hasText: '2' }).waitFor();
    await page.getByRole('figure', { name: 'Average rating and answers per day' }).locator('canvas').first().waitFor();
    const distribution = page.getByRole('table', { name: 'Rating distribution' });
    assert.match((await distribution.getByRole('row', { name: /^5 stars/ }).innerText()).replace(/\s+/g, ' '), /1$/);
    assert.match((await distribution.getByRole('row', { name: /^3 stars/ }).innerText()).replace(/\s+/g, ' '), /0$/);

    const comments = page.getByRole('table', { name: 'Feedback comments' });
    const good = comments.getByRole('row', { name: /The code came in seconds/ });
    await good.getByRole('link', { name: `Activation ${answered.id}` }).waitFor();
    const bad = comments.getByRole('row', { name: /Nobody answered/ });
    await bad.getByText('Anonymous visitor').waitFor();
    await screenshot(page, 'console-feedback');
    // A chat comment leads to its conversation in the inbox.
    await bad.getByRole('link', { name: `Conversation ${chat.conversationId}` }).click();
    await page.getByRole('heading', { name: 'Support inbox' }).waitFor();
    await page.getByRole('list', { name: 'Messages' }).getByText('Hello?').waitFor();
    await context.close();
  });
});
