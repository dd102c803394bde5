import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, type WebClient, webClient } from './web-client.ts';

describe('website: buying a number again and reporting a bad one', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function owner(usd = 5) {
    const signed = await signUp(server);
    await server.services.billing.credit({ companyId: signed.account.company_id, amount: usd * 10_000, kind: 'topup', reason: 'test credit' });
    return signed;
  }

  /** Buys Telegram in the US, receives its code and completes it; returns the activation. */
  async function completedActivation(client: WebClient) {
    const { secret } = await server.createProvider({ countryId: 6, count: 1 });
    const bought = await client.post('/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const activation = bought.body.data.activation;
    assert.equal((await server.api(secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 13579' })).status, 200);
    const completed = await client.post(`/activations/${activation.id}/complete`);
    assert.equal(completed.body.data.activation.status, 'completed');
    return activation as { id: number; number: string };
  }

  const balanceOf = async (client: WebClient) => (await client.get('/balance')).body.data.balance as number;

  it('buys a completed activation’s number again, shows where it came from in the list and the CSV, and refuses while it is busy', async () => {
    const { client } = await owner(5);
    const first = await completedActivation(client);
    const reused = await client.post(`/activations/${first.id}/reuse`);
    assert.equal(reused.status, 201, JSON.stringify(reused.body));
    const again = reused.body.data.activation;
    assert.equal(again.number, first.number);
    assert.equal(again.service, 'tg');
    assert.equal(again.status, 'waiting');
    assert.equal(again.reused_from, first.id);
    assert.equal(await balanceOf(client), 4);
    assert.equal((await client.get(`/activations/${again.id}`)).body.data.activation.reused_from, first.id);

    const busy = await client.post(`/activations/${first.id}/reuse`);
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'reuse_unavailable');
    const open = await client.post(`/activations/${again.id}/reuse`);
    assert.equal(open.status, 409);
    assert.equal(open.body.error.code, 'invalid_state');
    assert.equal(await balanceOf(client), 4);

    const csv = ((await client.get('/activations.csv')).body as string).trim().split('\r\n');
    assert.equal(csv[0], 'id,number,service,country,price,status,code,created_at,expires_at,reused_from,report_reason,report_refunded');
    assert.ok(csv[1].startsWith(`${again.id},${again.number},tg,6,0.5,waiting,,`), csv[1]);
    assert.ok(csv[1].endsWith(`,${first.id},,`), csv[1]);
    assert.ok(csv[2].startsWith(`${first.id},${first.number},tg,6,0.5,completed,13579,`), csv[2]);
    assert.ok(csv[2].endsWith(',,,'), 'a new number was reused from nothing and not reported');
  });

  it('reports a waiting activation: "used" refunds at once, "no_sms" keeps it waiting, a second report and bad input are refused', async () => {
    const { client } = await owner(5);
    await server.createProvider({ countryId: 6, count: 2 });
    const a = (await client.post('/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const b = (await client.post('/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    assert.equal(await balanceOf(client), 4);

    for (const bad of [{}, { reason: 'spam' }, { reason: 'used', note: 'x'.repeat(501) }, { reason: 'used', extra: true }]) {
      const answer = await client.post(`/activations/${a.id}/report`, bad);
      assert.equal(answer.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'invalid_request');
    }

    const used = await client.post(`/activations/${a.id}/report`, { reason: 'used', note: ' Telegram says it is taken ' });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.data.activation.status, 'cancelled');
    assert.equal(used.body.data.report.reason, 'used');
    assert.equal(used.body.data.report.note, 'Telegram says it is taken');
    assert.equal(used.body.data.report.refunded, true);
    assert.match(used.body.data.report.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(await balanceOf(client), 4.5);

    const noSms = await client.post(`/activations/${b.id}/report`, { reason: 'no_sms' });
    assert.equal(noSms.status, 200, JSON.stringify(noSms.body));
    assert.equal(noSms.body.data.activation.status, 'waiting');
    assert.equal(noSms.body.data.report.refunded, false);
    assert.equal(noSms.body.data.report.note, null);
    const twice = await client.post(`/activations/${b.id}/report`, { reason: 'blocked' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'invalid_state');
    assert.match(twice.body.error.message, /already reported/);
    const finished = await client.post(`/activations/${a.id}/report`, { reason: 'other' });
    assert.equal(finished.status, 409, 'a cancelled activation takes no report');
    assert.equal(await balanceOf(client), 4.5);

    // The history and its CSV say which activations were reported, why, and whether it refunded.
    const history = (await client.get('/activations?limit=10')).body.data.activations as { id: number; report: { reason: string; refunded: boolean } | null }[];
    const reportOf = (id: number) => history.find((row) => row.id === id)?.report;
    assert.deepEqual({ reason: reportOf(a.id)?.reason, refunded: reportOf(a.id)?.refunded }, { reason: 'used', refunded: true });
    assert.deepEqual({ reason: reportOf(b.id)?.reason, refunded: reportOf(b.id)?.refunded }, { reason: 'no_sms', refunded: false });
    const csv = ((await client.get('/activations.csv')).body as string).trim().split('\r\n');
    assert.ok(csv.find((line) => line.startsWith(`${a.id},`))?.endsWith(',used,true'), csv.join('\n'));
    assert.ok(csv.find((line) => line.startsWith(`${b.id},`))?.endsWith(',no_sms,false'), csv.join('\n'));
  });

  it('reuse and report need the CSRF token and the session, and a member cannot touch the owner’s activations', async () => {
    const { client: boss } = await owner(5);
    const first = await completedActivation(boss);
    await server.createProvider({ countryId: 6, count: 1 });
    const waiting = (await boss.post('/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;

    for (const token of ['', 'forged']) {
      const reuse = await boss.post(`/activations/${first.id}/reuse`, undefined, { 'x-csrf-token': token });
      assert.equal(reuse.status, 403);
      assert.match(reuse.body.error.message, /CSRF/);
      const report = await boss.post(`/activations/${waiting.id}/report`, { reason: 'used' }, { 'x-csrf-token': token });
      assert.equal(report.status, 403);
      assert.match(report.body.error.message, /CSRF/);
    }
    const anonymous = webClient(server.url);
    await anonymous.start();
    assert.equal((await anonymous.post(`/activations/${first.id}/reuse`)).status, 401);
    assert.equal((await anonymous.post(`/activations/${waiting.id}/report`, { reason: 'used' })).status, 401);

    const invited = await boss.post('/team/invites', { email: freshEmail('member'), role: 'member' });
    const member = webClient(server.url);
    await member.start();
    await member.post('/invites/accept', { token: new URL(invited.body.data.invite_url).searchParams.get('token'), password: 'member password 1' });
    const { client: stranger } = await owner(5);
    for (const client of [member, stranger]) {
      const reuse = await client.post(`/activations/${first.id}/reuse`);
      assert.equal(reuse.status, 404);
      assert.equal(reuse.body.error.code, 'not_found');
      assert.equal((await client.post(`/activations/${waiting.id}/report`, { reason: 'used' })).status, 404);
    }
    assert.equal((await boss.get(`/activations/${waiting.id}`)).body.data.activation.status, 'waiting', 'nothing was reported');
    assert.equal(await balanceOf(boss), 4);
    assert.equal((await boss.post('/activations/99999999999/reuse')).status, 404);
  });
});
