import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { ledgerVerify } from '../../../src/cli/commands/ledger-verify.ts';
import { AppError } from '../../../src/http/errors.ts';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server.ts';

const lifetimeSeconds = 1200;
const cancelAfterSeconds = 180;

let server: TestServer;

before(async () => {
  server = await startTestServer({
    env: { NOVA_ACTIVATION_LIFETIME_S: String(lifetimeSeconds), NOVA_CANCEL_AFTER_S: String(cancelAfterSeconds) },
  });
});

after(async () => {
  await server?.close();
});

async function balanceOf(api: ApiClient): Promise<number> {
  const response = await api.get('/api/v1/balance');
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data.balance;
}

/** The company's ledger, oldest first. */
async function ledgerOf(companyId: number) {
  return (await server.services.billing.ledger(companyId, { limit: 100, offset: 0 })).reverse();
}

async function buy(api: ApiClient, serviceCode: string, countryId: number): Promise<{ id: number; price: number }> {
  const response = await api.post('/api/v1/activations', { service_code: serviceCode, country_id: countryId });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.data.activation;
}

describe('the billing ledger', () => {
  it('shows the ledger-backed balance with four decimals', async () => {
    const company = await server.createCompany();
    const api = server.api(company.apiKey);
    assert.equal(await balanceOf(api), 0);

    await server.services.billing.credit({ companyId: company.companyId, amount: 140_912, kind: 'topup', reason: 'Wire transfer' });

    const response = await api.get('/api/v1/balance');
    assert.deepEqual(response.body, { ok: true, data: { balance: 14.0912, currency: 'USD' } });
    const rows = await ledgerOf(company.companyId);
    assert.deepEqual(
      rows.map((r) => ({ kind: r.kind, amount: r.amount, balanceAfter: r.balanceAfter, reason: r.reason })),
      [{ kind: 'topup', amount: 140_912, balanceAfter: 140_912, reason: 'Wire transfer' }],
    );
  });

  it('writes a purchase row for every buy and a refund row for every cancel and expiry, each with the running balance', async () => {
    await server.createProvider({ countryId: 6, count: 2 });
    const uk = await server.createProvider({ countryId: 16, count: 1 });
    const company = await server.createCompany('5');
    const api = server.api(company.apiKey);

    const cancelled = await buy(api, 'tg', 6);
    server.clock.advance(1);
    const expired = await buy(api, 'wa', 6);
    server.clock.advance(1);
    const completed = await buy(api, 'tg', 16);
    assert.equal(await balanceOf(api), 3.15);

    const sms = await server.api(uk.secret).post('/api/v1/supply/sms', { to: uk.numbers[0], from: 'Telegram', text: 'Telegram code: 12345' });
    assert.equal(sms.body.data?.activation_id, completed.id, JSON.stringify(sms.body));
    server.clock.advance(cancelAfterSeconds + 1);
    const cancel = await api.post(`/api/v1/activations/${cancelled.id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    server.clock.advance(lifetimeSeconds);
    await server.jobs.sweeper.runOnce();

    const rows = await ledgerOf(company.companyId);
    assert.deepEqual(
      rows.map((r) => [r.kind, r.amount, r.activationId]),
      [
        ['topup', 50_000, null],
        ['purchase', -5_000, cancelled.id],
        ['purchase', -7_500, expired.id],
        ['purchase', -6_000, completed.id],
        ['refund', 5_000, cancelled.id],
        // Expiry refunds the one still waiting; the one with a code completes and stays paid.
        ['refund', 7_500, expired.id],
      ],
    );
    let running = 0;
    for (const row of rows) {
      running += row.amount;
      assert.equal(row.balanceAfter, running, `row ${row.id} (${row.kind}) shows the balance after it`);
    }
    assert.equal(running, 50_000 - 6_000);
    assert.equal(await balanceOf(api), 4.4);
    assert.deepEqual(await server.services.billing.verify(), []);
  });

  it('finds a balance changed behind the ledger, so ledger:verify would exit 1', async () => {
    const company = await server.createCompany('2');
    const other = await server.createCompany('3');
    assert.equal((await ledgerVerify.run(server.services, [])).exitCode, 0);

    await server.database.db.execute(sql`update companies set balance = balance + 1 where id = ${company.companyId}`);
    try {
      const mismatches = await server.services.billing.verify();
      assert.deepEqual(mismatches, [{ companyId: company.companyId, balance: 20_001, ledgerSum: 20_000 }]);
      assert.ok(!mismatches.some((m) => m.companyId === other.companyId), 'a correct company is not reported');
      const output = await ledgerVerify.run(server.services, []);
      assert.equal(output.exitCode, 1);
      assert.match(output.text, new RegExp(`Company ${company.companyId}: balance 2\\.0001 USD but ledger sums to 2\\.0000 USD`));
    } finally {
      // Other tests in this file expect the books to balance.
      await server.database.db.execute(sql`update companies set balance = balance - 1 where id = ${company.companyId}`);
    }
    assert.deepEqual(await server.services.billing.verify(), []);
  });

  it('refuses a credit that would take the balance below zero, without writing a ledger row', async () => {
    const company = await server.createCompany('1');
    const api = server.api(company.apiKey);
    const before = await ledgerOf(company.companyId);

    await assert.rejects(
      server.services.billing.credit({ companyId: company.companyId, amount: -10_001, kind: 'adjustment', reason: 'Chargeback' }),
      (error: unknown) => error instanceof AppError && error.code === 'insufficient_balance',
    );

    assert.equal(await balanceOf(api), 1);
    assert.deepEqual(await ledgerOf(company.companyId), before);
    assert.deepEqual(await server.services.billing.verify(), []);

    // Down to exactly zero is allowed, with its row.
    await server.services.billing.credit({ companyId: company.companyId, amount: -10_000, kind: 'adjustment', reason: 'Chargeback' });
    assert.equal(await balanceOf(api), 0);
    const rows = await ledgerOf(company.companyId);
    assert.deepEqual(rows.slice(-1).map((r) => [r.kind, r.amount, r.balanceAfter]), [['adjustment', -10_000, 0]]);
  });

  it('refuses a zero or fractional-unit credit, without writing a ledger row', async () => {
    const company = await server.createCompany('1');
    for (const amount of [0, 0.5]) {
      await assert.rejects(
        server.services.billing.credit({ companyId: company.companyId, amount, kind: 'topup', reason: 'Typo' }),
        (error: unknown) => error instanceof AppError && error.code === 'invalid_request',
        `amount ${amount}`,
      );
    }
    assert.equal((await ledgerOf(company.companyId)).length, 1);
  });
});
