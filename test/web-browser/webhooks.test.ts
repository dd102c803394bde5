import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser, uniqueEmail } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: Profile → API access → Webhooks', () => {
  let server: TestServer;
  let browser: Browser;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: { type: string; id: string; signature: string }[] = [];

  before(async () => {
    [server, browser] = await Promise.all([
      // The delivery timer never fires on its own: the test runs the job when it wants.
      startTestServer({ env: { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' } }),
      launchBrowser(),
    ]);
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        received.push({ type: json.type, id: json.id, signature: String(request.headers['nova-signature'] ?? '') });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/nova`;
  });

  after(async () => {
    await browser?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await server?.close();
  });

  it('an owner adds an endpoint, copies its secret once, sees the delivery of an arrived code, resends it and deletes the endpoint; a member only sees a note', async () => {
    const { secret: providerSecret } = await server.createProvider({ countryId: 6, count: 1 });
    const { context, page } = await newVisitor(browser, server.url);
    const { account } = await signUpInBrowser(page, server, { company: 'Hook Co' });
    await server.services.billing.credit({ companyId: account.company_id, amount: 50_000, kind: 'topup', reason: 'test credit' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API access' }).click();
    const section = page.getByRole('region', { name: 'Webhooks' });
    await section.getByText('No webhook endpoints yet.').waitFor();

    // Add an endpoint for codes and a low balance.
    await section.getByLabel('Endpoint URL').fill(receiverUrl);
    await section.getByLabel(/Balance low/).check();
    await section.getByLabel('Balance-low threshold in USD (optional, default $1.00)').fill('2.5');
    await section.getByRole('button', { name: 'Add endpoint' }).click();
    const secretBox = section.getByTestId('webhook-secret');
    const secret = (await secretBox.textContent())!.trim();
    assert.match(secret, /^whsec_/);
    await section.getByRole('button', { name: 'Copy signing secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    const item = section.locator(`li[data-webhook-url="${receiverUrl}"]`);
    await item.getByText('activation.sms_received, balance.low (below $2.50)').waitFor();

    // A code arrives for a bought activation; the delivery job sends the event.
    const apiKey = (await page.getByTestId('api-key').textContent())!.trim();
    const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    await server.api(providerSecret).post('/api/v1/supply/sms', { to: bought.body.data.activation.number, from: 'Telegram', text: 'Telegram code: 12345' });
    assert.equal(await server.jobs.webhooks.runOnce(), 1);
    assert.deepEqual(received.map((r) => r.type), ['activation.sms_received']);

    await item.getByRole('button', { name: 'Delivery log' }).click();
    const log = item.getByRole('table', { name: `Deliveries to ${receiverUrl}` });
    const first = log.locator('tbody tr');
    await first.filter({ hasText: 'activation.sms_received' }).filter({ hasText: 'delivered' }).filter({ hasText: '200' }).waitFor();
    await screenshot(page, 'webhooks', { fullPage: true });

    // Resend: a new delivery of the same event, sent by the next job pass.
    await first.getByRole('button', { name: 'Resend' }).click();
    await log.locator('tbody tr').filter({ hasText: 'resent' }).filter({ hasText: 'pending' }).waitFor();
    assert.equal(await server.jobs.webhooks.runOnce(), 1);
    assert.equal(received.length, 2);
    assert.equal(received[1].id, received[0].id, 'the resend carries the same event id');
    await item.getByRole('button', { name: 'Refresh' }).click();
    await log.locator('tbody tr').filter({ hasText: 'resent' }).filter({ hasText: 'delivered' }).waitFor();
    assert.equal(await log.locator('tbody tr').count(), 2);

    // The secret is not shown again after a reload.
    await page.reload();
    await section.locator(`li[data-webhook-url="${receiverUrl}"]`).waitFor();
    assert.equal(await section.getByTestId('webhook-secret').count(), 0);

    // A member of the company only sees that owners manage webhooks.
    const inviteUrl = await page.evaluate(async (email) => {
      const csrf = document.cookie.split('; ').find((c) => c.startsWith('nova_csrf='))!.split('=')[1];
      const response = await fetch('/api/web/team/invites', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrf) },
        body: JSON.stringify({ email, role: 'member' }),
      });
      return (await response.json()).data.invite_url as string;
    }, uniqueEmail('member'));
    const member = await newVisitor(browser, server.url);
    await member.page.goto(inviteUrl);
    await member.page.getByLabel('Password').fill('member password 1');
    await member.page.getByRole('button', { name: 'Join the team' }).click();
    await member.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await member.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API access' }).click();
    await member.page.getByTestId('webhooks-owner-only').getByText('Only owners of Hook Co manage webhooks').waitFor();
    assert.equal(await member.page.getByRole('button', { name: 'Add endpoint' }).count(), 0);
    assert.equal(await member.page.getByText(receiverUrl).count(), 0);
    await member.context.close();

    // Deleting asks first; keeping changes nothing.
    const kept = section.locator(`li[data-webhook-url="${receiverUrl}"]`);
    await kept.getByRole('button', { name: 'Delete' }).click();
    await kept.getByRole('button', { name: 'Keep it' }).click();
    await kept.getByRole('button', { name: 'Delete' }).click();
    await kept.getByRole('alertdialog').getByRole('button', { name: 'Yes, delete' }).click();
    await section.getByText('No webhook endpoints yet.').waitFor();
    assert.deepEqual((await server.api(apiKey).get('/api/v1/webhooks')).body.data.webhooks, [], 'deleted for the API too');
    await context.close();
  });
});
