import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { ledgerVerify } from '../../../src/cli/commands/ledger-verify.ts';
import { rowsOf } from '../../../src/db/database.ts';
import { startTestServer, type ApiClient, type ApiResponse, type TestServer } from '../../support/test-server.ts';

/**
 * Ten companies buy and cancel at once on a pool too small for all of them, through the real HTTP
 * edge. A purchase no longer queues on anything shared by companies (it takes a number with SKIP
 * LOCKED, then its own company's balance row last): on PostgreSQL their transactions really
 * overlap, on PGlite they interleave on its one connection. Whatever the interleaving, the books
 * and the stock must come out exact.
 */

const companyCount = 10;
const rounds = 3;
const buysPerRound = 4;
const poolSize = 24;
const prices = { tg: 5000, wa: 7500 };

let server: TestServer;

before(async () => {
  // Every activation here is cancelled without an SMS: the provider and its numbers must stay on
  // sale (see provider-auto-disable.test.ts for those rules).
  server = await startTestServer({ env: { NOVA_CANCEL_AFTER_S: '0', NOVA_PROVIDER_MAX_FAILURES: '100000', NOVA_NUMBER_MAX_FAILURES: '100000' } });
});

after(async () => {
  await server?.close();
});

async function query<T>(text: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await server.database.db.execute(text));
}

function assertNoServerErrors(responses: ApiResponse[]) {
  assert.deepEqual(
    responses.filter((r) => r.status >= 500).map((r) => r.body),
    [],
    'no request failed with a server error',
  );
}

describe('a buy race across companies', () => {
  it('keeps every balance equal to its ledger, sells no number twice for a service and refunds each cancel once, when 10 companies buy and cancel at once', async () => {
    const countryId = 950;
    await server.services.catalog.upsertCountry({ id: countryId, name: 'Race market', iso: 'QR', dialPrefix: '1' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: prices.tg });
    await server.services.catalog.setPrice({ serviceCode: 'wa', countryId, price: prices.wa });
    const provider = await server.createProvider({ countryId, count: poolSize });
    // Some companies can pay for one number at a time, the others for several: both refusals
    // (no money, no stock) happen in the middle of other companies' sales.
    const credits = Array.from({ length: companyCount }, (_, i) => (i % 3 === 0 ? '0.5' : '3'));
    const companies = await Promise.all(credits.map((credit) => server.createCompany(credit)));

    // Numbers held by an activation the client has not asked to cancel yet: none may be sold again meanwhile.
    const held = new Map<string, number>();
    const overlaps: string[] = [];
    const sold: { companyIndex: number; id: number; number: string; service: 'tg' | 'wa' }[] = [];
    const all: ApiResponse[] = [];

    // While the race runs, a reader checks in one snapshot after another that the numbers and
    // the open activations agree: every open activation holds its number, no number two of them.
    let racing = true;
    let snapshots = 0;
    const inconsistencies: unknown[] = [];
    const watcher = (async () => {
      while (racing) {
        const rows = await query<{ problem: string; id: number }>(sql`
          select 'two open activations on number ' || number_id as problem, number_id as id from activations
          where country_id = ${countryId} and status in ('waiting', 'sms_received') group by number_id having count(*) > 1
          union all
          select 'open activation not holding its number', a.id from activations a join phone_numbers n on n.id = a.number_id
          where a.country_id = ${countryId} and a.status in ('waiting', 'sms_received') and n.busy_activation_id is distinct from a.id
          union all
          select 'number busy with a finished activation', n.id from phone_numbers n join activations a on a.id = n.busy_activation_id
          where n.provider_id = ${provider.providerId} and a.status not in ('waiting', 'sms_received')`);
        inconsistencies.push(...rows);
        snapshots++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    async function trade(companyIndex: number) {
      const api: ApiClient = server.api(companies[companyIndex].apiKey);
      for (let round = 0; round < rounds; round++) {
        const services = Array.from({ length: buysPerRound }, (_, k) => ((companyIndex + round + k) % 2 ? 'wa' : 'tg') as 'tg' | 'wa');
        const requests = services.map((service) => api.post('/api/v1/activations', { service_code: service, country_id: countryId }));
        // In the first round, the first purchase is also retried at once with one Idempotency-Key.
        const retries =
          round === 0
            ? [0, 1].map(() => api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId }, { 'idempotency-key': `race-${companyIndex}` }))
            : [];
        const buys = await Promise.all([...requests, ...retries]);
        all.push(...buys);
        for (const response of buys) {
          if (response.status === 201) continue;
          assert.ok(
            (response.status === 402 && response.body.error.code === 'insufficient_balance') || (response.status === 409 && response.body.error.code === 'out_of_stock'),
            `a refused purchase says why: ${response.status} ${JSON.stringify(response.body)}`,
          );
        }
        const [first, second] = buys.slice(requests.length);
        if (first?.status === 201 && second?.status === 201) {
          assert.equal(first.body.data.activation.id, second.body.data.activation.id, 'both retries answer with one activation');
        }
        const bought = new Map<number, { number: string; service: 'tg' | 'wa' }>();
        for (const response of buys.filter((r) => r.status === 201)) {
          const activation = response.body.data.activation;
          if (bought.has(activation.id)) continue;
          bought.set(activation.id, { number: activation.number, service: activation.service });
          const holder = held.get(activation.number);
          if (holder !== undefined) overlaps.push(`${activation.number}: activation ${activation.id} while ${holder} held it`);
          held.set(activation.number, activation.id);
          sold.push({ companyIndex, id: activation.id, number: activation.number, service: activation.service });
        }
        // Cancel every purchase, the first one twice at the same moment.
        const ids = [...bought.keys()];
        for (const id of ids) held.delete(bought.get(id)!.number);
        const cancels = await Promise.all([...ids, ...ids.slice(0, 1)].map((id) => api.post(`/api/v1/activations/${id}/cancel`)));
        all.push(...cancels);
        for (const id of ids) {
          const answers = cancels.filter((r) => r.body.data?.activation?.id === id || r.body.error?.message?.includes(`Activation ${id} `));
          assert.deepEqual(
            answers.map((r) => r.status).sort(),
            id === ids[0] ? [200, 409] : [200],
            `activation ${id} is cancelled once: ${JSON.stringify(answers.map((r) => r.body))}`,
          );
        }
      }
    }

    try {
      await Promise.all(companies.map((_, i) => trade(i)));
    } finally {
      racing = false;
      await watcher;
    }

    assertNoServerErrors(all);
    assert.deepEqual(overlaps, [], 'no number was sold while an activation held it');
    assert.deepEqual(inconsistencies, [], `numbers and open activations agreed in each of ${snapshots} snapshots`);
    assert.ok(sold.length >= poolSize, `the race sold at least the pool once (sold ${sold.length})`);
    assert.ok(
      all.some((r) => r.status === 402) && all.some((r) => r.status === 409 && r.body.error?.code === 'out_of_stock'),
      'the race ran into both limits: money and stock',
    );

    // The books: every balance equals its ledger, and every company got its money back.
    assert.deepEqual(await server.services.billing.verify(), [], 'every balance equals the sum of its ledger');
    assert.equal((await ledgerVerify.run(server.services, [])).exitCode, 0, 'ledger:verify passes');
    for (const [i, company] of companies.entries()) {
      const balance = await server.api(company.apiKey).get('/api/v1/balance');
      assert.equal(balance.body.data.balance, Number(credits[i]), `company ${i} paid for nothing it kept`);
      const ledger = await server.services.billing.ledger(company.companyId, { limit: 1000, offset: 0 });
      const mine = sold.filter((s) => s.companyIndex === i);
      for (const kind of ['purchase', 'refund'] as const) {
        const rows = ledger.filter((row) => row.kind === kind);
        assert.deepEqual(
          rows.map((row) => row.activationId).sort((a, b) => Number(a) - Number(b)),
          mine.map((s) => s.id).sort((a, b) => a - b),
          `company ${i}: one ${kind} per activation, no other`,
        );
        for (const row of rows) {
          const { service } = mine.find((s) => s.id === row.activationId)!;
          assert.equal(Math.abs(row.amount), prices[service], `company ${i}: the ${kind} of activation ${row.activationId} is its price`);
        }
      }
    }

    // The stock: no number sold twice for one service, every number free again.
    const soldTwice = await query<{ number: string; service: string; n: number }>(sql`
      select number, service_code as service, count(*)::int as n from activations
      where country_id = ${countryId} group by number, service_code having count(*) > 1`);
    assert.deepEqual(soldTwice, [], 'no number was sold twice for one service');
    const uses = new Set(sold.map((s) => `${s.number}:${s.service}`));
    assert.equal(uses.size, sold.length, 'each sale was a new (number, service) pair');
    const busy = await query<{ id: number }>(sql`select id from phone_numbers where provider_id = ${provider.providerId} and busy_activation_id is not null`);
    assert.deepEqual(busy, [], 'every cancelled number is free again');
    for (const service of ['tg', 'wa'] as const) {
      const stock = await server.api(companies[1].apiKey).get(`/api/v1/prices?service=${service}&country=${countryId}`);
      const used = new Set(sold.filter((s) => s.service === service).map((s) => s.number)).size;
      assert.equal(stock.body.data.available, poolSize - used, `${service}: the numbers never sold for it are in stock`);
    }
  });
});
