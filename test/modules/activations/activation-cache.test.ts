import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { cliActor } from '../../../src/modules/audit/audit.service.ts';
import { rowsOf } from '../../../src/db/database.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

/**
 * Polls and balance reads are answered from the instance's memory (src/modules/activations/
 * activation-cache.ts, src/modules/billing/balance-cache.ts). These tests hold it to the two things
 * that make that safe: every change shows on the very next read, and a key sees exactly what it
 * saw before. Across two instances: test/production/cache-coherence-instances.test.ts.
 */
describe('polls and balance reads answered from memory', () => {
  let server: TestServer;
  let provider: { secret: string; numbers: string[] };

  before(async () => {
    server = await startTestServer();
    provider = await server.createProvider({ countryId: 6, count: 30 });
  });
  after(() => server.close());

  const sms = (to: string, text: string) => server.api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text });
  const readHits = () => server.services.activations.readCacheStats().hits;
  // With Redis, this instance also hears its own commits come back on the channel a moment after
  // it dropped its entry itself: that echo may cost one more database read, never more.
  const echoMisses = 1;

  async function buy(apiKey: string): Promise<{ id: number; number: string }> {
    const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    return bought.body.data.activation;
  }

  async function poll(apiKey: string, id: number) {
    const response = await server.api(apiKey).get(`/api/v1/activations/${id}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data.activation;
  }

  it('answers repeated polls from memory, and the very next poll after an SMS shows its code and message', async () => {
    const { apiKey } = await server.createCompany('10');
    const { id, number } = await buy(apiKey);
    assert.equal((await poll(apiKey, id)).status, 'waiting');
    const hitsBefore = readHits();
    for (let i = 0; i < 5; i++) assert.equal((await poll(apiKey, id)).code, null);
    assert.ok(readHits() - hitsBefore >= 5 - echoMisses, 'the five polls after the first were answered from memory');

    const pushed = await sms(number, 'Telegram code: 31415');
    assert.equal(pushed.body.data.activation_id, id);
    // No pause: the SMS push answered only once the change was announced.
    const received = await poll(apiKey, id);
    assert.equal(received.status, 'sms_received');
    assert.equal(received.code, '31415');
    assert.deepEqual(
      received.messages.map((m: { text: string; code: string }) => [m.text, m.code]),
      [['Telegram code: 31415', '31415']],
    );

    // A second SMS on an activation that already has one changes it again.
    await poll(apiKey, id);
    await sms(number, 'Your new Telegram code: 27182');
    const second = await poll(apiKey, id);
    assert.equal(second.code, '27182');
    assert.equal(second.messages.length, 2);

    await server.api(apiKey).post(`/api/v1/activations/${id}/complete`);
    assert.equal((await poll(apiKey, id)).status, 'completed');
  });

  it('answers the buyer’s first poll from memory, as the database would', async () => {
    // The purchase keeps the activation it committed; its echo on the channel leaves it there.
    const { apiKey } = await server.createCompany('10');
    const { id } = await buy(apiKey);
    const before = server.services.activations.readCacheStats();
    const first = await poll(apiKey, id);
    const after = server.services.activations.readCacheStats();
    assert.deepEqual([after.hits - before.hits, after.misses - before.misses], [1, 0], 'the first poll was a hit');
    // An instance that holds nothing reads the database: the same answer, to the byte.
    const fresh = await startTestServer({ database: server.database, clock: server.clock });
    try {
      const fromDatabase = await fresh.api(apiKey).get(`/api/v1/activations/${id}`);
      assert.deepEqual(first, fromDatabase.body.data.activation);
    } finally {
      await fresh.close();
    }
  });

  it('cancels an activation it holds in one go, and cancels nothing when its copy is behind', async () => {
    const { apiKey, companyId } = await server.createCompany('10');
    const api = server.api(apiKey);
    const kept = await buy(apiKey);
    const behind = await buy(apiKey);
    const early = await buy(apiKey);
    server.clock.advance(181);
    const tooEarly = await buy(apiKey);
    const member = await server.addMember(companyId);

    const cancelled = await api.post(`/api/v1/activations/${kept.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.data.activation.status, 'cancelled');
    // What it answered is what it wrote: read by an instance that holds nothing.
    const fresh = await startTestServer({ database: server.database, clock: server.clock });
    try {
      // (A poll's answer carries its messages too; a cancel's does not.)
      const { messages, ...fromDatabase } = (await fresh.api(apiKey).get(`/api/v1/activations/${kept.id}`)).body.data.activation;
      assert.deepEqual([cancelled.body.data.activation, messages], [fromDatabase, []]);
    } finally {
      await fresh.close();
    }

    // An SMS this instance has not heard of (as if its message were still on the way): the copy
    // says waiting, the database does not. Nothing may be refunded or released.
    await server.database.db.execute(
      sql`update activations set status = 'sms_received', code = '27182', text = 'Telegram code: 27182', sms_received_at = now() where id = ${behind.id}`,
    );
    const refused = await api.post(`/api/v1/activations/${behind.id}/cancel`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.match(refused.body.error.message, /sms_received/);

    const notYet = await api.post(`/api/v1/activations/${tooEarly.id}/cancel`);
    assert.equal(notYet.body.error?.code, 'too_early', JSON.stringify(notYet.body));
    const notTheirs = await server.api(member.apiKey).post(`/api/v1/activations/${early.id}/cancel`);
    assert.equal(notTheirs.status, 404);
    assert.equal(notTheirs.body.error.code, 'not_found');

    const refunds = (await server.services.billing.ledger(companyId, { limit: 100, offset: 0 })).filter((row) => row.kind === 'refund');
    assert.deepEqual(refunds.map((row) => row.activationId), [kept.id], 'one refund, for the cancelled activation only');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 8.5);
    const busy = rowsOf<{ id: number; busy_activation_id: number | null }>(
      await server.database.db.execute(sql`select a.id, n.busy_activation_id from activations a join phone_numbers n on n.id = a.number_id where a.id in (${kept.id}, ${behind.id})`),
    );
    assert.deepEqual(
      busy.map((row) => [Number(row.id), row.busy_activation_id === null ? null : Number(row.busy_activation_id)]).sort((a, b) => a[0]! - b[0]!),
      [
        [kept.id, null],
        [behind.id, behind.id],
      ],
      'the cancelled number is free again; the other still serves its activation',
    );
    assert.deepEqual(await server.services.billing.verify(), []);
  });

  it('serves what it holds, not the database, until a change is announced', async () => {
    // Proof that polls really come from memory: a row changed behind the app's back (no event)
    // stays unseen, and the next announced change brings the whole current state.
    const { apiKey } = await server.createCompany('10');
    const { id, number } = await buy(apiKey);
    await poll(apiKey, id);
    await server.database.db.execute(sql`update activations set text = 'edited behind the app' where id = ${id}`);
    assert.equal((await poll(apiKey, id)).text, null, 'answered from memory');
    await sms(number, 'Telegram code: 16180');
    const after = await poll(apiKey, id);
    assert.equal(after.code, '16180');
    assert.equal(after.text, 'Telegram code: 16180');
  });

  it('shows a cancel, an expiry, a cancel by the number’s source and a staff-attached SMS on the very next poll', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const cancelled = await buy(apiKey);
    const bySource = await buy(apiKey);
    const attached = await buy(apiKey);
    for (const { id } of [cancelled, bySource, attached]) {
      await poll(apiKey, id);
      await poll(apiKey, id);
    }

    server.clock.advance(181);
    assert.equal((await api.post(`/api/v1/activations/${cancelled.id}/cancel`)).status, 200);
    assert.equal((await poll(apiKey, cancelled.id)).status, 'cancelled');

    await server.services.activations.cancelBySource(bySource.id);
    assert.equal((await poll(apiKey, bySource.id)).status, 'cancelled');

    // An SMS that matched nothing (sent to a number no activation holds), attached by staff.
    const idle = await server.createProvider({ countryId: 6, count: 1 });
    const stray = await server.api(idle.secret).post('/api/v1/supply/sms', { to: idle.numbers[0], from: 'Telegram', text: 'Telegram code: 90909' });
    assert.equal(stray.body.data.activation_id, null);
    await server.services.supplyConsole.attachSms(cliActor, stray.body.data.sms_id, attached.id);
    const withSms = await poll(apiKey, attached.id);
    assert.equal(withSms.code, '90909');
    assert.equal(withSms.messages.length, 1);

    const expiring = await buy(apiKey);
    await poll(apiKey, expiring.id);
    server.clock.advance(1200);
    await server.jobs.sweeper.runOnce();
    assert.equal((await poll(apiKey, expiring.id)).status, 'expired');
    assert.equal((await poll(apiKey, attached.id)).status, 'completed');
  });

  it('still answers 404 to another company’s key and to a member asking for a colleague’s activation, cached or not', async () => {
    const owner = await server.createCompany('10');
    const memberA = await server.addMember(owner.companyId);
    const memberB = await server.addMember(owner.companyId);
    const stranger = await server.createCompany('10');
    const ofOwner = await buy(owner.apiKey);
    const ofMemberA = await buy(memberA.apiKey);

    for (const id of [ofOwner.id, ofMemberA.id]) {
      await poll(owner.apiKey, id);
      await poll(owner.apiKey, id);
    }
    const hitsBefore = readHits();
    const refusals: [string, number][] = [
      [stranger.apiKey, ofOwner.id],
      [stranger.apiKey, ofMemberA.id],
      [memberB.apiKey, ofMemberA.id],
      [memberB.apiKey, ofOwner.id],
      [memberA.apiKey, ofOwner.id],
    ];
    for (const [key, id] of refusals) {
      const response = await server.api(key).get(`/api/v1/activations/${id}`);
      assert.equal(response.status, 404);
      assert.equal(response.body.error.code, 'not_found');
      assert.equal(response.body.error.message, `Activation ${id} not found for this API key`);
      const waited = await server.api(key).get(`/api/v1/activations/${id}?wait=5`);
      assert.equal(waited.status, 404, 'nor by long-poll');
    }
    assert.ok(readHits() - hitsBefore >= refusals.length, 'the refusals were decided on cached activations');
    // The compat protocol reads through the same cache, with the same check.
    const compat = await fetch(`${server.url}/stubs/handler_api.php?${new URLSearchParams({ api_key: stranger.apiKey, action: 'getStatus', id: String(ofOwner.id) })}`);
    assert.equal(await compat.text(), 'NO_ACTIVATION');
    // The entitled keys still see them.
    assert.equal((await poll(memberA.apiKey, ofMemberA.id)).id, ofMemberA.id);
    assert.equal((await poll(owner.apiKey, ofMemberA.id)).id, ofMemberA.id);
  });

  it('answers compat getStatus from the same cache, with the code on the very next call', async () => {
    const { apiKey } = await server.createCompany('10');
    const { id, number } = await buy(apiKey);
    const getStatus = async () =>
      (await fetch(`${server.url}/stubs/handler_api.php?${new URLSearchParams({ api_key: apiKey, action: 'getStatus', id: String(id) })}`)).text();
    assert.equal(await getStatus(), 'STATUS_WAIT_CODE');
    const hitsBefore = readHits();
    for (let i = 0; i < 3; i++) assert.equal(await getStatus(), 'STATUS_WAIT_CODE');
    assert.ok(readHits() - hitsBefore >= 3 - echoMisses, 'answered from memory');
    // The push's own answer first: a failed push would otherwise read as a stale cache.
    const pushed = await sms(number, 'Telegram code: 11235');
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    assert.equal(pushed.body.data.activation_id, id, JSON.stringify(pushed.body));
    assert.equal(await getStatus(), 'STATUS_OK:11235');
  });

  it('answers GET /balance from memory, and the very next read after a top-up, a buy or a refund shows it', async () => {
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const balance = async () => (await api.get('/api/v1/balance')).body.data.balance;
    const stats = () => server.services.billing.balanceCacheStats();
    assert.equal(await balance(), 10);
    const hitsBefore = stats().hits;
    for (let i = 0; i < 3; i++) assert.equal(await balance(), 10);
    assert.ok(stats().hits - hitsBefore >= 3 - echoMisses, 'answered from memory');

    await server.services.billing.credit({ companyId: company.companyId, amount: 25_000, kind: 'topup', reason: 'test top-up' });
    assert.equal(await balance(), 12.5);
    const { id } = await buy(company.apiKey);
    assert.equal(await balance(), 12);
    server.clock.advance(181);
    await api.post(`/api/v1/activations/${id}/cancel`);
    assert.equal(await balance(), 12.5, 'the refund');
    await server.services.billing.adjust({ companyId: company.companyId, amount: -5_000, reason: 'Chargeback', actor: cliActor });
    assert.equal(await balance(), 12, 'a staff adjustment');

    // Another company's balance is its own entry.
    const other = await server.createCompany('3');
    assert.equal((await server.api(other.apiKey).get('/api/v1/balance')).body.data.balance, 3);
    assert.equal(await balance(), 12);
  });
});
