import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { feedback } from '../../src/modules/support/support.tables.ts';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('website: "Chat with us" widget', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('chats without an account: markup shows as text, the reply arrives live, the history survives a reload', async () => {
    const { context, page } = await newVisitor(browser, server.url);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto('/docs');
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const panel = page.getByRole('dialog', { name: 'Chat with us' });
    await panel.getByText('Ask us anything — we keep this private and on-site. No account needed.').waitFor();

    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)> hello';
    await panel.getByLabel('Your message').fill(hostile);
    await panel.getByRole('button', { name: 'Send' }).click();
    const mine = panel.locator('li[data-author="visitor"]');
    await mine.filter({ hasText: '<script>alert(1)</script>' }).waitFor();
    assert.equal((await mine.locator('.chat-text').textContent())!, hostile, 'shown exactly as typed');
    assert.equal(await panel.locator('script, img').count(), 0, 'no element was made from the message');

    const token = await page.evaluate(() => localStorage.getItem('nova_chat_visitor_token'));
    assert.ok(token, 'the visitor token is kept in the browser');
    const conversationId = Number(await page.evaluate(() => localStorage.getItem('nova_chat_conversation_id')));
    assert.ok(conversationId > 0);

    // The operator answers from the support side; the reply appears without a reload.
    await page.evaluate(() => Object.assign(window, { novaMarker: 'same page' }));
    await server.services.support.post(conversationId, 'support', 'Hi! <b>Happy</b> to help.');
    const reply = panel.locator('li[data-author="support"]');
    await reply.filter({ hasText: 'Hi! <b>Happy</b> to help.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as { novaMarker?: string }).novaMarker), 'same page');
    await screenshot(page, 'chat-open');

    await page.reload();
    await page.getByRole('button', { name: 'Chat with us' }).click();
    await panel.locator('li[data-author="visitor"]').filter({ hasText: '<script>alert(1)</script>' }).waitFor();
    await panel.locator('li[data-author="support"]').filter({ hasText: 'Happy' }).waitFor();
    assert.equal(await panel.locator('li.chat-message').count(), 2, 'the history is kept once, in order');

    // Ending the chat asks for feedback.
    await panel.getByRole('button', { name: 'End chat' }).click();
    await panel.getByText('How was your experience?').waitFor();
    await panel.getByRole('radio', { name: '5 stars' }).check();
    await panel.getByRole('button', { name: 'Send feedback' }).click();
    await panel.getByText('Thanks for your feedback!').waitFor();
    const [stored] = await server.database.db.select().from(feedback).where(eq(feedback.reference, String(conversationId)));
    assert.equal(stored?.rating, 5);
    assert.equal(stored?.context, 'chat');
    assert.deepEqual(dialogs, [], 'no script from a message ever ran');
    await context.close();
  });

  it('is on every page, including signed-in pages and at phone width', async () => {
    const { context, page } = await newVisitor(browser, server.url, { width: 360, height: 740 });
    for (const path of ['/', '/signin', '/signup', '/forgot-password']) {
      await page.goto(path);
      await page.getByRole('button', { name: 'Chat with us' }).waitFor();
    }
    await signUpInBrowser(page, server);
    for (const path of ['/dashboard', '/profile/api', '/topup']) {
      await page.goto(path);
      await page.getByRole('main').getByRole('heading').first().waitFor();
      await page.getByRole('button', { name: 'Chat with us' }).waitFor();
    }
    await page.getByRole('button', { name: 'Chat with us' }).click();
    const panel = page.getByRole('dialog', { name: 'Chat with us' });
    await panel.getByText('No account needed.', { exact: false }).waitFor();
    const box = await panel.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 360, 'the panel fits a 360 px screen');
    await context.close();
  });
});
