import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPubSub, createServices } from '../../src/app.ts';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { type ApiResponse, startTestServer, type TestServer } from '../support/test-server.ts';
import { createScratchDatabase, testRedisUrl, testTarget, uniqueName } from '../support/test-target.ts';
import { signUp } from '../web/web-client.ts';

/**
 * Issue 10: each instance answers API keys from memory, and a key revoked on one instance must
 * stop working on every other within 100 ms. Two instances on one PostgreSQL database and one
 * Redis (as two processes would run), the key cached on both; the change is made through the
 * product on A (website, console, operator CLI) and B is asked every 2 ms from the moment A
 * confirmed it.
 */
const skip = testTarget !== 'postgres' || !testRedisUrl ? 'two instances need PostgreSQL and Redis (NOVA_TEST_TARGET=postgres NOVA_TEST_REDIS_URL=…)' : false;

const withinMs = 100;

describe('a key revoked on one instance, on another', { skip }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const pools: Database[] = [];
  const dataDirs: string[] = [];
  let a: TestServer;
  let b: TestServer;
  let admin: SignedInStaff;
  const clock = new ManualClock();
  const redisKeyPrefix = uniqueName('nova_keys');
  const measured: string[] = [];

  before(async () => {
    scratch = await createScratchDatabase();
    const instances: TestServer[] = [];
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-keys-'));
      dataDirs.push(dataDir);
      const database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolSize: 5 });
      pools.push(database);
      instances.push(await startTestServer({ database, clock, redisKeyPrefix }));
    }
    [a, b] = instances;
    admin = await signInStaff(a, 'admin');
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await Promise.all(pools.map((pool) => pool.close()));
    await scratch?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    if (measured.length) console.log(`key revocation across instances: ${measured.join('; ')}`);
  });

  const balance = (server: TestServer, apiKey: string) => server.api(apiKey).get('/api/v1/balance');

  /** Uses the key on both instances until each answers it from its cache. */
  async function cachedOnBoth(apiKey: string) {
    for (const server of [a, b]) {
      assert.equal((await balance(server, apiKey)).status, 200);
      const hits = server.services.accounts.principalCacheStats().hits;
      assert.equal((await balance(server, apiKey)).status, 200);
      assert.equal(server.services.accounts.principalCacheStats().hits, hits + 1, 'the key is answered from the cache');
    }
  }

  /**
   * Asks B every 2 ms from A's confirmation of a change (`confirmedAt`), without waiting for earlier
   * answers (one slow answer on a busy machine must not delay the next question), until B's answer
   * shows the change, then a few times more. The change must hold for every question asked more
   * than 100 ms after the confirmation, and for every question asked after B first showed it.
   */
  async function assertAppliedOnB(what: string, ask: () => Promise<ApiResponse>, changed: (answer: ApiResponse) => boolean, confirmedAt: number) {
    const polls: { sentAt: number; answer?: ApiResponse; answeredAt?: number }[] = [];
    const pending: Promise<void>[] = [];
    let seenAt: number | undefined;
    const askOnce = () => {
      const poll: (typeof polls)[number] = { sentAt: performance.now() - confirmedAt };
      polls.push(poll);
      pending.push(
        ask().then((answer) => {
          poll.answer = answer;
          poll.answeredAt = performance.now() - confirmedAt;
          if (changed(answer)) seenAt ??= poll.answeredAt;
        }),
      );
    };
    while (seenAt === undefined) {
      assert.ok(performance.now() - confirmedAt < 5_000, `${what}: B still does not show the change 5 s after A confirmed it`);
      askOnce();
      await sleep(2);
    }
    for (let i = 0; i < 5; i++) {
      askOnce();
      await sleep(2);
    }
    await Promise.all(pending);
    const unchanged = polls.filter((poll) => !changed(poll.answer!));
    const lastUnchanged = Math.max(-1, ...unchanged.map((poll) => poll.sentAt));
    const firstChanged = polls.find((poll) => changed(poll.answer!))!;
    measured.push(
      `${what}: ${unchanged.length ? `last old answer to a question asked at +${lastUnchanged.toFixed(1)} ms` : 'no old answer after the confirmation'}, ` +
        `first new answer asked at +${firstChanged.sentAt.toFixed(1)} ms (answered at +${firstChanged.answeredAt!.toFixed(1)} ms)`,
    );
    assert.ok(lastUnchanged <= withinMs, `${what}: B still answered as before to a question asked ${lastUnchanged.toFixed(1)} ms after A confirmed (allowed ${withinMs} ms)`);
    for (const poll of polls) {
      if (poll.sentAt > seenAt!) assert.ok(changed(poll.answer!), `${what}: B went back to the old answer at +${poll.sentAt.toFixed(1)} ms`);
    }
  }

  const refusesKey = (what: string, apiKey: string, confirmedAt: number) =>
    assertAppliedOnB(what, () => balance(b, apiKey), (answer) => answer.status === 401, confirmedAt);

  async function customer() {
    const owner = await signUp(a);
    const apiKey: string = (await owner.client.get('/api-key')).body.data.api_key;
    return { ...owner, apiKey, companyId: owner.account.company_id, accountId: owner.account.id };
  }

  it('refuses a key regenerated on the website on A within 100 ms on B; the new key works on both', async () => {
    const acme = await customer();
    await cachedOnBoth(acme.apiKey);
    const regenerated = await acme.client.post('/api-key/regenerate');
    const confirmedAt = performance.now();
    assert.equal(regenerated.status, 200);
    await refusesKey('website rotation', acme.apiKey, confirmedAt);
    assert.equal((await balance(a, acme.apiKey)).status, 401);
    const newKey: string = regenerated.body.data.api_key;
    assert.equal((await balance(a, newKey)).status, 200);
    assert.equal((await balance(b, newKey)).status, 200);
  });

  it('refuses a key rotated by staff in the console on A within 100 ms on B', async () => {
    const acme = await customer();
    await cachedOnBoth(acme.apiKey);
    const rotated = await admin.client.post(`/companies/${acme.companyId}/members/${acme.accountId}/rotate-key`);
    const confirmedAt = performance.now();
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    await refusesKey('console rotation', acme.apiKey, confirmedAt);
    const newKey: string = (await acme.client.get('/api-key')).body.data.api_key;
    assert.equal((await balance(a, newKey)).status, 200);
    assert.equal((await balance(b, newKey)).status, 200);
  });

  it('refuses a key rotated by the operator CLI (its own process, on the database and Redis) within 100 ms on both instances', async () => {
    const acme = await customer();
    await cachedOnBoth(acme.apiKey);
    // What `npm run nova -- key:rotate` builds with DATABASE_URL and REDIS_URL: services of its own, no server.
    const cliPubsub = createPubSub(a.config, redisKeyPrefix);
    try {
      const cli = createServices({ config: a.config, database: pools[0], clock, pubsub: cliPubsub });
      const rotated = await runOperatorCommand(cli, 'key:rotate', ['--account', String(acme.accountId)]);
      const confirmedAt = performance.now();
      assert.ok(rotated.ok, JSON.stringify(rotated.error));
      await refusesKey('CLI rotation', acme.apiKey, confirmedAt);
      assert.equal((await balance(a, acme.apiKey)).status, 401);
    } finally {
      await cliPubsub.close();
    }
  });

  it("refuses a member's key within 100 ms on B once the owner removes them on A", async () => {
    const acme = await customer();
    const member = await a.addMember(acme.companyId);
    await cachedOnBoth(member.apiKey);
    const removed = await acme.client.post(`/team/members/${member.accountId}/remove`);
    const confirmedAt = performance.now();
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await refusesKey('member removal', member.apiKey, confirmedAt);
    assert.equal((await balance(a, member.apiKey)).status, 401);
    assert.equal((await balance(b, acme.apiKey)).status, 200, "the owner's key is untouched");
  });

  it('answers 403 account_blocked on B within 100 ms of a block on A, and lets the key back in within 100 ms of the unblock', async () => {
    const acme = await customer();
    await cachedOnBoth(acme.apiKey);
    const blocked = await admin.client.post(`/companies/${acme.companyId}/block`, { reason: 'Suspected card fraud' });
    const blockedAt = performance.now();
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    await assertAppliedOnB('company block', () => balance(b, acme.apiKey), (answer) => answer.status === 403 && answer.body.error.code === 'account_blocked', blockedAt);
    assert.equal((await balance(a, acme.apiKey)).status, 403);

    // Cache the blocked answer on B, then unblock.
    assert.equal((await balance(b, acme.apiKey)).status, 403);
    const unblocked = await admin.client.post(`/companies/${acme.companyId}/unblock`, { reason: 'Card owner confirmed' });
    const unblockedAt = performance.now();
    assert.equal(unblocked.status, 200, JSON.stringify(unblocked.body));
    await assertAppliedOnB('company unblock', () => balance(b, acme.apiKey), (answer) => answer.status === 200, unblockedAt);
  });

  it("applies a role change on A to the member's key on B within 100 ms", async () => {
    const acme = await customer();
    await a.services.billing.credit({ companyId: acme.companyId, amount: 10_000, kind: 'topup', reason: 'test credit' });
    await a.services.catalog.upsertService({ code: 'tg', name: 'Telegram' });
    await a.services.catalog.upsertCountry({ id: 6, name: 'United States', iso: 'US', dialPrefix: '1' });
    await a.services.catalog.setPrice({ serviceCode: 'tg', countryId: 6, price: 5000 });
    await a.createProvider({ countryId: 6, count: 1 });
    const bought = await a.api(acme.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const ownersActivation = `/api/v1/activations/${bought.body.data.activation.id}`;
    const member = await a.addMember(acme.companyId);
    await cachedOnBoth(member.apiKey);
    assert.equal((await b.api(member.apiKey).get(ownersActivation)).status, 404);

    const promoted = await acme.client.post(`/team/members/${member.accountId}/role`, { role: 'owner' });
    const confirmedAt = performance.now();
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    await assertAppliedOnB('role change', () => b.api(member.apiKey).get(ownersActivation), (answer) => answer.status === 200, confirmedAt);
  });
});
