import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: Profile → API access', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the full key with a copy button and a curl example, and regenerating kills the old key at once', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await signUpInBrowser(page, server);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API access' }).click();
    await page.getByRole('heading', { name: 'API access' }).waitFor();

    const keyBox = page.getByTestId('api-key');
    const oldKey = (await keyBox.textContent())!.trim();
    assert.ok(oldKey.length >= 20, `a full key, got ${oldKey}`);
    assert.equal((await server.api(oldKey).get('/api/v1/balance')).status, 200, 'the shown key works on API v1');
    assert.ok((await page.getByTestId('curl-example').textContent())!.includes(`Authorization: Bearer ${oldKey}`));
    assert.ok((await page.getByTestId('curl-example').textContent())!.includes(`${server.url}/api/v1/balance`));
    await page.getByTestId('rate-limit').filter({ hasText: '1000' }).filter({ hasText: '2000' }).waitFor();

    await page.getByRole('button', { name: 'Copy API key' }).click();
    await page.getByRole('button', { name: 'Copy API key' }).filter({ hasText: 'Copied!' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), oldKey);
    await screenshot(page, 'api-access');

    // Regenerating asks first; keeping the key changes nothing.
    await page.getByRole('button', { name: 'Regenerate key' }).click();
    await page.getByRole('alertdialog').getByText('stops working at once').waitFor();
    await page.getByRole('button', { name: 'Keep the current key' }).click();
    assert.equal((await keyBox.textContent())!.trim(), oldKey);

    await page.getByRole('button', { name: 'Regenerate key' }).click();
    await page.getByRole('button', { name: 'Yes, regenerate' }).click();
    await page.getByRole('status').filter({ hasText: 'The old key stopped working' }).waitFor();
    const newKey = (await keyBox.textContent())!.trim();
    assert.notEqual(newKey, oldKey);
    assert.ok((await page.getByTestId('curl-example').textContent())!.includes(`Bearer ${newKey}`), 'the curl example follows the new key');

    const oldAnswer = await server.api(oldKey).get('/api/v1/balance');
    assert.equal(oldAnswer.status, 401);
    assert.equal(oldAnswer.body.error.code, 'unauthorized');
    assert.equal((await server.api(newKey).get('/api/v1/balance')).status, 200);

    await page.reload();
    assert.equal((await page.getByTestId('api-key').textContent())!.trim(), newKey, 'the new key survives a reload');
    await context.close();
  });

  it('refuses a state-changing request without the CSRF header', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    await signUpInBrowser(page, server);
    const answer = await page.evaluate(async () => {
      const response = await fetch('/api/web/api-key/regenerate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, body: await response.json() };
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'forbidden');
    await context.close();
  });
});
