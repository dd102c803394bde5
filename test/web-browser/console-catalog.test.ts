import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startFakeUpstream } from '../support/fakes/sms-activate-upstream.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

describe('console: catalog and pricing', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const publicPrices = (page: Page) => page.getByRole('table', { name: 'Prices by service and country' });

  it('changes a price in the console and the public price table shows it at once', async () => {
    await server.createProvider({ countryId: 6, count: 2 });
    const staff = await newVisitor(browser, server.url);
    const visitor = await newVisitor(browser, server.url);
    await visitor.page.goto('/');
    await publicPrices(visitor.page).getByRole('row', { name: /Telegram.*United States.*\$0\.50/ }).waitFor();

    await signInStaffInBrowser(server, staff.page, 'admin');
    const page = staff.page;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Catalog & pricing' }).click();
    const grid = page.getByRole('table', { name: 'Pricing grid' });
    const row = grid.getByRole('row', { name: /Telegram.*United States/ });
    await row.waitFor();
    assert.match(await row.innerText(), /\$0\.50/);
    assert.match(await row.innerText(), /manual/);

    await page.getByRole('button', { name: 'Edit Telegram · United States' }).click();
    const editor = page.getByRole('group', { name: 'Edit Telegram · United States' });
    await editor.getByLabel('Price in USD').fill('0.65');
    await editor.getByRole('button', { name: 'Save price' }).click();
    await editor.getByRole('status').filter({ hasText: 'Price set to $0.65' }).waitFor();
    await grid.getByRole('row', { name: /Telegram.*United States.*\$0\.65/ }).waitFor();

    // The public table reads the catalog afresh: a reload shows the new price, nothing cached.
    await visitor.page.reload();
    await publicPrices(visitor.page).getByRole('row', { name: /Telegram.*United States.*\$0\.65/ }).waitFor();
    const { apiKey } = await server.createCompany();
    const v1 = await server.api(apiKey).get('/api/v1/prices?service=tg&country=6');
    assert.equal(v1.status, 200);
    assert.equal(v1.body.data.price, 0.65, 'API v1 sells at the new price too');

    // The audit log names who changed it, before → after.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('price.set');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    const entry = page.getByRole('table', { name: 'Audit entries' }).getByRole('row', { name: /price\.set/ }).first();
    await entry.waitFor();
    assert.match(await entry.innerText(), /0\.5.*→.*0\.65/s);
    await staff.context.close();
    await visitor.context.close();
  });

  it('adds a service, prices it, disables another, and imports a catalog file; the public table follows each change', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await signInStaffInBrowser(server, page, 'admin');
    await page.goto('/console/catalog?tab=services');
    await page.getByLabel('Service code').fill('vk');
    await page.getByLabel('Service name').fill('VKontakte');
    await page.getByRole('button', { name: 'Add service' }).click();
    const services = page.getByRole('table', { name: 'Services' });
    await services.getByRole('row', { name: /vk.*VKontakte.*On sale/ }).waitFor();
    await page.getByRole('button', { name: 'Disable WhatsApp' }).click();
    await services.getByRole('row', { name: /wa.*WhatsApp.*Disabled/ }).waitFor();

    await page.getByRole('tab', { name: 'Pricing' }).click();
    await page.getByLabel('Service to price').selectOption('vk');
    await page.getByLabel('Country to price').selectOption('16');
    await page.getByLabel('New price in USD').fill('0.40');
    await page.getByRole('button', { name: 'Set price' }).click();
    await page.getByRole('table', { name: 'Pricing grid' }).getByRole('row', { name: /VKontakte.*United Kingdom.*\$0\.40/ }).waitFor();

    await page.getByRole('tab', { name: 'Import' }).click();
    await page.getByLabel('Catalog file (CSV or JSON)').fill('service,ds,Discord\nprice,ds,6,0.30\nprice,tg,16,0.60');
    await page.getByRole('button', { name: 'Check without applying' }).click();
    await page.getByRole('status').filter({ hasText: 'Checked, nothing applied: 2 created, 0 updated, 1 unchanged' }).waitFor();
    const { apiKey } = await server.createCompany();
    assert.equal((await server.api(apiKey).get('/api/v1/prices?service=ds')).status, 404, 'a dry run changes nothing');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Imported: 2 created, 0 updated, 1 unchanged' }).waitFor();
    await page.getByRole('table', { name: 'Import changes' }).getByRole('row', { name: /service.*ds.*created/ }).waitFor();

    await page.getByLabel('Catalog file (CSV or JSON)').fill('price,nope,6,0.30');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'line 1' }).waitFor();

    const visitor = await newVisitor(browser, server.url);
    await visitor.page.goto('/');
    const prices = publicPrices(visitor.page);
    await prices.getByRole('row', { name: /VKontakte.*United Kingdom.*\$0\.40/ }).waitFor();
    await prices.getByRole('row', { name: /Discord.*United States.*\$0\.30/ }).waitFor();
    assert.equal(await prices.getByRole('row', { name: /WhatsApp/ }).count(), 0, 'a disabled service leaves the price table');
    await visitor.context.close();

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
    const entries = page.getByRole('table', { name: 'Audit entries' });
    await entries.getByRole('row', { name: /service\.update.*service wa.*enabled: true → false/ }).waitFor();
    await entries.getByRole('row', { name: /service\.create.*service vk/ }).waitFor();
    await screenshot(page, 'console-audit', { fullPage: true });
    await context.close();
  });

  it('shows cost, price and margin side by side, prices from a markup rule, and warns where a price sits below cost', async () => {
    const upstream = await startFakeUpstream({ apiKey: uniqueName('up'), prices: { '16': { wa: { cost: 0.4, count: 5 } } }, pool: ['447700800001'] });
    try {
      await server.services.supply.createProvider({
        name: uniqueName('upstream'),
        kind: 'sms-activate',
        upstream: { apiUrl: upstream.url, apiKey: upstream.apiKey, countries: { '16': '16' }, markupPercent: 0 },
      });
      await server.jobs.remoteSupply.runOnce();
      const { context, page } = await newVisitor(browser, server.url);
      await signInStaffInBrowser(server, page, 'admin');
      await page.goto('/console/catalog');
      const grid = page.getByRole('table', { name: 'Pricing grid' });
      await grid.getByRole('row', { name: /WhatsApp.*United Kingdom.*\$0\.40.*not sold/ }).waitFor();

      await page.getByRole('button', { name: 'Edit WhatsApp · United Kingdom' }).click();
      const editor = page.getByRole('group', { name: 'Edit WhatsApp · United Kingdom' });
      await editor.getByLabel('Markup %').fill('25');
      await editor.getByLabel('Minimum margin in USD').fill('0.05');
      await editor.getByText("At today's cost of $0.40 this gives $0.50.").waitFor();
      await editor.getByRole('button', { name: 'Use markup rule' }).click();
      await editor.getByRole('status').filter({ hasText: 'follows the supply cost' }).waitFor();
      await grid.getByRole('row', { name: /WhatsApp.*United Kingdom.*\$0\.40.*\$0\.50.*\$0\.10.*20%.*markup 25%/ }).waitFor();

      await editor.getByLabel('Price in USD').fill('0.30');
      await editor.getByText('below the supply cost of $0.40').waitFor();
      await editor.getByRole('button', { name: 'Save price' }).click();
      const flagged = grid.getByRole('row', { name: /WhatsApp.*United Kingdom.*\$0\.30.*Below cost.*manual/ });
      await flagged.waitFor();
      assert.match(await flagged.innerText(), /−\$0\.10/);
      await page.getByRole('alert').filter({ hasText: '1 price below the supply cost: WhatsApp · United Kingdom' }).waitFor();
      await page.getByRole('button', { name: 'Close WhatsApp · United Kingdom' }).click();
      // The sidebar is sticky: from the top, a full-page picture shows it in place.
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'console-catalog', { fullPage: true });
      await context.close();
    } finally {
      await upstream.close();
    }
  });
});
