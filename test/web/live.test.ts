import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { feedback } from '../../src/modules/support/support.tables.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, webClient } from './web-client.ts';

describe('website live updates, chat and feedback', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  describe('activations', () => {
    it('an SMS arriving pushes the activation with its code to the owner’s live stream within a second; their member and another company hear nothing', async () => {
      const { client: owner } = await signUp(server);
      await owner.post('/topup', { amount: 5 });
      const invited = await owner.post('/team/invites', { email: freshEmail('member'), role: 'member' });
      const member = webClient(server.url);
      await member.start();
      await member.post('/invites/accept', { token: new URL(invited.body.data.invite_url).searchParams.get('token'), password: 'member password' });
      const { client: stranger } = await signUp(server);
      const { secret, numbers } = await server.createProvider({ countryId: 6, count: 1 });
      const bought = await owner.post('/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(bought.status, 201);
      const id = bought.body.data.activation.id;
      assert.equal(bought.body.data.activation.number, numbers[0]);

      const ownerStream = await owner.events('/live');
      const strangerStream = await stranger.events('/live');
      const memberStream = await member.events('/live');
      try {
        assert.equal(ownerStream.status, 200);
        const sms = await server.api(secret).post('/api/v1/supply/sms', { to: numbers[0], from: 'Telegram', text: 'Telegram code: 12345' });
        assert.equal(sms.status, 200);
        const started = Date.now();
        const pushed = await ownerStream.next((e) => e.event === 'activation' && e.data.activation.id === id, 1000);
        assert.ok(Date.now() - started < 1000);
        assert.equal(pushed.data.activation.status, 'sms_received');
        assert.equal(pushed.data.activation.code, '12345');
        assert.equal(pushed.data.activation.messages[0].text, 'Telegram code: 12345');
        await assert.rejects(strangerStream.next((e) => e.event === 'activation', 300));
        await assert.rejects(memberStream.next((e) => e.event === 'activation', 1));

        const completed = await owner.post(`/activations/${id}/complete`);
        assert.equal(completed.body.data.activation.status, 'completed');
        const done = await ownerStream.next((e) => e.event === 'activation' && e.data.activation.status === 'completed', 1000);
        assert.equal(done.data.activation.id, id);
      } finally {
        ownerStream.close();
        strangerStream.close();
        memberStream.close();
      }
    });

    it('the live stream needs a session', async () => {
      const anonymous = webClient(server.url);
      const stream = await anonymous.events('/live');
      stream.close();
      assert.equal(stream.status, 401);
    });

    it('activations are bought, listed, cancelled and exported as CSV through the website with the API’s rules', async () => {
      const { client } = await signUp(server);
      await client.post('/topup', { amount: 5 });
      await server.createProvider({ countryId: 16, count: 2 });
      const bought = await client.post('/activations', { service_code: 'tg', country_id: 16 });
      assert.equal(bought.status, 201);
      const activation = bought.body.data.activation;
      assert.deepEqual(Object.keys(activation).sort(), ['cancel_available_at', 'code', 'country', 'created_at', 'expires_at', 'id', 'number', 'operator', 'price', 'reused_from', 'service', 'status', 'text', 'type']);
      const tooEarly = await client.post(`/activations/${activation.id}/cancel`);
      assert.equal(tooEarly.status, 409);
      assert.equal(tooEarly.body.error.code, 'too_early');
      server.clock.advance(181);
      const cancelled = await client.post(`/activations/${activation.id}/cancel`);
      assert.equal(cancelled.body.data.activation.status, 'cancelled');
      assert.equal((await client.get('/balance')).body.data.balance, 5);
      await client.post('/activations', { service_code: 'tg', country_id: 16 });

      const list = await client.get('/activations?limit=1&status=cancelled');
      assert.equal(list.body.data.total, 1);
      assert.equal(list.body.data.activations[0].id, activation.id);
      const single = await client.get(`/activations/${activation.id}`);
      assert.deepEqual(single.body.data.activation.messages, []);

      const csv = await client.get('/activations.csv');
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type')!, /text\/csv/);
      assert.match(csv.headers.get('content-disposition')!, /attachment/);
      const lines = (csv.body as string).trim().split('\r\n');
      assert.equal(lines[0], 'id,number,service,country,price,status,code,created_at,expires_at,reused_from,report_reason,report_refunded');
      assert.equal(lines.length, 3);
      assert.ok(lines[2].startsWith(`${activation.id},${activation.number},tg,16,0.6,cancelled,,`));
      const onlyCancelled = await client.get('/activations.csv?status=cancelled');
      assert.equal((onlyCancelled.body as string).trim().split('\r\n').length, 2);
      const poor = await client.post('/activations', { service_code: 'tg', country_id: 16, max_price: 1 });
      assert.equal(poor.status, 400, 'the website buys without API-only fields');
    });
  });

  describe('chat with us', () => {
    async function startChat() {
      const visitor = webClient(server.url);
      await visitor.start();
      const started = await visitor.post('/chat/conversations');
      assert.equal(started.status, 200);
      const { conversation_id: conversationId, visitor_token: token } = started.body.data;
      return { visitor, conversationId: conversationId as number, token: token as string };
    }

    it('a visitor without an account chats; <script> is stored and returned as plain text; the history survives a reload', async () => {
      const { visitor, token } = await startChat();
      const text = 'Hi! <script>alert("x")</script> & more';
      const sent = await visitor.post('/chat/messages', { text }, { 'x-visitor-token': token });
      assert.equal(sent.status, 200);
      assert.equal(sent.body.data.message.author, 'visitor');
      assert.equal(sent.body.data.message.text, text);
      const reloaded = webClient(server.url);
      const history = await reloaded.get('/chat/messages', { 'x-visitor-token': token });
      assert.deepEqual(history.body.data.messages.map((m: { text: string; author: string }) => [m.author, m.text]), [['visitor', text]]);
      assert.match(history.headers.get('content-type')!, /application\/json/);
      assert.equal((await reloaded.get('/chat/messages', { 'x-visitor-token': 'nv_unknown' })).status, 404);
      const tooLong = await visitor.post('/chat/messages', { text: 'x'.repeat(2001) }, { 'x-visitor-token': token });
      assert.equal(tooLong.status, 400);
      const empty = await visitor.post('/chat/messages', { text: '   ' }, { 'x-visitor-token': token });
      assert.equal(empty.status, 400);
    });

    it('an operator reply from the CLI arrives on the visitor’s live stream, and the inbox lists the conversation', async () => {
      const { visitor, conversationId, token } = await startChat();
      const first = await visitor.post('/chat/messages', { text: 'Where is my code?' }, { 'x-visitor-token': token });
      const inbox = await runOperatorCommand(server.services, 'support:inbox', []);
      const entry = (inbox.output!.json as { conversations: { conversation_id: number; waiting: boolean; last_text: string }[] }).conversations.find((c) => c.conversation_id === conversationId);
      assert.deepEqual([entry?.waiting, entry?.last_text], [true, 'Where is my code?']);

      const stream = await visitor.events(`/chat/live?visitor_token=${token}&after=${first.body.data.message.id}`);
      try {
        assert.equal(stream.status, 200);
        const reply = await runOperatorCommand(server.services, 'support:reply', ['--conversation', String(conversationId), '--text', 'It is on its way']);
        assert.equal(reply.ok, true);
        const pushed = await stream.next((e) => e.event === 'message', 1000);
        assert.equal(pushed.data.author, 'support');
        assert.equal(pushed.data.text, 'It is on its way');
      } finally {
        stream.close();
      }
      const unknown = await runOperatorCommand(server.services, 'support:reply', ['--conversation', '999999', '--text', 'hello?']);
      assert.equal(unknown.error?.code, 'not_found');
      const after = await runOperatorCommand(server.services, 'support:inbox', []);
      const answered = (after.output!.json as { conversations: { conversation_id: number; waiting: boolean }[] }).conversations.find((c) => c.conversation_id === conversationId);
      assert.equal(answered?.waiting, false);
    });

    it('visitor messages are rate limited per conversation', async () => {
      const { visitor, token } = await startChat();
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await visitor.post('/chat/messages', { text: `message ${i}` }, { 'x-visitor-token': token })).status);
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200));
      assert.deepEqual(statuses.slice(10), [429, 429]);
      const other = await startChat();
      assert.equal((await other.visitor.post('/chat/messages', { text: 'hello' }, { 'x-visitor-token': other.token })).status, 200);
    });

    it('a signed-in visitor’s conversation is tied to the account', async () => {
      const { client, email } = await signUp(server);
      const started = await client.post('/chat/conversations');
      await client.post('/chat/messages', { text: 'Signed in question' }, { 'x-visitor-token': started.body.data.visitor_token });
      const inbox = await runOperatorCommand(server.services, 'support:inbox', []);
      const entry = (inbox.output!.json as { conversations: { conversation_id: number; email: string | null }[] }).conversations.find((c) => c.conversation_id === started.body.data.conversation_id);
      assert.equal(entry?.email, email);
    });
  });

  describe('feedback', () => {
    it('a rating with a comment is stored and answered with "Thanks for your feedback!"', async () => {
      const visitor = webClient(server.url);
      await visitor.start();
      const answer = await visitor.post('/feedback', { rating: 5, comment: 'Fast <b>codes</b>', context: 'activation', reference: '42' });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body.data, { message: 'Thanks for your feedback!' });
      const rows = await server.database.db.select().from(feedback).where(eq(feedback.reference, '42'));
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0].rating, rows[0].comment, rows[0].context], [5, 'Fast <b>codes</b>', 'activation']);
      assert.equal((await visitor.post('/feedback', { rating: 6, context: 'chat' })).status, 400);
      assert.equal((await visitor.post('/feedback', { rating: 3, context: 'elsewhere' })).status, 400);
    });
  });
});
