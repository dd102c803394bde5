import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser, uniqueEmail } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: company team', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("invites a member by link; the member gets its own key and can't see the owner's activations", async () => {
    await server.createProvider({ countryId: 6, count: 2 });
    const owner = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(owner.page, server, { company: 'Acme Verification' });
    await server.services.billing.credit({ companyId: account.company_id, amount: 50_000, kind: 'topup', reason: 'test credit' });

    // The owner buys a number.
    await owner.page.reload();
    await owner.page.getByText('Telegram · United States').click();
    await owner.page.getByRole('button', { name: 'Buy for $0.50' }).click();
    const ownerNumber = (await owner.page.locator('li.activation').getByTestId('number').textContent())!.trim();
    const ownerActivationId = Number(await owner.page.locator('li.activation').getAttribute('data-activation-id'));

    // Invite a member.
    await owner.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
    await owner.page.getByRole('heading', { name: 'Team', exact: true }).waitFor();
    const memberEmail = uniqueEmail('member');
    await owner.page.getByLabel('Email').fill(memberEmail);
    await owner.page.getByRole('button', { name: 'Send invite' }).click();
    const inviteUrl = (await owner.page.getByTestId('invite-url').textContent())!.trim();
    assert.match(inviteUrl, /\/invite\?token=/);
    await owner.page.getByText(memberEmail).waitFor();

    // The invitee accepts in a browser of their own.
    const member = await newVisitor(browser, server.url);
    await member.page.goto(inviteUrl);
    await member.page.getByText('Acme Verification').waitFor();
    await member.page.getByLabel('Password').fill('member password 1');
    await member.page.getByRole('button', { name: 'Join the team' }).click();
    await member.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await member.page.getByText('No activations yet.').waitFor();
    assert.equal(await member.page.getByText(ownerNumber).count(), 0, "the owner's number is not on the member's dashboard");
    assert.equal(await member.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).count(), 0, 'members have no Team page');

    // Its own key, which can't read the owner's activation either.
    await member.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API access' }).click();
    const memberKey = (await member.page.getByTestId('api-key').textContent())!.trim();
    const seen = await server.api(memberKey).get(`/api/v1/activations/${ownerActivationId}`);
    assert.equal(seen.status, 404);
    const listed = await server.api(memberKey).get('/api/v1/activations');
    assert.equal(listed.body.data.total, 0);
    const web = await member.page.evaluate(async (id) => (await fetch(`/api/web/activations/${id}`)).status, ownerActivationId);
    assert.equal(web, 404);

    // The member buys; the owner sees it with the spending per member.
    await member.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await member.page.getByText('Telegram · United States').click();
    await member.page.getByRole('button', { name: 'Buy for $0.50' }).click();
    await member.page.locator('li.activation').getByText('Waiting for the SMS').waitFor();

    await owner.page.reload();
    const memberRow = owner.page.locator(`tr[data-member-email="${memberEmail}"]`);
    await memberRow.getByText('$0.50').waitFor();
    await owner.page.getByRole('row', { name: /you/ }).waitFor();
    await screenshot(owner.page, 'team', { fullPage: true });

    // Promote, then demote again: the role select saves at once.
    await Promise.all([
      owner.page.waitForResponse((r) => r.url().includes('/role') && r.status() === 200),
      memberRow.getByLabel(`Role of ${memberEmail}`).selectOption('owner'),
    ]);
    await owner.page.reload();
    assert.equal(await memberRow.getByLabel(`Role of ${memberEmail}`).inputValue(), 'owner');
    await Promise.all([
      owner.page.waitForResponse((r) => r.url().includes('/role') && r.status() === 200),
      memberRow.getByLabel(`Role of ${memberEmail}`).selectOption('member'),
    ]);

    // Removing the member kills its key at once.
    await memberRow.getByRole('button', { name: 'Remove' }).click();
    await memberRow.getByRole('button', { name: `Remove ${memberEmail}` }).click();
    await memberRow.waitFor({ state: 'detached' });
    assert.equal((await server.api(memberKey).get('/api/v1/balance')).status, 401);
    // …and its browser session: the open dashboard falls back to sign-in.
    await member.page.getByRole('button', { name: 'Cancel and refund' }).waitFor();
    await member.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transactions' }).click();
    await member.page.getByRole('heading', { name: 'Sign in' }).waitFor();

    await owner.context.close();
    await member.context.close();
  });

  it('explains an invalid invite link instead of showing a broken form', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await page.goto('/invite?token=not-a-real-token');
    await page.getByRole('alert').filter({ hasText: 'Ask the person who invited you for a new link' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join the team' }).count(), 0);
    await context.close();
  });
});
