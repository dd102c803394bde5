import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { feedback } from '../../src/modules/support/support.tables.ts';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser, uniqueEmail } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { outboxReader } from '../web/web-client.ts';

describe('website: from the landing page to a received code', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs a new visitor up, tops up in demo mode, buys a number and shows the code the moment the SMS lands', async () => {
    const { secret } = await server.createProvider({ countryId: 6, count: 3 });
    const { context, page } = await newVisitor(browser, server.url);

    await page.goto('/');
    const prices = page.getByRole('table', { name: 'Prices by service and country' });
    await prices.getByRole('row', { name: /Telegram.*United States.*\$0\.50.*3 in stock/ }).waitFor();
    await prices.getByRole('row', { name: /WhatsApp.*United States.*\$0\.75/ }).waitFor();
    await page.getByLabel('Search').fill('united kingdom');
    await prices.getByRole('row', { name: /Telegram.*United Kingdom.*\$0\.60.*Out of stock/ }).waitFor();
    assert.equal(await prices.getByRole('row', { name: /United States/ }).count(), 0, 'the search hides other countries');
    await page.getByLabel('Search').fill('');
    await screenshot(page, 'landing', { fullPage: true });

    await page.getByRole('link', { name: 'Create a free account' }).click();
    const email = uniqueEmail('newcomer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up' }).click();
    // No account yet: it is created from the emailed link (the same answer for a taken email).
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.getByRole('status').filter({ hasText: email }).waitFor();
    const link = new URL(/\S*\/confirm-signup\?token=\S+/.exec(await outboxReader(server.database)(email))![0]);
    await page.goto(link.pathname + link.search);
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$0.00' }).waitFor();
    await page.getByText('No active numbers.').waitFor();

    // Top up with the demo provider: clearly labelled, credited at once, in the ledger.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Top up' }).click();
    await page.getByText('Demo payment', { exact: false }).first().waitFor();
    await page.getByLabel('Amount in USD').fill('5');
    await page.getByRole('button', { name: 'Add funds (demo payment)' }).click();
    await page.getByRole('status').filter({ hasText: 'Added $5.00' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$5.00' }).waitFor();
    await screenshot(page, 'top-up');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('balance').filter({ hasText: '$5.00' }).waitFor();
    await page.getByLabel('Find a service and country').fill('telegram');
    await page.getByText('Telegram · United States').click();
    await page.getByTestId('buy-summary').filter({ hasText: '$0.50' }).filter({ hasText: '3 in stock' }).waitFor();
    await page.getByRole('button', { name: 'Buy for $0.50' }).click();

    const card = page.locator('li.activation');
    await card.getByText('Waiting for the SMS').waitFor();
    const number = (await card.getByTestId('number').textContent())!.trim();
    assert.match(number, /^\+1\d{10}$/);
    assert.equal(await card.getByRole('button', { name: 'Cancel and refund' }).isDisabled(), true, 'cancel waits 3 minutes');
    await card.getByText(/Cancel available in [23]:\d\d/).waitFor();
    await card.getByText(/Expires in (19|20):\d\d/).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$4.50' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    // While waiting the page asks nothing: the code comes pushed over server-sent events.
    const requests: string[] = [];
    page.on('request', (request) => {
      // A reconnect of the event stream itself is not polling.
      if (!request.url().endsWith('/api/web/live')) requests.push(request.url());
    });
    await page.evaluate(() => Object.assign(window, { novaMarker: 'same page' }));
    await page.waitForTimeout(2500);
    assert.deepEqual(requests, [], 'no polling while waiting for the SMS');

    const sms = await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 48213' });
    assert.equal(sms.status, 200, JSON.stringify(sms.body));
    await card.getByTestId('code').filter({ hasText: '48213' }).waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as { novaMarker?: string }).novaMarker), 'same page', 'no reload');
    await card.getByText('Code received').waitFor();
    await screenshot(page, 'dashboard', { fullPage: true });

    await card.getByRole('button', { name: 'Complete' }).click();
    const notice = page.getByTestId('completed-notice');
    await notice.getByText('How was your experience?').waitFor();
    await notice.getByRole('radio', { name: '4 stars' }).check();
    await notice.getByLabel('Comment (optional)').fill('Fast code, thanks');
    await notice.getByRole('button', { name: 'Send feedback' }).click();
    await notice.getByText('Thanks for your feedback!').waitFor();
    const activationId = (await notice.textContent())!.match(/Activation (\d+) is complete/)?.[1];
    const [stored] = await server.database.db.select().from(feedback).where(eq(feedback.comment, 'Fast code, thanks'));
    assert.equal(stored?.rating, 4);
    assert.equal(stored?.context, 'activation');
    assert.equal(stored?.reference, activationId, 'the feedback names the activation');
    await page.getByText('No active numbers.').waitFor();

    const history = page.getByRole('table', { name: 'Activation history' });
    await history.getByRole('row', { name: new RegExp(`${number.replace('+', '\\+')}.*Completed.*48213`) }).waitFor();
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByText('No activations with this status.').waitFor();
    await page.getByLabel('Status').selectOption('completed');
    await history.getByRole('row', { name: /48213/ }).waitFor();
    const csv = await page.evaluate(async () => (await fetch('/api/web/activations.csv?status=completed')).text());
    assert.match(csv, /48213/);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transactions' }).click();
    const ledger = page.getByRole('table', { name: 'Transactions' });
    await ledger.getByRole('row').nth(2).waitFor();
    assert.match(await ledger.innerText(), /\+\$5\.00/);
    assert.match(await ledger.innerText(), /−\$0\.50/);

    // Sign out, then back in with the same password.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Create a free account' }).waitFor();
    await page.goto('/dashboard');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByTestId('balance').filter({ hasText: '$4.50' }).waitFor();
    await context.close();
  });

  it('keeps cancel disabled until three minutes after purchase, then refunds', async () => {
    await server.createProvider({ countryId: 6, count: 1 });
    const { context, page } = await newVisitor(browser, server.url);
    await page.clock.install();
    const { account } = await signUpInBrowser(page, server);
    await server.services.billing.credit({ companyId: account.company_id, amount: 10_000, kind: 'topup', reason: 'test credit' });
    await page.reload();
    await page.getByTestId('balance').filter({ hasText: '$1.00' }).waitFor();
    await page.getByText('Telegram · United States').click();
    await page.getByRole('button', { name: 'Buy for $0.50' }).click();
    const card = page.locator('li.activation');
    const cancel = card.getByRole('button', { name: 'Cancel and refund' });
    await card.getByText(/Cancel available in [23]:\d\d/).waitFor();
    assert.equal(await cancel.isDisabled(), true);

    server.clock.advance(181);
    await page.clock.fastForward('03:05');
    await card.getByText(/Cancel available in/).waitFor({ state: 'detached' });
    assert.equal(await cancel.isEnabled(), true);
    await cancel.click();
    await page.getByText('No active numbers.').waitFor();
    await page.getByTestId('balance').filter({ hasText: '$1.00' }).waitFor();
    await page.getByRole('table', { name: 'Activation history' }).getByText('Cancelled').waitFor();
    await context.close();
  });
});
