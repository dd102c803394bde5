import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { testRedisUrl, uniqueName } from '../support/test-target.ts';
import { signUp, type WebClient, webClient } from '../web/web-client.ts';

/** A visitor of the website with a new "Chat with us" conversation. */
async function startChat(server: TestServer, options: { client?: WebClient; page?: string } = {}) {
  const visitor = options.client ?? webClient(server.url);
  if (!options.client) await visitor.start();
  const started = await visitor.post('/chat/conversations', options.page ? { page: options.page } : undefined);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const token = started.body.data.visitor_token as string;
  return {
    visitor,
    token,
    conversationId: started.body.data.conversation_id as number,
    say: async (text: string, page?: string) => {
      const sent = await visitor.post('/chat/messages', { text, ...(page ? { page } : {}) }, { 'x-visitor-token': token });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      return sent.body.data.message as { id: number };
    },
  };
}

describe('console support inbox', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let agent: SignedInStaff;
  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    agent = await signInStaff(server, 'support');
  });
  after(async () => {
    await server.close();
  });

  const summaryOf = async (client: WebClient, id: number, query = 'status=all') => {
    const list = await client.get(`/support/conversations?${query}&limit=200`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    return { row: list.body.data.conversations.find((c: { id: number }) => c.id === id), data: list.body.data };
  };

  it('a visitor’s message reaches the agent’s live stream within a second, and the agent’s reply reaches the visitor’s widget live', async () => {
    const chat = await startChat(server, { page: '/prices' });
    const agentStream = await agent.client.events('/support/live');
    const visitorStream = await chat.visitor.events(`/chat/live?visitor_token=${chat.token}`);
    try {
      assert.equal(agentStream.status, 200);
      const ready = await agentStream.next((e) => e.event === 'ready');
      assert.equal(typeof ready.data.total_unread, 'number');

      const started = Date.now();
      const sent = await chat.say('Hello, my code did not come', '/dashboard');
      const pushed = await agentStream.next((e) => e.event === 'message' && e.data.conversation_id === chat.conversationId, 1000);
      assert.ok(Date.now() - started < 1000, 'the agent hears the visitor within a second');
      assert.equal(pushed.data.message.id, sent.id);
      assert.equal(pushed.data.message.author, 'visitor');
      assert.equal(pushed.data.message.text, 'Hello, my code did not come');
      assert.equal(pushed.data.message.staff, null);
      const row = await agentStream.next((e) => e.event === 'conversation' && e.data.conversation.id === chat.conversationId, 1000);
      assert.equal(row.data.conversation.unread, 1);
      assert.equal(row.data.conversation.status, 'open');
      assert.equal(row.data.conversation.page, '/dashboard', 'the page the visitor last wrote from');
      assert.equal(row.data.conversation.last_message.text, 'Hello, my code did not come');
      assert.equal(row.data.total_unread, ready.data.total_unread + 1);

      const replied = await agent.client.post(`/support/conversations/${chat.conversationId}/messages`, { text: '  We are on it  ' });
      assert.equal(replied.status, 200, JSON.stringify(replied.body));
      assert.equal(replied.body.data.message.author, 'support');
      assert.equal(replied.body.data.message.text, 'We are on it');
      assert.deepEqual(replied.body.data.message.staff, { id: agent.staffId, email: agent.email });
      const inWidget = await visitorStream.next((e) => e.event === 'message' && e.data.author === 'support', 1000);
      assert.equal(inWidget.data.text, 'We are on it');
      assert.equal(inWidget.data.id, replied.body.data.message.id);
      // The agent's own stream hears the reply too (another agent's screen stays in step).
      const echoed = await agentStream.next((e) => e.event === 'message' && e.data.message.id === replied.body.data.message.id, 1000);
      assert.equal(echoed.data.message.staff.id, agent.staffId);
      const answered = await agentStream.next((e) => e.event === 'conversation' && e.data.conversation.last_message?.author === 'support', 1000);
      assert.equal(answered.data.conversation.unread, 0, 'replying marks it read');

      // The widget's history shows it as support; the thread in the console names the agent.
      const history = await chat.visitor.get('/chat/messages', { 'x-visitor-token': chat.token });
      assert.deepEqual(
        history.body.data.messages.map((m: { author: string; text: string }) => [m.author, m.text]),
        [['visitor', 'Hello, my code did not come'], ['support', 'We are on it']],
      );
      const thread = await admin.client.get(`/support/conversations/${chat.conversationId}`);
      assert.equal(thread.status, 200);
      assert.deepEqual(
        thread.body.data.messages.map((m: { author: string; staff: { id: number } | null }) => [m.author, m.staff?.id ?? null]),
        [['visitor', null], ['support', agent.staffId]],
      );
      // A new visitor message is unread for every agent; one agent reading it updates every agent's row live.
      await chat.say('Thanks!');
      await agentStream.next((e) => e.event === 'conversation' && e.data.conversation.id === chat.conversationId && e.data.conversation.unread === 1, 1000);
      await admin.client.get(`/support/conversations/${chat.conversationId}`);
      const read = await agentStream.next((e) => e.event === 'conversation' && e.data.conversation.id === chat.conversationId && e.data.conversation.unread === 0, 1000);
      assert.equal(read.data.total_unread, ready.data.total_unread);
      // Reading again changes nothing and announces nothing (screens that re-read on events must not ping-pong).
      await admin.client.get(`/support/conversations/${chat.conversationId}`);
      await assert.rejects(agentStream.next((e) => e.event === 'conversation' && e.data.conversation.id === chat.conversationId, 300));
    } finally {
      agentStream.close();
      visitorStream.close();
    }
  });

  it('unread counts go up with each visitor message and back to zero when an agent reads or replies', async () => {
    const chat = await startChat(server);
    const before = (await summaryOf(agent.client, 0)).data.total_unread as number;
    await chat.say('one');
    await chat.say('two');
    let { row, data } = await summaryOf(agent.client, chat.conversationId);
    assert.equal(row.unread, 2);
    assert.equal(row.messages, 2);
    assert.equal(data.total_unread, before + 2);

    const thread = await agent.client.get(`/support/conversations/${chat.conversationId}`);
    assert.equal(thread.status, 200);
    assert.deepEqual(thread.body.data.messages.map((m: { text: string }) => m.text), ['one', 'two']);
    assert.equal(thread.body.data.conversation.unread, 0, 'reading marks it read');
    ({ row, data } = await summaryOf(agent.client, chat.conversationId));
    assert.equal(row.unread, 0);
    assert.equal(data.total_unread, before);

    await chat.say('three');
    ({ row } = await summaryOf(agent.client, chat.conversationId));
    assert.equal(row.unread, 1, 'only messages after the read count');
    const after = await agent.client.get(`/support/conversations/${chat.conversationId}?after=${thread.body.data.messages[1].id}`);
    assert.deepEqual(after.body.data.messages.map((m: { text: string }) => m.text), ['three']);

    await chat.say('four');
    await agent.client.post(`/support/conversations/${chat.conversationId}/messages`, { text: 'answer' });
    ({ row } = await summaryOf(agent.client, chat.conversationId));
    assert.equal(row.unread, 0, 'replying reads what came before');
    assert.equal(row.last_message.author, 'support');
  });

  it('the inbox lists conversations with a message, latest first, and filters open, closed, mine and unassigned', async () => {
    const older = await startChat(server);
    await older.say('older');
    server.clock.advance(1);
    const newer = await startChat(server);
    await newer.say('newer');
    const silent = await startChat(server);

    const list = await agent.client.get('/support/conversations');
    assert.equal(list.status, 200);
    const ids = list.body.data.conversations.map((c: { id: number }) => c.id);
    assert.ok(ids.indexOf(newer.conversationId) < ids.indexOf(older.conversationId), 'latest first');
    assert.ok(!ids.includes(silent.conversationId), 'a conversation without messages is not listed');
    assert.equal(list.body.data.limit, 50);
    assert.equal(list.body.data.offset, 0);
    assert.ok(list.body.data.total >= 2);

    const assigned = await agent.client.post(`/support/conversations/${older.conversationId}/assign`, { staff_id: agent.staffId });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    assert.deepEqual(assigned.body.data.conversation.assigned_to, { id: agent.staffId, email: agent.email });
    const mine = (await agent.client.get('/support/conversations?assigned=mine')).body.data.conversations.map((c: { id: number }) => c.id);
    assert.deepEqual(mine, [older.conversationId]);
    const adminsOwn = (await admin.client.get('/support/conversations?assigned=mine')).body.data.conversations;
    assert.deepEqual(adminsOwn, []);
    const unassigned = (await agent.client.get('/support/conversations?assigned=unassigned&limit=200')).body.data.conversations.map((c: { id: number }) => c.id);
    assert.ok(unassigned.includes(newer.conversationId));
    assert.ok(!unassigned.includes(older.conversationId));

    const closed = await agent.client.post(`/support/conversations/${newer.conversationId}/close`);
    assert.equal(closed.status, 200);
    assert.equal(closed.body.data.conversation.status, 'closed');
    assert.ok(closed.body.data.conversation.closed_at);
    const open = (await agent.client.get('/support/conversations?status=open&limit=200')).body.data.conversations.map((c: { id: number }) => c.id);
    assert.ok(!open.includes(newer.conversationId));
    const closedList = (await agent.client.get('/support/conversations?status=closed&limit=200')).body.data.conversations.map((c: { id: number }) => c.id);
    assert.ok(closedList.includes(newer.conversationId));
    assert.ok(!closedList.includes(older.conversationId));

    const page = await agent.client.get('/support/conversations?status=all&limit=1&offset=1');
    assert.equal(page.body.data.conversations.length, 1);
    assert.equal(page.body.data.offset, 1);
  });

  it('assign, close and reopen change the conversation, each with an audit entry naming the agent; a visitor writing reopens it', async () => {
    const chat = await startChat(server);
    await chat.say('Please help');
    const id = chat.conversationId;
    const agents = await agent.client.get('/support/agents');
    assert.equal(agents.status, 200);
    assert.ok(agents.body.data.agents.some((a: { id: number; role: string }) => a.id === admin.staffId && a.role === 'admin'));
    assert.ok(agents.body.data.agents.some((a: { id: number; role: string }) => a.id === agent.staffId && a.role === 'support'));

    assert.equal((await agent.client.post(`/support/conversations/${id}/assign`, { staff_id: admin.staffId })).status, 200);
    const unassign = await admin.client.post(`/support/conversations/${id}/assign`, { staff_id: null });
    assert.equal(unassign.body.data.conversation.assigned_to, null);
    const assignAudit = await server.services.audit.list({ action: 'support.assign', targetId: String(id), limit: 10 });
    assert.deepEqual(
      assignAudit.map((e) => [e.staffId, e.targetType, e.before, e.after]).reverse(),
      [
        [agent.staffId, 'support_conversation', { assigned_staff_id: null, closed: false }, { assigned_staff_id: admin.staffId, closed: false }],
        [admin.staffId, 'support_conversation', { assigned_staff_id: admin.staffId, closed: false }, { assigned_staff_id: null, closed: false }],
      ],
    );

    assert.equal((await agent.client.post(`/support/conversations/${id}/close`)).body.data.conversation.status, 'closed');
    // Closing twice changes nothing and writes nothing.
    assert.equal((await agent.client.post(`/support/conversations/${id}/close`)).status, 200);
    const closeAudit = await server.services.audit.list({ action: 'support.close', targetId: String(id), limit: 10 });
    assert.equal(closeAudit.length, 1);
    assert.equal(closeAudit[0].actor, `staff:${agent.email}`);
    assert.deepEqual([closeAudit[0].before, closeAudit[0].after], [{ assigned_staff_id: null, closed: false }, { assigned_staff_id: null, closed: true }]);

    const reopened = await agent.client.post(`/support/conversations/${id}/reopen`);
    assert.equal(reopened.body.data.conversation.status, 'open');
    assert.equal(reopened.body.data.conversation.closed_at, null);
    assert.equal((await server.services.audit.list({ action: 'support.reopen', targetId: String(id), limit: 10 })).length, 1);

    await agent.client.post(`/support/conversations/${id}/close`);
    await chat.say('Still there?');
    assert.equal((await summaryOf(agent.client, id)).row.status, 'open', 'the visitor writing again reopens it');
  });

  it('the agent sees the signed-in visitor’s account, company, balance, block, page and recent activations', async () => {
    const customer = await signUp(server, { companyName: 'Context Corp' });
    await customer.client.post('/topup', { amount: 5 });
    await server.createProvider({ countryId: 6, count: 1 });
    const bought = await customer.client.post('/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    const chat = await startChat(server, { client: customer.client, page: '/activations' });
    await chat.say('Where is my code?', '/dashboard');

    const context = await agent.client.get(`/support/conversations/${chat.conversationId}/context`);
    assert.equal(context.status, 200, JSON.stringify(context.body));
    const data = context.body.data;
    assert.equal(data.conversation_id, chat.conversationId);
    assert.equal(data.page, '/dashboard');
    assert.equal(data.account.id, customer.account.id);
    assert.equal(data.account.email, customer.email);
    assert.equal(data.account.role, 'owner');
    assert.equal(data.company.id, customer.account.company_id);
    assert.equal(data.company.name, 'Context Corp');
    assert.equal(data.company.balance, 4.5);
    assert.equal(data.company.blocked, false);
    assert.deepEqual(
      data.recent_activations.map((a: { id: number; service: string; country: number; price: number; status: string }) => [a.id, a.service, a.country, a.price, a.status]),
      [[bought.body.data.activation.id, 'tg', 6, 0.5, 'waiting']],
    );
    const summary = (await summaryOf(agent.client, chat.conversationId)).row;
    assert.deepEqual(summary.account, { id: customer.account.id, email: customer.email, company_id: customer.account.company_id, company_name: 'Context Corp' });

    await server.services.accounts.block(cliActor, customer.account.company_id, 'chargeback');
    const blocked = (await agent.client.get(`/support/conversations/${chat.conversationId}/context`)).body.data;
    assert.equal(blocked.company.blocked, true);
    assert.equal(blocked.company.blocked_reason, 'chargeback');

    // An anonymous visitor has a page but no account.
    const anonymous = await startChat(server, { page: '/prices' });
    await anonymous.say('Just looking');
    const anonymousContext = (await agent.client.get(`/support/conversations/${anonymous.conversationId}/context`)).body.data;
    assert.deepEqual([anonymousContext.page, anonymousContext.account, anonymousContext.company, anonymousContext.recent_activations], ['/prices', null, null, []]);
  });

  it('the website keeps only a path as the page, and refuses a page that is not one or is too long', async () => {
    const chat = await startChat(server);
    const bad = await chat.visitor.post('/chat/messages', { text: 'hi', page: 'https://evil.example/x' }, { 'x-visitor-token': chat.token });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
    const long = await chat.visitor.post('/chat/messages', { text: 'hi', page: `/${'a'.repeat(300)}` }, { 'x-visitor-token': chat.token });
    assert.equal(long.status, 400);
    const startBad = await chat.visitor.post('/chat/conversations', { page: 42 });
    assert.equal(startBad.status, 400);
    await chat.say('hi', '/prices?utm=mail#top');
    assert.equal((await summaryOf(agent.client, chat.conversationId)).row.page, '/prices', 'query and fragment are dropped');
  });

  it('bad input gets a clear 400 or 404 in the envelope', async () => {
    const chat = await startChat(server);
    await chat.say('hello');
    const cases: [Promise<{ status: number; body: { error: { code: string } } }>, number, string][] = [
      [agent.client.get('/support/conversations/999999'), 404, 'not_found'],
      [agent.client.get('/support/conversations/999999/context'), 404, 'not_found'],
      [agent.client.get('/support/conversations/abc'), 400, 'invalid_request'],
      [agent.client.get('/support/conversations?status=pending'), 400, 'invalid_request'],
      [agent.client.get('/support/conversations?limit=0'), 400, 'invalid_request'],
      [agent.client.post('/support/conversations/999999/messages', { text: 'hi' }), 404, 'not_found'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/messages`, { text: '   ' }), 400, 'invalid_request'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/messages`, { text: 'x'.repeat(2001) }), 400, 'invalid_request'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/messages`, {}), 400, 'invalid_request'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/assign`, { staff_id: 999999 }), 404, 'not_found'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/assign`, { staff_id: 'me' }), 400, 'invalid_request'],
      [agent.client.post(`/support/conversations/${chat.conversationId}/assign`, {}), 400, 'invalid_request'],
      [agent.client.post('/support/conversations/999999/close'), 404, 'not_found'],
      [agent.client.post('/support/conversations/999999/reopen'), 404, 'not_found'],
    ];
    for (const [request, status, code] of cases) {
      const answer = await request;
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, code);
    }
  });

  it('support:reply from the CLI still answers, and the agents’ live stream hears it', async () => {
    const chat = await startChat(server);
    await chat.say('CLI please');
    const stream = await agent.client.events('/support/live');
    try {
      await stream.next((e) => e.event === 'ready');
      const reply = await runOperatorCommand(server.services, 'support:reply', ['--conversation', String(chat.conversationId), '--text', 'From the terminal']);
      assert.equal(reply.ok, true);
      const pushed = await stream.next((e) => e.event === 'message' && e.data.conversation_id === chat.conversationId && e.data.message.author === 'support', 1000);
      assert.equal(pushed.data.message.text, 'From the terminal');
      assert.equal(pushed.data.message.staff, null);
    } finally {
      stream.close();
    }
    assert.equal((await summaryOf(agent.client, chat.conversationId)).row.unread, 1, 'a CLI reply has no agent and reads nothing');
  });

  it('admins and support staff may use the inbox; customers and anonymous visitors get 403', async () => {
    const chat = await startChat(server);
    await chat.say('who may read me?');
    const customer = await signUp(server);
    const customerConsole = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
    for (const [name, value] of customer.client.cookies) customerConsole.cookies.set(name, value);
    await customerConsole.start();
    const anonymous = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
    await anonymous.start();
    const id = chat.conversationId;
    const routes: [string, string, unknown?][] = [
      ['GET', '/support/conversations'],
      ['GET', `/support/conversations/${id}`],
      ['GET', `/support/conversations/${id}/context`],
      ['GET', '/support/agents'],
      ['POST', `/support/conversations/${id}/messages`, { text: 'hi' }],
      ['POST', `/support/conversations/${id}/assign`, { staff_id: null }],
      ['POST', `/support/conversations/${id}/close`],
      ['POST', `/support/conversations/${id}/reopen`],
    ];
    for (const [method, path, body] of routes) {
      for (const [who, client] of [['admin', admin.client], ['support', agent.client]] as const) {
        const answer = method === 'GET' ? await client.get(path) : await client.post(path, body);
        assert.equal(answer.status, 200, `${who} ${method} ${path}: ${JSON.stringify(answer.body)}`);
      }
      for (const [who, client] of [['customer', customerConsole], ['anonymous', anonymous]] as const) {
        const answer = method === 'GET' ? await client.get(path) : await client.post(path, body);
        assert.equal(answer.status, 403, `${who} ${method} ${path}`);
        assert.equal(answer.body.error.code, 'forbidden');
      }
    }
    for (const client of [customerConsole, anonymous]) {
      const stream = await client.events('/support/live');
      assert.equal(stream.status, 403);
      stream.close();
    }
  });

  it('an agent’s live stream stops once they sign out', async () => {
    const signedOut = await signInStaff(server, 'support');
    const stream = await signedOut.client.events('/support/live');
    const stillIn = await agent.client.events('/support/live');
    try {
      await stream.next((e) => e.event === 'ready');
      await stillIn.next((e) => e.event === 'ready');
      await signedOut.client.post('/signout');
      const chat = await startChat(server);
      await chat.say('secret');
      await stillIn.next((e) => e.event === 'message' && e.data.conversation_id === chat.conversationId, 1000);
      await assert.rejects(stream.next((e) => e.event === 'message', 300));
    } finally {
      stream.close();
      stillIn.close();
    }
  });
});

describe('support inbox across server instances', () => {
  it('an agent on one instance sees a visitor writing on another within a second', { skip: testRedisUrl ? false : 'needs Redis (runs in the PostgreSQL pass)' }, async () => {
    const prefix = uniqueName('nova_test');
    const first = await startTestServer({ redisKeyPrefix: prefix });
    const second = await startTestServer({ database: first.database, clock: first.clock, redisKeyPrefix: prefix });
    try {
      const agent = await signInStaff(second, 'support');
      const stream = await agent.client.events('/support/live');
      try {
        await stream.next((e) => e.event === 'ready');
        const chat = await startChat(first);
        const started = Date.now();
        await chat.say('Hello from instance one');
        const pushed = await stream.next((e) => e.event === 'message' && e.data.conversation_id === chat.conversationId, 1000);
        assert.ok(Date.now() - started < 1000);
        assert.equal(pushed.data.message.text, 'Hello from instance one');
        // And back: the reply on the second instance reaches the widget connected to the first.
        const widget = await chat.visitor.events(`/chat/live?visitor_token=${chat.token}`);
        try {
          await agent.client.post(`/support/conversations/${chat.conversationId}/messages`, { text: 'Hello from instance two' });
          const reply = await widget.next((e) => e.event === 'message' && e.data.author === 'support', 1000);
          assert.equal(reply.data.text, 'Hello from instance two');
        } finally {
          widget.close();
        }
      } finally {
        stream.close();
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('chat retention', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('deletes closed anonymous conversations, messages first, only once they have been closed longer than NOVA_CHAT_RETENTION_DAYS', async () => {
    assert.equal(server.config.chatRetentionDays, 30, 'the default is 30 days');
    const day = 24 * 3600;
    const anonymousOld = await startChat(server);
    await anonymousOld.say('old question');
    const anonymousRecent = await startChat(server);
    await anonymousRecent.say('recent question');
    const anonymousOpen = await startChat(server);
    await anonymousOpen.say('still open');
    const customer = await signUp(server);
    const customers = await startChat(server, { client: customer.client });
    await customers.say('customer question');

    await server.services.support.close(cliActor, anonymousOld.conversationId);
    await server.services.support.close(cliActor, customers.conversationId);
    server.clock.advance(20 * day);
    await server.services.support.close(cliActor, anonymousRecent.conversationId);
    server.clock.advance(10 * day - 60);
    assert.equal(await server.jobs.chatRetention.runOnce(), 0, 'nothing is older than 30 days yet');
    server.clock.advance(120);

    assert.equal(await server.jobs.chatRetention.runOnce(), 1);
    const gone = await webClient(server.url).get('/chat/messages', { 'x-visitor-token': anonymousOld.token });
    assert.equal(gone.status, 404, 'the old anonymous conversation and its messages are gone');
    for (const kept of [anonymousRecent, anonymousOpen]) {
      const history = await webClient(server.url).get('/chat/messages', { 'x-visitor-token': kept.token });
      assert.equal(history.status, 200);
      assert.equal(history.body.data.messages.length, 1);
    }
    assert.equal((await server.services.support.messages(customers.conversationId)).length, 1, 'a customer’s conversation stays with the account');

    server.clock.advance(20 * day);
    assert.equal(await server.jobs.chatRetention.runOnce(), 1, 'the one closed 10 days later goes 10 days later');
    assert.equal((await webClient(server.url).get('/chat/messages', { 'x-visitor-token': anonymousRecent.token })).status, 404);
    assert.equal((await webClient(server.url).get('/chat/messages', { 'x-visitor-token': anonymousOpen.token })).status, 200);
    assert.equal(await server.jobs.chatRetention.runOnce(), 0);
  });

  it('NOVA_CHAT_RETENTION_DAYS is a whole number of days', () => {
    assert.equal(loadConfig({ NOVA_CHAT_RETENTION_DAYS: '7' }).chatRetentionDays, 7);
    assert.throws(() => loadConfig({ NOVA_CHAT_RETENTION_DAYS: 'soon' }), /NOVA_CHAT_RETENTION_DAYS/);
    assert.throws(() => loadConfig({ NOVA_CHAT_RETENTION_DAYS: '0' }), /NOVA_CHAT_RETENTION_DAYS/);
  });
});
