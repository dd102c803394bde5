import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { type CliResult, jsonOf, runCli } from '../support/cli-runner.ts';
import { apiClient } from '../support/test-server.ts';
import { createScratchDatabase, embeddedOnly, testTarget, uniqueName } from '../support/test-target.ts';

/**
 * The operator CLI as an operator runs it: a child process (`npm run nova -- …` is `tsx
 * src/cli/nova.ts …`), on the embedded database in a data folder — opened by the CLI itself
 * when no server runs, or handed to the running server over its Unix socket — and on PostgreSQL.
 * Every spawn costs a tsx start and often a PGlite open, so the tests group their calls.
 */
function assertSucceeded(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/** A refused command: non-zero exit, a JSON error naming the problem, and never a stack trace. */
function assertRefused(result: CliResult, code: string, message: RegExp): void {
  assert.notEqual(result.code, 0, `expected a failure, got exit 0 with ${result.stdout}`);
  assert.doesNotMatch(result.stdout + result.stderr, /^\s+at .+[:(]/m, 'no stack trace');
  const reply = jsonOf(result);
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, code);
  assert.match(reply.error.message, message);
}

function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'nova-cli-'));
}

function serverConfig(env: Record<string, string>) {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', NOVA_DEMO: '0', LOG_LEVEL: 'silent', NOVA_SWEEP_INTERVAL_MS: '60000', ...env });
}

describe('operator CLI with no server running: it opens the embedded database in the data folder itself', { skip: embeddedOnly, timeout: 240_000 }, () => {
  let dataDir: string;
  before(() => {
    dataDir = tempDataDir();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates a company, adds a member and credits it, and a server started later on that folder honours the keys', async () => {
    const env = { NOVA_DATA_DIR: dataDir };
    const created = await runCli(['company:create', '--name', 'Acme', '--owner-email', 'a@x.io', '--credit', '25', '--json'], env);
    assertSucceeded(created);
    const company = jsonOf(created);
    assert.ok(Number.isSafeInteger(company.company_id) && company.company_id > 0);
    assert.ok(Number.isSafeInteger(company.account_id) && company.account_id > 0);
    assert.equal(typeof company.api_key, 'string');
    assert.ok(company.api_key.length >= 20, 'an API key long enough to be secret');
    assert.equal(company.balance, 25);
    assert.equal(existsSync(path.join(dataDir, 'nova-cli.sock')), false, 'no server, so no control socket');

    const added = await runCli(['member:add', '--company', String(company.company_id), '--email', 'm@x.io', '--json'], env);
    assertSucceeded(added);
    const member = jsonOf(added);
    assert.ok(Number.isSafeInteger(member.account_id));
    assert.notEqual(member.account_id, company.account_id);
    assert.equal(typeof member.api_key, 'string');
    assert.notEqual(member.api_key, company.api_key);

    const credited = await runCli(['credit', '--company', String(company.company_id), '--amount', '5', '--reason', 'test', '--json'], env);
    assertSucceeded(credited);
    const { audit_id: auditId, ...creditedJson } = jsonOf(credited);
    assert.deepEqual(creditedJson, { company_id: company.company_id, amount: 5, balance: 30 });
    // CLI adjustments are audited like the console's: the ledger row names the audit entry.
    assert.ok(Number.isSafeInteger(auditId));

    const verified = await runCli(['ledger:verify', '--json'], env);
    assertSucceeded(verified);
    assert.deepEqual(jsonOf(verified), { ok: true, mismatches: [] });

    // What the CLI wrote is on disk: a server opening the folder sees the company and both keys.
    const server = await startServer(serverConfig({ NOVA_DATA_DIR: dataDir }), { controlSocket: false });
    try {
      const owner = await apiClient(server.url, company.api_key).get('/api/v1/balance');
      assert.equal(owner.status, 200);
      assert.deepEqual(owner.body, { ok: true, data: { balance: 30, currency: 'USD' } });
      const asMember = await apiClient(server.url, member.api_key).get('/api/v1/balance');
      assert.equal(asMember.status, 200);
      assert.equal(asMember.body.data.balance, 30);
    } finally {
      await server.close();
    }
  });
});

describe('operator CLI while a server runs on the same data folder: it talks to the server over the socket', { skip: embeddedOnly, timeout: 240_000 }, () => {
  let dataDir: string;
  let server: RunningServer;
  const env = () => ({ NOVA_DATA_DIR: dataDir });

  before(async () => {
    dataDir = tempDataDir();
    server = await startServer(serverConfig({ NOVA_DATA_DIR: dataDir }));
    const { catalog, supply } = server.services;
    await catalog.upsertService({ code: 'tg', name: 'Telegram' });
    await catalog.upsertCountry({ id: 6, name: 'United States', iso: 'US', dialPrefix: '1' });
    await catalog.setPrice({ serviceCode: 'tg', countryId: 6, price: 5000 });
    const { provider } = await supply.createProvider({ name: uniqueName('provider'), kind: 'http' });
    await supply.addNumbers(provider.id, ['+12025550181', '+12025550182', '+12025550183'].map((e164) => ({ e164, countryId: 6 })));
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A company made on the server itself, so each test has its own. */
  async function serverCompany(creditUnits = 0) {
    const created = await server.services.accounts.createCompany({ name: uniqueName('company'), ownerEmail: `${uniqueName('owner')}@example.com` });
    if (creditUnits > 0) await server.services.billing.credit({ companyId: created.companyId, amount: creditUnits, kind: 'topup', reason: 'test credit' });
    return created;
  }

  it('creates a company whose printed key works at once against the running server', async () => {
    assert.ok(existsSync(path.join(dataDir, 'nova-cli.sock')), 'the server listens on data/nova-cli.sock');
    const result = await runCli(['company:create', '--name', 'Acme', '--owner-email', `${uniqueName('a')}@x.io`, '--credit', '25', '--json'], env());
    assertSucceeded(result);
    const company = jsonOf(result);
    assert.ok(Number.isSafeInteger(company.company_id));
    assert.ok(Number.isSafeInteger(company.account_id));
    const balance = await apiClient(server.url, company.api_key).get('/api/v1/balance');
    assert.equal(balance.status, 200);
    assert.deepEqual(balance.body, { ok: true, data: { balance: 25, currency: 'USD' } });
  });

  it('adds a member whose key works at once, and a credit shows in the balance at once', async () => {
    const company = await serverCompany();
    const [added, credited] = await Promise.all([
      runCli(['member:add', '--company', String(company.companyId), '--email', `${uniqueName('m')}@x.io`, '--json'], env()),
      runCli(['credit', '--company', String(company.companyId), '--amount', '5', '--reason', 'test', '--json'], env()),
    ]);
    assertSucceeded(added);
    assertSucceeded(credited);
    const member = jsonOf(added);
    assert.notEqual(member.account_id, company.accountId);
    assert.deepEqual(jsonOf(credited), { company_id: company.companyId, amount: 5, balance: 5, audit_id: jsonOf(credited).audit_id });
    const [entry] = await server.services.audit.list({ action: 'balance.adjust', targetType: 'company', targetId: String(company.companyId), limit: 5 });
    assert.equal(entry.id, jsonOf(credited).audit_id);
    assert.equal(entry.actor, 'cli');

    const asMember = await apiClient(server.url, member.api_key).get('/api/v1/balance');
    assert.equal(asMember.status, 200);
    assert.equal(asMember.body.data.balance, 5);
    assert.equal((await apiClient(server.url, company.apiKey).get('/api/v1/balance')).body.data.balance, 5);
  });

  it('verifies the ledger, and exits 1 naming a company whose balance drifted from its ledger', async () => {
    const company = await serverCompany(10_000);
    const clean = await runCli(['ledger:verify', '--json'], env());
    assertSucceeded(clean);
    assert.deepEqual(jsonOf(clean), { ok: true, mismatches: [] });

    // Corrupt one balance behind the ledger's back, as a bad manual UPDATE would.
    const shift = (units: number) => server.database.db.execute(sql`update companies set balance = balance + ${units} where id = ${company.companyId}`);
    await shift(1);
    try {
      const drifted = await runCli(['ledger:verify', '--json'], env());
      assert.equal(drifted.code, 1, drifted.stderr);
      assert.deepEqual(jsonOf(drifted), { ok: false, mismatches: [{ company_id: company.companyId, balance: 1.0001, ledger_sum: 1 }] });
    } finally {
      await shift(-1);
    }
  });

  it('lists the catalog with prices and live stock', async () => {
    const result = await runCli(['catalog:list', '--json'], env());
    assertSucceeded(result);
    const catalog = jsonOf(result);
    assert.ok(catalog.services.some((s: { code: string }) => s.code === 'tg'));
    assert.deepEqual(catalog.countries, [{ id: 6, name: 'United States', iso: 'US', prefix: '+1' }]);
    assert.deepEqual(catalog.prices, [{ service: 'tg', country: 6, price: 0.5, available: 3 }]);
  });

  it('refuses bad input with a clear message and a non-zero exit, never a stack trace', async () => {
    const [noName, badCredit, unknownCommand, unknownCompany, unknownCompanyText] = await Promise.all([
      runCli(['company:create', '--owner-email', 'b@x.io', '--json'], env()),
      runCli(['company:create', '--name', 'B', '--owner-email', 'b@x.io', '--credit', 'abc', '--json'], env()),
      runCli(['company:explode', '--json'], env()),
      runCli(['member:add', '--company', '999999', '--email', 'q@x.io', '--json'], env()),
      runCli(['credit', '--company', '999999', '--amount', '5', '--reason', 'test'], env()),
    ]);
    assertRefused(noName, 'invalid_request', /--name is required/);
    assertRefused(badCredit, 'invalid_request', /--credit "abc"/);
    assertRefused(unknownCommand, 'invalid_request', /Unknown command "company:explode"/);
    assertRefused(unknownCompany, 'not_found', /Company 999999 does not exist/);

    // Without --json the operator reads the error on stderr.
    assert.notEqual(unknownCompanyText.code, 0);
    assert.equal(unknownCompanyText.stdout, '');
    assert.match(unknownCompanyText.stderr, /^error \(not_found\): Company 999999 does not exist\s*$/);
    // Nothing of the refused commands reached the books.
    assert.deepEqual(await server.services.billing.verify(), []);
  });
});

describe('operator CLI on PostgreSQL (DATABASE_URL)', { skip: testTarget === 'postgres' ? false : 'runs with NOVA_TEST_TARGET=postgres', timeout: 240_000 }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: RunningServer;
  let dataDir: string;

  before(async () => {
    dataDir = tempDataDir();
    scratch = await createScratchDatabase();
    server = await startServer(serverConfig({ DATABASE_URL: scratch.url, NOVA_DATA_DIR: dataDir }));
  });
  after(async () => {
    await server?.close();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a company in PostgreSQL that a server on the same database sees at once', async () => {
    const env = { DATABASE_URL: scratch.url, NOVA_DATA_DIR: dataDir };
    const created = await runCli(['company:create', '--name', 'Acme', '--owner-email', `${uniqueName('a')}@x.io`, '--credit', '25', '--json'], env);
    assertSucceeded(created);
    const company = jsonOf(created);
    const balance = await apiClient(server.url, company.api_key).get('/api/v1/balance');
    assert.equal(balance.status, 200);
    assert.deepEqual(balance.body, { ok: true, data: { balance: 25, currency: 'USD' } });
    assert.equal(await server.services.billing.balanceOf(company.company_id), 250_000);

    const verified = await runCli(['ledger:verify', '--json'], env);
    assertSucceeded(verified);
    assert.deepEqual(jsonOf(verified), { ok: true, mismatches: [] });
  });
});
