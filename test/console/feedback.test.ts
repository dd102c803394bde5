import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { signUp, webClient } from '../web/web-client.ts';

const day = 24 * 3600;

describe('console feedback', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let agent: SignedInStaff;
  let customer: Awaited<ReturnType<typeof signUp>>;
  let activationId: number;
  let conversationId: number;

  // Answers on three days: 40 days ago (outside the 30-day window), yesterday and today (UTC).
  before(async () => {
    server = await startTestServer({ clock: new ManualClock(new Date('2026-05-01T12:00:00Z')) });
    const visitor = webClient(server.url);
    await visitor.start();
    const leave = async (client: typeof visitor, body: Record<string, unknown>) => {
      const answer = await client.post('/feedback', body);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    };
    await leave(visitor, { rating: 1, comment: 'Old complaint', context: 'general' });

    server.clock.advance(39 * day);
    const chat = await visitor.post('/chat/conversations');
    conversationId = chat.body.data.conversation_id;
    await leave(visitor, { rating: 2, comment: 'Slow answer', context: 'chat', reference: String(conversationId) });

    server.clock.advance(day);
    customer = await signUp(server, { companyName: 'Feedback Co' });
    await customer.client.post('/topup', { amount: 5 });
    await server.createProvider({ countryId: 6, count: 1 });
    const bought = await customer.client.post('/activations', { service_code: 'tg', country_id: 6 });
    activationId = bought.body.data.activation.id;
    await leave(customer.client, { rating: 5, comment: 'Code in seconds', context: 'activation', reference: String(activationId) });
    await leave(visitor, { rating: 4, context: 'general' });

    admin = await signInStaff(server, 'admin');
    agent = await signInStaff(server, 'support');
  });
  after(async () => {
    await server.close();
  });

  it('shows the last 30 days of ratings: count, average, distribution and every day', async () => {
    const answer = await agent.client.get('/feedback/ratings');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const report = answer.body.data;
    assert.equal(report.days, 30);
    assert.equal(report.from, '2026-05-12');
    assert.equal(report.count, 3);
    assert.equal(report.average, 3.67);
    assert.deepEqual(report.distribution, { '1': 0, '2': 1, '3': 0, '4': 1, '5': 1 });
    assert.equal(report.per_day.length, 30);
    assert.deepEqual(report.per_day[0], { date: '2026-05-12', count: 0, average: null });
    assert.deepEqual(report.per_day.slice(-2), [
      { date: '2026-06-09', count: 1, average: 2 },
      { date: '2026-06-10', count: 2, average: 4.5 },
    ]);
    assert.equal(report.per_day.reduce((sum: number, d: { count: number }) => sum + d.count, 0), 3);
  });

  it('over 90 days includes the older answer', async () => {
    const report = (await admin.client.get('/feedback/ratings?days=90')).body.data;
    assert.equal(report.days, 90);
    assert.equal(report.from, '2026-03-13');
    assert.equal(report.count, 4);
    assert.equal(report.average, 3);
    assert.deepEqual(report.distribution, { '1': 1, '2': 1, '3': 0, '4': 1, '5': 1 });
    assert.deepEqual(
      report.per_day.find((d: { date: string }) => d.date === '2026-05-01'),
      { date: '2026-05-01', count: 1, average: 1 },
    );
  });

  it('lists comments newest first, linked to the account, activation or conversation they came from', async () => {
    const answer = await agent.client.get('/feedback/comments');
    assert.equal(answer.status, 200);
    const { comments, total, limit, offset } = answer.body.data;
    assert.deepEqual([total, limit, offset], [3, 50, 0]);
    assert.deepEqual(
      comments.map((c: { comment: string }) => c.comment),
      ['Code in seconds', 'Slow answer', 'Old complaint'],
      'answers without a comment are not listed',
    );
    assert.deepEqual(comments[0], {
      id: comments[0].id,
      rating: 5,
      comment: 'Code in seconds',
      context: 'activation',
      reference: String(activationId),
      account: { id: customer.account.id, email: customer.email, company_id: customer.account.company_id, company_name: 'Feedback Co' },
      activation_id: activationId,
      conversation_id: null,
      created_at: '2026-06-10 12:00:00',
    });
    assert.deepEqual([comments[1].context, comments[1].account, comments[1].activation_id, comments[1].conversation_id], ['chat', null, null, conversationId]);
    assert.deepEqual([comments[2].context, comments[2].activation_id, comments[2].conversation_id], ['general', null, null]);

    const second = await agent.client.get('/feedback/comments?limit=1&offset=1');
    assert.deepEqual(second.body.data.comments.map((c: { comment: string }) => c.comment), ['Slow answer']);
    assert.equal(second.body.data.total, 3);
  });

  it('refuses bad parameters with a 400', async () => {
    for (const path of ['/feedback/ratings?days=0', '/feedback/ratings?days=366', '/feedback/ratings?days=week', '/feedback/comments?limit=500', '/feedback/comments?offset=-1']) {
      const answer = await agent.client.get(path);
      assert.equal(answer.status, 400, path);
      assert.equal(answer.body.error.code, 'invalid_request');
    }
  });

  it('admins and support staff may read feedback; customers and anonymous visitors get 403', async () => {
    const customerConsole = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
    for (const [name, value] of customer.client.cookies) customerConsole.cookies.set(name, value);
    await customerConsole.start();
    const anonymous = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
    await anonymous.start();
    for (const path of ['/feedback/ratings', '/feedback/comments']) {
      assert.equal((await admin.client.get(path)).status, 200, path);
      assert.equal((await agent.client.get(path)).status, 200, path);
      for (const client of [customerConsole, anonymous]) {
        const answer = await client.get(path);
        assert.equal(answer.status, 403, path);
        assert.equal(answer.body.error.code, 'forbidden');
      }
    }
  });
});
