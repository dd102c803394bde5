import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

describe('console: customers and money', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("finds a customer by email, credits them with a reason, and the customer sees it in their Transactions", async () => {
    const customer = await newVisitor(browser, server.url);
    const company = uniqueName('Acme');
    const { email } = await signUpInBrowser(customer.page, server, { company });

    const staff = await newVisitor(browser, server.url);
    const page = staff.page;
    await signInStaffInBrowser(server, page, 'admin');
    await page.getByLabel('Find a customer').fill(email);
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Companies' });
    const row = results.getByRole('row', { name: new RegExp(company) });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`member email: ${email.replace(/[.+]/g, '\\$&')}`));
    await row.getByRole('link', { name: company }).click();
    await page.getByRole('heading', { name: company }).waitFor();
    await page.getByTestId('company-balance').filter({ hasText: '$0.00' }).waitFor();
    await page.getByRole('table', { name: 'Members' }).getByRole('row', { name: new RegExp(`${email.replace(/[.+]/g, '\\$&')}.*owner`) }).waitFor();

    // The reason is mandatory: the form says so before anything is sent.
    await page.getByLabel('Amount in USD').fill('7.25');
    await page.getByRole('button', { name: 'Apply adjustment' }).click();
    await page.getByRole('alert').filter({ hasText: 'Give a reason' }).waitFor();
    await page.getByLabel('Reason (the customer sees it)').fill('Goodwill credit for ticket 42');
    await page.getByRole('button', { name: 'Apply adjustment' }).click();
    await page.getByRole('status').filter({ hasText: 'Credited $7.25. New balance $7.25.' }).waitFor();
    await page.getByTestId('company-balance').filter({ hasText: '$7.25' }).waitFor();
    const ledgerRow = page.getByRole('table', { name: 'Ledger' }).getByRole('row', { name: /Adjustment.*Goodwill credit for ticket 42.*\+\$7\.25/ });
    await ledgerRow.waitFor();
    // The sidebar is sticky: from the top, a full-page picture shows it in place.
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'console-customer', { fullPage: true });

    // A debit over the balance is refused with the server's reason, and nothing changes.
    await page.getByLabel('Credit or debit').selectOption('debit');
    await page.getByLabel('Amount in USD').fill('100');
    await page.getByLabel('Reason (the customer sees it)').fill('Too much');
    await page.getByRole('button', { name: 'Apply adjustment' }).click();
    await page.getByRole('alert').filter({ hasText: /balance/i }).waitFor();
    await page.getByTestId('company-balance').filter({ hasText: '$7.25' }).waitFor();

    // The ledger row links to its audit entry.
    await ledgerRow.getByRole('link', { name: /entry \d+/ }).click();
    const audit = page.getByRole('table', { name: 'Audit entries' }).getByRole('row', { name: /balance\.adjust/ });
    await audit.waitFor();
    assert.match(await audit.innerText(), /Goodwill credit for ticket 42/);

    await customer.page.goto('/transactions');
    await customer.page
      .getByRole('table', { name: 'Transactions' })
      .getByRole('row', { name: /Adjustment.*Goodwill credit for ticket 42.*\+\$7\.25/ })
      .waitFor();
    await customer.context.close();
    await staff.context.close();
  });

  it("blocks a company, which turns its API key away with 403 account_blocked, and unblocks it", async () => {
    const { companyId, apiKey } = await server.createCompany('1');
    assert.equal((await server.api(apiKey).get('/api/v1/balance')).status, 200);
    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'admin');
    await page.goto(`/console/customers/${companyId}`);
    await page.getByRole('button', { name: 'Block company' }).click();
    await page.getByRole('alert').filter({ hasText: 'Say why' }).waitFor();
    await page.getByLabel('Reason for blocking').fill('Chargeback fraud');
    await page.getByRole('button', { name: 'Block company' }).click();
    await page.getByRole('heading', { name: 'Blocked', exact: true }).waitFor();
    await page.getByText(/Chargeback fraud\. Its API keys/).waitFor();

    const refused = await server.api(apiKey).get('/api/v1/balance');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'account_blocked');
    assert.match(refused.body.error.message, /support/i);

    await page.getByLabel('Reason for unblocking (optional)').fill('Chargeback withdrawn');
    await page.getByRole('button', { name: 'Unblock company' }).click();
    await page.getByRole('heading', { name: 'Block the company' }).waitFor();
    assert.equal((await server.api(apiKey).get('/api/v1/balance')).status, 200);
    await context.close();
  });

  it('a signed-in customer of a blocked company sees on the website that it is blocked and whom to contact', async () => {
    const customer = await newVisitor(browser, server.url);
    await signUpInBrowser(customer.page, server, { company: uniqueName('Blocked') });
    const session = await customer.page.evaluate(() => fetch('/api/web/session').then((r) => r.json()));
    const admin = await signInStaff(server, 'admin');
    const blocked = await admin.client.post(`/companies/${session.data.account.company_id}/block`, { reason: 'Card testing' });
    assert.equal(blocked.status, 200);

    await customer.page.goto('/dashboard');
    // The banner on every page (the dashboard's own requests say the same where they fail).
    await customer.page.getByRole('alert').filter({ hasText: /blocked; contact Nova SMS support/ }).first().waitFor();
    await customer.page.goto('/docs');
    await customer.page.getByRole('alert').filter({ hasText: /blocked; contact Nova SMS support/ }).first().waitFor();
    // The staff's internal reason stays internal.
    assert.doesNotMatch(await customer.page.locator('body').innerText(), /Card testing/);
    await customer.context.close();
  });

  it("rotates a member's key: the old key stops working at once", async () => {
    const { companyId, apiKey } = await server.createCompany();
    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'admin');
    await page.goto(`/console/customers/${companyId}`);
    const members = page.getByRole('table', { name: 'Members' });
    const keyPrefix = (await members.getByRole('row').nth(1).locator('code').textContent())!;
    await members.getByRole('button', { name: /^Rotate the key of / }).click();
    await members.getByRole('button', { name: /^Confirm: rotate the key of / }).click();
    await page.getByRole('status').filter({ hasText: 'The old key stopped working' }).waitFor();
    await members.locator('code').filter({ hasNotText: keyPrefix }).waitFor();
    assert.equal((await server.api(apiKey).get('/api/v1/balance')).status, 401);
    await context.close();
  });

  it('shows support staff a company read-only', async () => {
    const { companyId } = await server.createCompany('2');
    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'support');
    await page.goto(`/console/customers/${companyId}`);
    await page.getByTestId('company-balance').filter({ hasText: '$2.00' }).waitFor();
    await page.getByText('Support staff see customers read-only').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Apply adjustment' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Rotate/ }).count(), 0);
    await context.close();
  });
});
