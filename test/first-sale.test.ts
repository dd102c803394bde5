import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { cliJson } from './support/cli-runner.ts';
import { consoleClient } from './support/console-client.ts';
import { apiClient } from './support/test-server.ts';
import { createScratchDatabase, testTarget } from './support/test-target.ts';

/**
 * The README's "Production setup", as a new operator follows it: a server started on an empty,
 * non-demo database (PostgreSQL through DATABASE_URL when the suite runs on servers; the embedded
 * engine in a data folder otherwise, where the CLI hands its commands to the running server),
 * then only operator CLI commands and the public API, up to a first sale whose code arrives.
 */
describe('first install: from an empty database to a first sale with the CLI and the API', { timeout: 300_000 }, () => {
  let dataDir: string;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let server: RunningServer;
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-first-sale-'));
    env = { NOVA_DATA_DIR: dataDir };
    if (testTarget === 'postgres') {
      scratch = await createScratchDatabase({ empty: true });
      env.DATABASE_URL = scratch.url;
    }
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', NOVA_DEMO: '0', LOG_LEVEL: 'silent', NOVA_SWEEP_INTERVAL_MS: '60000', ...env });
    server = await startServer(config);
  });
  after(async () => {
    await server?.close();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sells a Telegram number in the United States and delivers its code', async () => {
    // Nothing is for sale on a fresh install.
    const empty = await apiClient(server.url).get('/api/web/prices');
    assert.deepEqual(empty.body, { ok: true, data: { prices: [] } });

    const staff = await cliJson(['staff:create', '--email', 'ops@shop.example', '--role', 'admin'], env);
    assert.deepEqual([staff.email, staff.role], ['ops@shop.example', 'admin']);
    assert.ok(Number.isSafeInteger(staff.staff_id));
    assert.ok(typeof staff.password === 'string' && staff.password.length >= 12, 'a generated password, shown once');

    assert.equal((await cliJson(['service:add', '--code', 'tg', '--name', 'Telegram'], env)).result, 'created');
    const country = await cliJson(['country:add', '--id', '6', '--iso', 'US'], env);
    assert.deepEqual(country, { id: 6, iso: 'US', name: 'United States', prefix: '+1', enabled: true, result: 'created' });
    const price = await cliJson(['price:set', '--service', 'tg', '--country', '6', '--price', '0.50'], env);
    assert.equal(price.price, 0.5);

    const provider = await cliJson(['provider:create', '--name', 'SIM rack 1'], env);
    assert.ok(typeof provider.secret === 'string' && provider.secret.length >= 20);
    const added = await cliJson(['numbers:add', '--provider', String(provider.provider_id), '--country', '6', '+12025550143', '+12025550144'], env);
    assert.equal(added.added, 2);
    const company = await cliJson(['company:create', '--name', 'First Customer', '--owner-email', 'owner@customer.example', '--credit', '5'], env);
    assert.equal(company.balance, 5);

    const api = apiClient(server.url, company.api_key);
    const offer = await api.get('/api/v1/prices?service=tg&country=6');
    assert.deepEqual(offer.body, { ok: true, data: { service: 'tg', country: 6, price: 0.5, available: 2, in_stock: true } });

    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const { id, number } = bought.body.data.activation;
    assert.ok(['+12025550143', '+12025550144'].includes(number));

    const pushed = await apiClient(server.url, provider.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 48213' });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    const polled = await api.get(`/api/v1/activations/${id}`);
    assert.equal(polled.body.data.activation.status, 'sms_received', JSON.stringify(polled.body));
    assert.equal(polled.body.data.activation.code, '48213');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 4.5);

    // The staff member made on the command line can sign in to the console.
    const console = consoleClient(server.url);
    await console.start();
    const signIn = await console.post('/signin', { email: 'ops@shop.example', password: staff.password });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    assert.equal(signIn.body.data.stage, 'totp_enroll');
  });
});
