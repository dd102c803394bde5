import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { type Database, openDatabase, rowsOf } from '../../src/db/database.ts';
import { type FakeUpstream, startFakeUpstream } from '../support/fakes/sms-activate-upstream.ts';
import { type FakeSmtpServer, startFakeSmtpServer } from '../support/fakes/smtp-server.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { createScratchDatabase, testTarget, uniqueName } from '../support/test-target.ts';

/**
 * Three instances on one PostgreSQL database and one Redis, as three processes would run them:
 * each its own connection pool, all one Redis key prefix, one clock (one host). Every background
 * job is run on all three at the same moment, several rounds, and each unit of work must be done
 * exactly once. (A long-poll on one instance answered by an SMS pushed to another is in
 * test/modules/activations/long-poll.test.ts; killed processes are in chaos.test.ts.)
 */
const onServers = testTarget === 'postgres' ? false : 'several instances need a PostgreSQL server (NOVA_TEST_TARGET=postgres)';

const lifetimeSeconds = 600;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
const pools: Database[] = [];
const dataDirs: string[] = [];
let instances: TestServer[] = [];
let smtp: FakeSmtpServer;
const clock = new ManualClock();

async function query<T>(text: string): Promise<T[]> {
  return rowsOf<T>(await instances[0].database.db.execute(sql.raw(text)));
}

/** Runs `job` on every instance at once, `rounds` times over; returns the units each pass did. */
async function raceJob(job: (server: TestServer) => Promise<number>, rounds = 3): Promise<number[]> {
  const done: number[] = [];
  for (let round = 0; round < rounds; round++) done.push(...(await Promise.all(instances.map(job))));
  return done;
}

/** A country of its own (tg at `price`), so no demo number is sold there. */
async function openMarket(countryId: number, price: number) {
  await instances[0].services.catalog.upsertCountry({ id: countryId, name: `Test market ${countryId}`, iso: `Q${countryId % 100}`, dialPrefix: '1' });
  await instances[0].services.catalog.setPrice({ serviceCode: 'tg', countryId, price });
}

/** Buys `count` tg numbers in `countryId`, round-robin over the instances; returns the activations. */
async function buyAcross(apiKey: string, countryId: number, count: number): Promise<{ id: number; number: string }[]> {
  const bought = await Promise.all(
    Array.from({ length: count }, (_, i) => instances[i % instances.length].api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: countryId })),
  );
  for (const response of bought) assert.equal(response.status, 201, JSON.stringify(response.body));
  return bought.map((response) => ({ id: response.body.data.activation.id, number: response.body.data.activation.number }));
}

const byId = (a: (number | string)[], b: (number | string)[]) => Number(a[0]) - Number(b[0]);

describe('three instances on one PostgreSQL and Redis', { skip: onServers }, () => {
  before(async () => {
    scratch = await createScratchDatabase();
    smtp = await startFakeSmtpServer();
    const redisKeyPrefix = uniqueName('nova_multi');
    const env = {
      NOVA_DEMO: '1',
      NOVA_DEMO_SMS_DELAY_S: '5',
      NOVA_ACTIVATION_LIFETIME_S: String(lifetimeSeconds),
      NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1',
      NOVA_SMTP_URL: smtp.url,
      NOVA_REMOTE_TIMEOUT_MS: '1000',
    };
    for (let i = 0; i < 3; i++) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-multi-'));
      dataDirs.push(dataDir);
      // Its own pool on the same URL, as a separate process would have.
      const database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolSize: 5 });
      pools.push(database);
      instances.push(await startTestServer({ database, clock, redisKeyPrefix, env }));
    }
  });

  after(async () => {
    await Promise.all(instances.map((server) => server.close()));
    await Promise.all(pools.map((pool) => pool.close()));
    await scratch?.drop();
    await smtp?.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    instances = [];
  });

  it('delivers one demo SMS per activation when every instance runs the demo job at once', async () => {
    const company = await instances[0].createCompany('20');
    const bought = await buyAcross(company.apiKey, 6, 12);
    clock.advance(5);
    // The demo job's own timers (every second) race these passes too; what counts is the result.
    await raceJob((server) => server.jobs.demoSms!.runOnce());
    const ids = bought.map((a) => a.id);
    const perActivation = await query<{ activationId: string; sms: number }>(
      `select activation_id as "activationId", count(*)::int as sms from sms_messages where activation_id in (${ids.join(',')}) group by activation_id`,
    );
    assert.deepEqual(
      perActivation.map((row) => [Number(row.activationId), row.sms]).sort(byId),
      ids.map((id) => [id, 1]).sort(byId),
      'exactly one demo SMS per activation',
    );
  });

  it('refunds each expired activation once when every instance sweeps at once, over several companies', async () => {
    await openMarket(901, 5000);
    await instances[0].createProvider({ countryId: 901, count: 24 });
    // Several companies: a sweep touches several balances, and two sweeps must not deadlock on them.
    const companies = await Promise.all(Array.from({ length: 4 }, () => instances[0].createCompany('3')));
    const bought = (await Promise.all(companies.map((company) => buyAcross(company.apiKey, 901, 6)))).flat();
    clock.advance(lifetimeSeconds + 1);
    const passes = await raceJob((server) => server.jobs.sweeper.runOnce());
    assert.ok(passes.reduce((a, b) => a + b, 0) >= bought.length, `passes: ${passes.join(', ')}`);
    const refunds = await query<{ activationId: string; n: number }>(
      `select activation_id as "activationId", count(*)::int as n from ledger_entries
       where company_id in (${companies.map((c) => c.companyId).join(',')}) and kind = 'refund' group by activation_id`,
    );
    assert.deepEqual(
      refunds.map((row) => [Number(row.activationId), row.n]).sort(byId),
      bought.map((a) => [a.id, 1]).sort(byId),
      'exactly one refund per activation',
    );
    for (const company of companies) {
      const balance = await instances[2].api(company.apiKey).get('/api/v1/balance');
      assert.equal(balance.body.data.balance, 3);
    }
  });

  it('sends each webhook delivery once when every instance runs the outbox at once', async () => {
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { secret } = await instances[0].createProvider({ countryId: 901, count: 10 });
      const company = await instances[0].createCompany('10');
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await instances[1].api(company.apiKey).post('/api/v1/webhooks', { url, events: ['activation.sms_received'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const bought = await buyAcross(company.apiKey, 901, 10);
      for (const [i, activation] of bought.entries()) {
        const pushed = await instances[i % 3].api(secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: `Telegram code: ${20000 + i}` });
        assert.equal(pushed.status, 200);
      }
      await raceJob((server) => server.jobs.webhooks.runOnce());
      const deliveries = await query<{ eventId: string; status: string }>(
        `select event_id as "eventId", status from webhook_deliveries where company_id = ${company.companyId}`,
      );
      assert.equal(deliveries.length, 10);
      assert.deepEqual(deliveries.map((d) => d.status), Array(10).fill('delivered'));
      assert.deepEqual([...received].sort(), deliveries.map((d) => d.eventId).sort(), 'each event received exactly once');
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('sends each queued email once over SMTP when every instance runs the email job at once', async () => {
    const to = `${uniqueName('reader')}@example.com`;
    const queued = await Promise.all(Array.from({ length: 15 }, (_, i) => instances[i % 3].services.email.enqueue({ to, subject: `Message ${i}`, text: `Body ${i}` })));
    await raceJob((server) => server.jobs.email.runOnce());
    const subjects = smtp.messages.filter((m) => m.to.some((r) => r.includes(to))).map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]);
    assert.deepEqual(subjects.sort(), Array.from({ length: 15 }, (_, i) => `Message ${i}`).sort(), 'each email reached the SMTP server exactly once');
    const rows = await query<{ sent: boolean; attempts: number }>(`select sent_at is not null as sent, attempts from email_outbox where id in (${queued.join(',')})`);
    assert.deepEqual(rows.map((r) => [r.sent, r.attempts]), Array(15).fill([true, 1]));
  });

  it('sends an email whose sender died mid-send once its claim runs out, from another instance', async () => {
    const to = `${uniqueName('orphan')}@example.com`;
    const id = await instances[0].services.email.enqueue({ to, subject: 'Orphaned', text: 'The instance sending this died' });
    // What an instance killed between claiming and sending leaves behind: the attempt counted, the claim held.
    await query(`update email_outbox set attempts = 1, claimed_until = '${new Date(clock.now().getTime() + 120_000).toISOString()}' where id = ${id}`);
    const sentTo = () => smtp.messages.filter((m) => m.to.some((r) => r.includes(to))).length;
    await raceJob((server) => server.jobs.email.runOnce(), 1);
    assert.equal(sentTo(), 0, 'nobody takes it while the claim holds');
    clock.advance(121);
    await raceJob((server) => server.jobs.email.runOnce());
    assert.equal(sentTo(), 1, 'sent once after the claim ran out');
  });

  it('polls an upstream once at a time, stores each upstream code once and closes each activation there once', async () => {
    let upstream: FakeUpstream | undefined;
    try {
      upstream = await startFakeUpstream({
        apiKey: uniqueName('up'),
        prices: { '16': { tg: { cost: 0.3, count: 4 } } },
        pool: ['447700810001', '447700810002', '447700810003', '447700810004'],
      });
      await openMarket(902, 6000);
      const created = await runOperatorCommand(instances[0].services, 'provider:create', [
        '--kind', 'sms-activate', '--name', uniqueName('upstream'), '--url', upstream.url, '--api-key', upstream.apiKey, '--countries', '902=16', '--markup', '20',
      ]);
      assert.ok(created.ok, JSON.stringify(created.error));
      const calls = (action: string) => upstream!.calls.filter((c) => c.action === action);

      await raceJob((server) => server.jobs.remoteSupply.runOnce(), 1);
      assert.equal(calls('getPrices').length, 1, 'three passes at once poll the upstream\'s stock once');

      const company = await instances[0].createCompany('10');
      const bought = await buyAcross(company.apiKey, 902, 4);
      for (const [i, activation] of bought.entries()) upstream.receiveCode(activation.number.slice(1), String(551000 + i));
      await raceJob((server) => server.jobs.remoteSupply.runOnce());
      const perActivation = await query<{ activationId: string; codes: string }>(
        `select activation_id as "activationId", string_agg(code, ',') as codes from sms_messages where activation_id in (${bought.map((a) => a.id).join(',')}) group by activation_id`,
      );
      assert.deepEqual(
        perActivation.map((row) => [Number(row.activationId), row.codes]).sort(byId),
        bought.map((a, i) => [a.id, String(551000 + i)]).sort(byId),
        'one SMS per activation, with its upstream code',
      );

      const completed = await Promise.all(bought.map((a, i) => instances[i % 3].api(company.apiKey).post(`/api/v1/activations/${a.id}/complete`)));
      for (const response of completed) assert.equal(response.status, 200);
      await raceJob((server) => server.jobs.remoteSupply.runOnce());
      const closes = calls('setStatus').map((c) => `${c.params.id}:${c.params.status}`);
      assert.deepEqual(closes.sort(), [...upstream.activations.keys()].map((id) => `${id}:6`).sort(), 'each activation closed upstream exactly once');
    } finally {
      await upstream?.close();
    }
  });

  // Last: it moves the shared clock a month on.
  it('deletes each expired anonymous chat once when every instance runs the retention job at once', async () => {
    const support = instances[0].services.support;
    const closed: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { conversationId } = await support.startConversation(null);
      await support.post(conversationId, 'visitor', `question ${i}`);
      await support.close(cliActor, conversationId);
      closed.push(conversationId);
    }
    clock.advance(31 * 24 * 3600);
    const passes = await raceJob((server) => server.jobs.chatRetention.runOnce());
    assert.equal(passes.reduce((a, b) => a + b, 0), closed.length, `each conversation deleted by one pass (passes: ${passes.join(', ')})`);
    const left = await query<{ n: number }>(`select count(*)::int as n from support_conversations where id in (${closed.join(',')})`);
    assert.equal(left[0].n, 0);
  });
});
