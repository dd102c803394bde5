import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newVisitor, screenshot, signUpInBrowser } from '../support/browser.ts';
import { signInStaffInBrowser } from '../support/console-browser.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('console: support inbox', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('chats visitor ↔ agent in two browsers, both live without reloads, with the visitor context beside it', async () => {
    // The agent: a support staff member, in the inbox before anyone writes.
    const agent = await newVisitor(browser, server.url, { width: 1440, height: 900 });
    const { email: agentEmail } = await signInStaffInBrowser(server, agent.page, 'support');
    await agent.page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Support inbox', exact: true }).click();
    await agent.page.getByRole('heading', { name: 'Support inbox' }).waitFor();
    await agent.page.getByTestId('inbox-live').filter({ hasText: 'Live' }).waitFor();
    await agent.page.evaluate(() => Object.assign(window, { novaMarker: 'agent page' }));

    // The visitor: a signed-in customer with some balance, writing from the dashboard's chat widget.
    const visitor = await newVisitor(browser, server.url);
    const { email: customerEmail, account } = await signUpInBrowser(visitor.page, server, { company: 'Chatty Ltd' });
    await server.services.billing.credit({ companyId: account.company_id, amount: 12_500, kind: 'topup', reason: 'test credit' });
    await visitor.page.evaluate(() => Object.assign(window, { novaMarker: 'visitor page' }));
    await visitor.page.getByRole('button', { name: 'Chat with us' }).click();
    const widget = visitor.page.getByRole('dialog', { name: 'Chat with us' });
    await widget.getByLabel('Your message').fill('Hi, my Telegram code never came');
    await widget.getByRole('button', { name: 'Send' }).click();
    await widget.locator('li[data-author="visitor"]').filter({ hasText: 'my Telegram code never came' }).waitFor();

    // Within a second or so the conversation shows up in the agent's list, unread, without a reload.
    const item = agent.page.getByRole('button', { name: `${customerEmail}, 1 unread` });
    await item.waitFor({ timeout: 3000 });
    await agent.page.getByTestId('inbox-unread').filter({ hasText: '1 unread message in 1 conversation' }).waitFor();
    await item.click();

    const conversation = agent.page.getByRole('list', { name: 'Messages' });
    await conversation.locator('li[data-author="visitor"]').filter({ hasText: 'my Telegram code never came' }).waitFor();
    // Opening it reads it: the badge goes.
    await agent.page.getByRole('button', { name: customerEmail, exact: true }).waitFor();
    await agent.page.getByTestId('inbox-unread').filter({ hasText: '0 unread messages' }).waitFor();

    const context = agent.page.getByRole('complementary', { name: 'Visitor context' });
    await context.getByTestId('context-account').filter({ hasText: customerEmail }).waitFor();
    await context.getByRole('link', { name: 'Chatty Ltd' }).waitFor();
    await context.getByTestId('context-balance').filter({ hasText: '$1.25' }).waitFor();
    await context.getByTestId('context-page').filter({ hasText: '/dashboard' }).waitFor();

    // The agent answers; the reply appears in the visitor's widget live.
    await agent.page.getByLabel('Reply').fill('Sorry about that! Let me check the number for you.');
    await agent.page.getByRole('button', { name: 'Send reply' }).click();
    await conversation.locator('li[data-author="support"]').filter({ hasText: 'Let me check the number' }).waitFor();
    await widget.locator('li[data-author="support"]').filter({ hasText: 'Let me check the number' }).waitFor({ timeout: 3000 });

    // The visitor writes again: the open conversation grows live on the agent's side, and stays read.
    await widget.getByLabel('Your message').fill('Thanks, it is +1 202 555 0100');
    await widget.getByRole('button', { name: 'Send' }).click();
    await conversation.locator('li[data-author="visitor"]').filter({ hasText: '+1 202 555 0100' }).waitFor({ timeout: 3000 });
    assert.equal(await conversation.locator('li').count(), 3, 'each message once, in order');
    assert.deepEqual(
      await conversation.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-author'))),
      ['visitor', 'support', 'visitor'],
    );
    await agent.page.getByTestId('inbox-unread').filter({ hasText: '0 unread messages' }).waitFor();

    // Another visitor (anonymous) writes meanwhile: a second conversation arrives, unread.
    const other = await server.services.support.startConversation(null, '/docs');
    await server.services.support.post(other.conversationId, 'visitor', 'Do you have numbers in Brazil?', { page: '/docs' });
    const list = agent.page.getByRole('list', { name: 'Conversation list' });
    await list.getByRole('button', { name: `Visitor #${other.conversationId}, 1 unread` }).waitFor({ timeout: 3000 });
    await agent.page.getByTestId('inbox-unread').filter({ hasText: '1 unread message in 1 conversation' }).waitFor();

    // Assign ours to the agent: it shows under "Mine", the other one does not.
    await agent.page.getByLabel('Assigned to').selectOption({ label: `${agentEmail} (support)` });
    await agent.page.getByRole('button', { name: 'Mine' }).click();
    await list.getByRole('button', { name: customerEmail }).waitFor();
    // The list reloads after the click: until then it still shows every conversation.
    await list.getByRole('button', { name: /Visitor #/ }).waitFor({ state: 'detached' });
    assert.equal(await list.getByRole('button').count(), 1, 'only the conversation assigned to me');
    await agent.page.getByRole('button', { name: 'Open', exact: true }).click();
    await list.getByRole('button', { name: /Visitor #/ }).waitFor();
    await screenshot(agent.page, 'console-inbox');

    // Close it: it leaves the open list and is found under "Closed".
    await agent.page.getByRole('button', { name: 'Close conversation' }).click();
    await agent.page.getByTestId('conversation-status').filter({ hasText: 'closed' }).waitFor();
    await list.getByRole('button', { name: customerEmail }).waitFor({ state: 'detached' });
    await agent.page.getByRole('button', { name: 'Closed', exact: true }).click();
    await list.getByRole('button', { name: customerEmail }).waitFor();

    // A new visitor message reopens it, live.
    await agent.page.getByRole('button', { name: 'Open', exact: true }).click();
    await list.getByRole('button', { name: /Visitor #/ }).waitFor();
    assert.equal(await list.getByRole('button', { name: customerEmail }).count(), 0);
    await widget.getByLabel('Your message').fill('One more thing');
    await widget.getByRole('button', { name: 'Send' }).click();
    await list.getByRole('button', { name: customerEmail }).waitFor({ timeout: 3000 });
    await agent.page.getByTestId('conversation-status').filter({ hasText: 'open' }).waitFor();
    await conversation.locator('li[data-author="visitor"]').filter({ hasText: 'One more thing' }).waitFor();

    assert.equal(await agent.page.evaluate(() => (window as unknown as { novaMarker?: string }).novaMarker), 'agent page', 'the agent never reloaded');
    assert.equal(await visitor.page.evaluate(() => (window as unknown as { novaMarker?: string }).novaMarker), 'visitor page', 'the visitor never reloaded');
    await visitor.context.close();
    await agent.context.close();
  });
});
