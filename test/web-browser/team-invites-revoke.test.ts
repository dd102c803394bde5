import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, signUpInBrowser, uniqueEmail } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: revoking a team invitation', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('an owner revokes a pending invite on the Team page, and its link then explains it is no longer valid', async () => {
    const owner = await newVisitor(browser, server.url);
    await signUpInBrowser(owner.page, server, { company: 'Revoke Ltd' });
    await owner.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
    await owner.page.getByRole('heading', { name: 'Team', exact: true }).waitFor();

    const revokedEmail = uniqueEmail('revoked');
    await owner.page.getByLabel('Email').fill(revokedEmail);
    await owner.page.getByRole('form', { name: 'Invite someone' }).getByLabel('Role').selectOption('owner');
    await owner.page.getByRole('button', { name: 'Send invite' }).click();
    const inviteUrl = (await owner.page.getByTestId('invite-url').textContent())!.trim();
    const keptEmail = uniqueEmail('kept');
    await owner.page.getByLabel('Email').fill(keptEmail);
    await owner.page.getByRole('button', { name: 'Send invite' }).click();
    await owner.page.locator(`li[data-invite-email="${keptEmail}"]`).waitFor();

    await Promise.all([
      owner.page.waitForResponse((r) => r.url().includes('/revoke') && r.status() === 200),
      owner.page.getByRole('button', { name: `Revoke the invitation of ${revokedEmail}` }).click(),
    ]);
    await owner.page.locator(`li[data-invite-email="${revokedEmail}"]`).waitFor({ state: 'detached' });
    await owner.page.getByRole('button', { name: `Revoke the invitation of ${keptEmail}` }).waitFor();
    await owner.page.reload();
    await owner.page.getByRole('button', { name: `Revoke the invitation of ${keptEmail}` }).waitFor();
    assert.equal(await owner.page.getByText(revokedEmail).count(), 0, 'the revoked invite is gone for good');

    // The invitee opens the revoked link: a clear message, no form.
    const invitee = await newVisitor(browser, server.url);
    await invitee.page.goto(inviteUrl);
    await invitee.page.getByRole('alert').filter({ hasText: 'This invitation is no longer valid; ask an owner for a new one' }).waitFor();
    assert.equal(await invitee.page.getByRole('button', { name: 'Join the team' }).count(), 0);

    await owner.context.close();
    await invitee.context.close();
  });
});
