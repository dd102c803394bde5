import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { cliJson, cliRefused, inProcessCli, runCli } from '../support/cli-runner.ts';
import { apiClient } from '../support/test-server.ts';
import { createScratchDatabase, testTarget } from '../support/test-target.ts';

/**
 * The first-install commands (staff:create, service:add, country:add, price:set, catalog:import)
 * run as child processes against a running server's database: PostgreSQL when the suite runs on
 * servers, else the embedded engine, which the CLI reaches through the server's socket. Every
 * change they make is audited with the actor "cli".
 */
describe('catalog and staff commands of the operator CLI', { timeout: 300_000 }, () => {
  let dataDir: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let server: RunningServer;
  let env: Record<string, string>;
  let apiKey: string;
  // Most calls run in process (the same command code, no spawn); a few spawn the real CLI.
  let cli: ReturnType<typeof inProcessCli>;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-catalog-cli-'));
    env = { NOVA_DATA_DIR: dataDir };
    if (testTarget === 'postgres') {
      scratch = await createScratchDatabase();
      env.DATABASE_URL = scratch.url;
    }
    server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', NOVA_DEMO: '0', LOG_LEVEL: 'silent', NOVA_SWEEP_INTERVAL_MS: '60000', ...env }));
    cli = inProcessCli(server.services);
    apiKey = (await server.services.accounts.createCompany({ name: 'Reader', ownerEmail: 'reader@example.com' })).apiKey;
  });
  after(async () => {
    await server?.close();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const audited = async (action: string, targetId: string) => (await server.services.audit.list({ action, targetId, limit: 1 }))[0];
  const prices = async () => (await apiClient(server.url, apiKey).get('/api/v1/prices')).body.data.prices;

  it('creates staff with a generated or a given password, audited, and refuses duplicates, unknown roles and short passwords', async () => {
    const generated = await cliJson(['staff:create', '--email', 'Ann@Shop.example', '--role', 'support'], env);
    assert.deepEqual([generated.email, generated.role], ['ann@shop.example', 'support']);
    assert.ok(generated.password.length >= 12);
    const given = await cliJson(['staff:create', '--email', 'bob@shop.example', '--role', 'admin', '--password', 'correct horse battery'], env);
    assert.equal(given.password, 'correct horse battery');
    const entry = await audited('staff.create', String(given.staff_id));
    assert.equal(entry?.actor, 'cli');
    assert.equal(entry?.staffId, null);

    assert.match(await cliRefused(['staff:create', '--email', 'ann@shop.example', '--role', 'admin'], env, 'conflict'), /already exists/);
    assert.match(await cli.refused(['staff:create', '--email', 'c@shop.example', '--role', 'owner'], 'invalid_request'), /admin or support/);
    assert.match(await cli.refused(['staff:create', '--email', 'c@shop.example', '--role', 'admin', '--password', 'short'], 'invalid_request'), /12 characters/);
    assert.match(await cli.refused(['staff:create', '--role', 'admin'], 'invalid_request'), /--email is required/);
  });

  it('adds services and countries idempotently, deriving a country from its ISO code, and sets prices', async () => {
    assert.equal((await cli.json(['service:add', '--code', 'go', '--name', 'Google'])).result, 'created');
    assert.equal((await cli.json(['service:add', '--code', 'go', '--name', 'Google'])).result, 'unchanged');
    assert.equal((await cli.json(['service:add', '--code', 'go', '--name', 'Google / Gmail'])).result, 'updated');
    assert.deepEqual((await audited('service.update', 'go'))?.after, { code: 'go', name: 'Google / Gmail', enabled: true });

    const uk = await cli.json(['country:add', '--id', '16', '--iso', 'gb']);
    assert.deepEqual(uk, { id: 16, iso: 'GB', name: 'United Kingdom', prefix: '+44', enabled: true, result: 'created' });
    const named = await cli.json(['country:add', '--id', '36', '--iso', 'CA', '--name', 'Canada (CA)']);
    assert.deepEqual([named.name, named.prefix], ['Canada (CA)', '+1']);
    assert.equal((await audited('country.create', '36'))?.actor, 'cli');
    assert.match(await cli.refused(['country:add', '--id', '17', '--iso', 'ZZ'], 'invalid_request'), /ISO 3166/);
    assert.match(await cli.refused(['country:add', '--id', '18', '--iso', 'GB'], 'conflict'), /already belongs to country 16/);
    assert.match(await cli.refused(['country:add', '--id', 'six', '--iso', 'FR'], 'invalid_request'), /Country id/);

    const set = await cli.json(['price:set', '--service', 'go', '--country', '16', '--price', '0.40']);
    assert.deepEqual(set, { service: 'go', country: 16, operator: null, price: 0.4, cost: null, below_cost: false });
    assert.deepEqual((await audited('price.set', 'go:16'))?.after, { price: 0.4, rule: 'manual' });
    assert.deepEqual(await prices(), [{ service: 'go', country: 16, price: 0.4, available: 0, in_stock: false }]);
    await cli.json(['price:set', '--service', 'go', '--country', '16', '--price', '0.45', '--operator', 'ee']);
    assert.deepEqual((await audited('price.set', 'go:16:ee'))?.after, { price: 0.45 });

    assert.match(await cli.refused(['price:set', '--service', 'nope', '--country', '16', '--price', '1'], 'not_found'), /No service "nope"/);
    assert.match(await cli.refused(['price:set', '--service', 'go', '--country', '16', '--price', '0.00001'], 'invalid_request'), /positive USD amount/);
  });

  it('imports a catalog file: a report of what changed, nothing the second time, nothing at all when a row is invalid', async () => {
    const csvFile = path.join(dataDir, 'catalog.csv');
    writeFileSync(
      csvFile,
      ['# Nova catalog', 'service,tg,Telegram', 'service,wa,WhatsApp', 'service,ds,Discord', 'country,6,US', 'operator,6,tmobile,T-Mobile', 'price,tg,6,0.50', 'price,wa,6,0.75', 'price,tg,6,0.55,tmobile', 'markup,ds,6,20,0.05', ''].join('\n'),
    );
    const dry = await cliJson(['catalog:import', '--dry-run', csvFile], env);
    assert.deepEqual([dry.applied, dry.created], [false, 9]);
    assert.ok(!(await prices()).some((p: { service: string }) => p.service === 'tg'), 'a dry run applies nothing');

    const first = await cli.json(['catalog:import', csvFile]);
    assert.deepEqual([first.applied, first.created, first.updated, first.unchanged], [true, 9, 0, 0]);
    assert.deepEqual(first.changes[5], { where: 'line 7', kind: 'price', key: 'tg:6', result: 'created' });
    assert.equal((await audited('price.set', 'tg:6'))?.reason, 'catalog import (catalog.csv)');
    const second = await runCli(['catalog:import', csvFile], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^Applied: 0 created, 0 updated, 9 unchanged$/m);

    const jsonFile = path.join(dataDir, 'catalog.json');
    writeFileSync(jsonFile, JSON.stringify({ services: [{ code: 'tg', name: 'Telegram' }], prices: [{ service: 'tg', country: 6, price: '0.60' }] }));
    const json = await cli.json(['catalog:import', jsonFile]);
    assert.deepEqual([json.created, json.updated, json.unchanged], [0, 1, 1]);

    const badFile = path.join(dataDir, 'bad.csv');
    writeFileSync(badFile, ['price,tg,6,0.99', 'price,xx,6,0.10', 'country,7,RU,Russia,7,maybe', 'dog,1,2'].join('\n'));
    const message = await cli.refused(['catalog:import', badFile], 'invalid_request');
    assert.match(message, /^Nothing was imported: /);
    assert.match(message, /line 2: No service "xx"/);
    assert.match(message, /line 3: the last field must be "enabled" or "disabled"/);
    assert.match(message, /line 4: unknown kind "dog"/);
    const tg = (await prices()).find((p: { service: string; country: number }) => p.service === 'tg' && p.country === 6);
    assert.equal(tg.price, 0.6, 'the valid row of a refused file is not applied');

    assert.match(await cli.refused(['catalog:import', path.join(dataDir, 'missing.csv')], 'invalid_request'), /Cannot read .*missing\.csv/);
    assert.match(await cli.refused(['catalog:import'], 'invalid_request'), /Name one catalog file/);
  });
});
