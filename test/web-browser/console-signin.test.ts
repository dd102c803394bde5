import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { totpCode } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

describe('console: staff sign-in', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sends anonymous visitors and signed-in customers to the staff sign-in, never into the console', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await page.goto('/console/customers');
    await page.getByRole('heading', { name: 'Sign in to Nova Console' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/console/signin');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/console/customers');
    assert.equal(await page.getByRole('navigation', { name: 'Console' }).count(), 0, 'no console navigation before sign-in');
    assert.equal(await page.getByRole('button', { name: /Chat with us/ }).count(), 0, 'no customer chat widget in the console');

    await signUpInBrowser(page, server);
    await page.goto('/console/catalog');
    await page.getByRole('heading', { name: 'Sign in to Nova Console' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/console/companies')).status);
    assert.equal(status, 403, 'a customer session opens no console route');
    await context.close();
  });

  it('makes an admin enrol a second factor on first sign-in, then asks for a code on the next', async () => {
    const email = `${uniqueName('admin')}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email, role: 'admin' });
    const { context, page } = await newVisitor(browser, server.url);

    await page.goto('/console/audit');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();

    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set up your second factor' }).waitFor();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/, 'a base32 secret to type in by hand');
    assert.match((await page.getByTestId('totp-url').textContent())!, /^otpauth:\/\/totp\/.+secret=/);
    await screenshot(page, 'console-signin');

    await page.getByLabel('Code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByRole('alert').waitFor();
    // A refused code leaves the enrolment as it was: the same secret, still to be confirmed.
    assert.equal((await page.getByTestId('totp-secret').textContent())!.trim(), secret);

    await page.getByLabel('Code from your authenticator app').fill(await totpCode(server, secret));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/console/audit', 'back to the page asked for');
    await page.getByTestId('staff-email').filter({ hasText: email }).waitFor();
    await page.getByTestId('staff-role').filter({ hasText: 'admin' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Console' });
    for (const label of ['Catalog & pricing', 'Customers', 'Audit log', 'Staff']) await nav.getByRole('link', { name: label }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Nova Console' }).waitFor();
    await page.goto('/console');
    await page.getByRole('heading', { name: 'Sign in to Nova Console' }).waitFor();

    // The next sign-in asks for the current code (a later 30 s step than the enrolment's).
    server.clock.advance(60);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(await totpCode(server, secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Nova Console', exact: true }).waitFor();
    await context.close();
  });

  it('shows support staff their pages only, and a clear "needs admin" message on admin pages', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    const { email } = await signInStaffInBrowser(server, page, 'support');
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'Customers' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Catalog & pricing' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Staff' }).count(), 0);
    await page.getByTestId('staff-role').filter({ hasText: 'support' }).waitFor();

    await page.goto('/console/catalog');
    const alert = page.getByRole('alert').filter({ hasText: 'This page needs the admin role' });
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`signed in as ${email.replace(/[.]/g, '\\.')} with the support role`));
    await context.close();
  });

  it('lets an admin add a staff member, shows the generated password once, and the newcomer signs in with it', async () => {
    const admin = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, admin.page, 'admin');
    const page = admin.page;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Staff' }).click();
    const email = `${uniqueName('agent')}@nova.example`;
    await page.getByLabel('Staff email').fill(email);
    await page.getByLabel('Role').selectOption('support');
    await page.getByRole('button', { name: 'Add staff member' }).click();
    const shown = page.getByTestId('new-staff-password');
    await shown.waitFor();
    const password = (await shown.locator('code').textContent())!.trim();
    assert.ok(password.length >= 12, 'a long generated password');
    await page.getByRole('table', { name: 'Staff members' }).getByRole('row', { name: new RegExp(`${email.replace(/[.]/g, '\\.')}.*support`) }).waitFor();
    await page.reload();
    await page.getByRole('table', { name: 'Staff members' }).waitFor();
    assert.equal(await page.getByTestId('new-staff-password').count(), 0, 'shown only once');

    const newcomer = await newVisitor(browser, server.url);
    await newcomer.page.goto('/console');
    await newcomer.page.getByLabel('Email').fill(email);
    await newcomer.page.getByLabel('Password').fill(password);
    await newcomer.page.getByRole('button', { name: 'Sign in' }).click();
    await newcomer.page.getByTestId('staff-email').filter({ hasText: email }).waitFor();

    // The admin disables the newcomer: their open console is closed on its next request.
    const row = page.getByRole('table', { name: 'Staff members' }).getByRole('row', { name: new RegExp(email.replace(/[.]/g, '\\.')) });
    await row.getByRole('button', { name: `Disable ${email}` }).click();
    await row.getByRole('cell', { name: 'Disabled' }).waitFor();
    await newcomer.page.reload();
    await newcomer.page.getByRole('heading', { name: 'Sign in to Nova Console' }).waitFor();
    await row.getByRole('button', { name: `Enable ${email}` }).click();
    await row.getByRole('cell', { name: 'Can sign in' }).waitFor();
    await row.getByRole('button', { name: `Make ${email} admin` }).click();
    await row.getByRole('button', { name: `Make ${email} support` }).waitFor();
    assert.match(await row.innerText(), /admin/);
    await newcomer.context.close();
    await admin.context.close();
  });
});
