import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import type { ApiResponse, TestServer } from '../support/test-server.ts';
import { startTestServer } from '../support/test-server.ts';
import { freshEmail, signUp, webClient } from '../web/web-client.ts';

// These run on the product's default limits (README, "Abuse limits").
const resetEmailsPerAddressPerHour = 5;
const conversationsPerIpPerHour = 20;
const chatMessagesPerIpPerMinute = 20;
const chatMessagesPerConversationPerMinute = 10;
const feedbackPerHour = 10;

let ipCounter = 0;
const freshIp = () => `10.${Math.floor(++ipCounter / 250) % 250}.${ipCounter % 250}.${(process.pid + 7) % 250}`;

function assertRateLimited(answer: ApiResponse, context: string) {
  assert.equal(answer.status, 429, `${context}: expected 429, got ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error.code, 'rate_limited');
  assert.ok(Number(answer.headers.get('retry-after')) >= 1, `${context}: Retry-After is ${answer.headers.get('retry-after')}`);
}

describe('spam limits: reset emails, chat and feedback', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1' } });
  });
  after(async () => {
    await server.close();
  });

  const countEmailsTo = async (address: string) => (await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, address))).length;

  /** `count` reset requests for `email`, each from an address of its own (so the ip:email limit never applies). */
  async function resetRequests(email: string, count: number) {
    const answers: ApiResponse[] = [];
    for (let i = 0; i < count; i++) {
      const visitor = webClient(server.url);
      await visitor.start();
      answers.push(await visitor.post('/password-reset/request', { email }, { 'x-forwarded-for': freshIp() }));
    }
    return answers;
  }

  it('sends at most 5 reset emails an hour to one address, from any number of addresses, and answers alike whether or not the account exists', async () => {
    const { email } = await signUp(server);
    // The sign-up's confirmation email is already there.
    const earlier = await countEmailsTo(email);
    const known = await resetRequests(email, resetEmailsPerAddressPerHour + 2);
    assert.deepEqual(
      known.map((a) => a.status),
      [...Array(resetEmailsPerAddressPerHour).fill(200), 429, 429],
    );
    for (const answer of known.slice(0, resetEmailsPerAddressPerHour)) assert.deepEqual(answer.body, { ok: true, data: { sent: true } });
    assertRateLimited(known[resetEmailsPerAddressPerHour], 'reset flood to a known address');
    assert.equal((await countEmailsTo(email)) - earlier, resetEmailsPerAddressPerHour, 'the inbox gets 5 reset emails, not 7');

    const ghost = freshEmail('ghost');
    const unknown = await resetRequests(ghost, resetEmailsPerAddressPerHour + 2);
    assert.deepEqual(unknown.map((a) => [a.status, a.body]), known.map((a) => [a.status, a.body]), 'an unknown address gets the same answers');
    // The limit is per address, spelled any way.
    assert.equal((await resetRequests(email.toUpperCase(), 1))[0].status, 429);
  });

  it('one address cannot open 30 conversations; another address still can', async () => {
    const ip = freshIp();
    const answers: ApiResponse[] = [];
    for (let i = 0; i < 30; i++) {
      const visitor = webClient(server.url);
      await visitor.start();
      answers.push(await visitor.post('/chat/conversations', {}, { 'x-forwarded-for': ip }));
    }
    const accepted = answers.filter((a) => a.status === 200).length;
    assert.equal(accepted, conversationsPerIpPerHour, answers.map((a) => a.status).join(','));
    assertRateLimited(answers[29], 'conversation 30');
    const other = webClient(server.url);
    await other.start();
    assert.equal((await other.post('/chat/conversations', {}, { 'x-forwarded-for': freshIp() })).status, 200);
  });

  it('chat messages are limited per conversation and per address across conversations', async () => {
    const ip = freshIp();
    const visitor = webClient(server.url);
    await visitor.start();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = await visitor.post('/chat/conversations', {}, { 'x-forwarded-for': ip });
      assert.equal(started.status, 200);
      tokens.push(started.body.data.visitor_token);
    }
    const statuses: number[][] = [];
    let lastRefusal: ApiResponse | undefined;
    for (const token of tokens) {
      const row: number[] = [];
      for (let i = 0; i < chatMessagesPerConversationPerMinute + 1; i++) {
        const answer = await visitor.post('/chat/messages', { text: `hello ${i}` }, { 'x-forwarded-for': ip, 'x-visitor-token': token });
        row.push(answer.status);
        if (answer.status === 429) lastRefusal = answer;
      }
      statuses.push(row);
    }
    // Per conversation: the 11th message of the first conversation is refused.
    assert.deepEqual(statuses[0], [...Array(chatMessagesPerConversationPerMinute).fill(200), 429]);
    // Per address: 20 a minute across all its conversations.
    assert.equal(statuses.flat().filter((s) => s === 200).length, chatMessagesPerIpPerMinute, JSON.stringify(statuses));
    assertRateLimited(lastRefusal!, 'chat message over the limit');
  });

  it('one address cannot post 30 feedback entries, and neither can one signed-in customer from many addresses', async () => {
    const ip = freshIp();
    const anonymous = webClient(server.url);
    await anonymous.start();
    const answers: ApiResponse[] = [];
    for (let i = 0; i < 30; i++) answers.push(await anonymous.post('/feedback', { rating: 1, context: 'general', comment: `spam ${i}` }, { 'x-forwarded-for': ip }));
    assert.equal(answers.filter((a) => a.status === 200).length, feedbackPerHour, answers.map((a) => a.status).join(','));
    assertRateLimited(answers[29], 'feedback 30 from one address');

    const { client: customer } = await signUp(server);
    const fromMany: ApiResponse[] = [];
    for (let i = 0; i < 30; i++) fromMany.push(await customer.post('/feedback', { rating: 2, context: 'general' }, { 'x-forwarded-for': freshIp() }));
    assert.equal(fromMany.filter((a) => a.status === 200).length, feedbackPerHour, fromMany.map((a) => a.status).join(','));
    assertRateLimited(fromMany[29], 'feedback 30 from one customer');
  });
});
