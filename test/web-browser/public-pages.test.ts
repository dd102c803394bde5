import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desc, eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: public pages, docs and phone width', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the app to browsers for its own paths and keeps unknown /api paths as JSON 404 envelopes', async () => {
    const page = await fetch(`${server.url}/dashboard/whatever`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<div id="root">/);
    assert.doesNotMatch(html, /https?:\/\//, 'no third-party script, font or stylesheet');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);

    const home = await fetch(`${server.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /<div id="root">/);
    const asset = html.match(/\/assets\/[^"]+\.js/)?.[0];
    const script = await fetch(`${server.url}${asset}`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);

    // An API client (no text/html) that mistypes a path gets JSON, inside /api or not.
    const typo = await fetch(`${server.url}/no-such-thing`);
    assert.equal(typo.status, 404);
    assert.equal(((await typo.json()) as { error: { code: string } }).error.code, 'not_found');
    const api = await fetch(`${server.url}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    assert.equal(api.status, 404);
    assert.deepEqual(((await api.json()) as { error: { code: string } }).error.code, 'not_found');
    const web = await fetch(`${server.url}/api/web/nothing-here`);
    assert.equal(web.status, 404);
    assert.equal(((await web.json()) as { ok: boolean }).ok, false);
  });

  it('renders the API documentation from the OpenAPI description: endpoints, examples and error codes', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await page.goto('/docs');
    await page.getByRole('heading', { name: 'Authentication' }).waitFor();
    await page.getByText('Profile → API access').first().waitFor();
    const endpoints = page.getByRole('navigation', { name: 'Endpoints' });
    for (const name of ['GET /balance', 'GET /prices', 'POST /activations', 'GET /activations/{id}', 'POST /activations/{id}/cancel']) {
      await endpoints.getByRole('link', { name, exact: true }).waitFor();
    }
    const errors = page.getByRole('table', { name: 'Error codes' });
    for (const code of ['unauthorized', 'insufficient_balance', 'out_of_stock', 'not_found']) {
      await errors.getByText(code, { exact: true }).waitFor();
    }
    assert.match(await page.locator('#main').innerText(), /"service_code"/, 'a request example for buying');
    await screenshot(page, 'docs');
    await context.close();
  });

  it('fits a 360 px phone: no sideways scrolling, a menu button, the price table reachable', async () => {
    await server.createProvider({ countryId: 6, count: 2 });
    const { context, page } = await newVisitor(browser, server.url, { width: 360, height: 740 });
    await page.goto('/');
    await page.getByRole('table', { name: 'Prices by service and country' }).getByText('Telegram').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the landing page scrolls sideways by ${overflow}px`);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await screenshot(page, 'phone-landing', { fullPage: true });

    await signUpInBrowser(page, server);
    await page.getByText('Telegram · United States').waitFor();
    const dashboardOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(dashboardOverflow <= 0, `the dashboard scrolls sideways by ${dashboardOverflow}px`);
    await screenshot(page, 'phone-dashboard', { fullPage: true });
    await context.close();
  });

  it('is keyboard accessible: a skip link, labelled fields and visible focus', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await page.goto('/signin');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.activeElement?.textContent === 'Skip to content', undefined, { timeout: 3000 });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main', undefined, { timeout: 3000 });
    await page.getByLabel('Email').focus();
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!).boxShadow);
    assert.notEqual(ring, 'none', 'focused fields show a focus ring');
    await page.keyboard.type('nobody@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await context.close();
  });

  it('resets a forgotten password by the emailed link', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    const { email } = await signUpInBrowser(page, server);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/forgot-password');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('status').filter({ hasText: 'If an account exists' }).waitFor();

    // The email waits in the outbox (sent by the email job); read the link from there.
    const [mail] = await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, email)).orderBy(desc(emailOutbox.id)).limit(1);
    assert.ok(mail, 'a reset email was queued');
    const link = mail.body.match(/\S*\/reset-password\?token=\S+/)?.[0];
    assert.ok(link, mail.body);
    const url = new URL(link, server.url);
    await page.goto(url.pathname + url.search);
    await page.getByLabel('New password').fill('a brand new password');
    await page.getByRole('button', { name: 'Save and sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await context.close();
  });
});
