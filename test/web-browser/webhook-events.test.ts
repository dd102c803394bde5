import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: the Webhooks section lists every event type', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('offers the rental and report events with a one-line description each, and subscribes an endpoint to them', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await signUpInBrowser(page, server, { company: 'Rental Hooks Co' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API access' }).click();
    const section = page.getByRole('region', { name: 'Webhooks' });
    await section.getByText('No webhook endpoints yet.').waitFor();

    const offered = await section.getByRole('group', { name: 'Events' }).locator('code').allInnerTexts();
    assert.deepEqual(offered, [
      'activation.sms_received',
      'activation.expired',
      'activation.cancelled',
      'activation.reported',
      'rental.message_received',
      'rental.expired',
      'balance.low',
    ]);
    await section.getByText('An SMS reached one of your rented numbers.').waitFor();
    await section.getByText('A rental reached its end time; the number was released.').waitFor();
    await section.getByText(/One of your activations was reported/).waitFor();

    await section.getByLabel('Endpoint URL').fill('https://example.com/nova/rentals');
    await section.getByLabel(/SMS received.*activation\.sms_received/).uncheck();
    await section.getByLabel(/rental\.message_received/).check();
    await section.getByLabel(/rental\.expired/).check();
    await section.getByLabel(/activation\.reported/).check();
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    const item = section.locator('li[data-webhook-url="https://example.com/nova/rentals"]');
    await item.getByText(/rental\.message_received/).waitFor();
    const listed = (await item.locator('p').first().innerText()).split(' · ')[0].split(', ').sort();
    assert.deepEqual(listed, ['activation.reported', 'rental.expired', 'rental.message_received']);
    await context.close();
  });
});
