import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnNovaSms as nova } from '../support/customer-cli.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('nova-sms customer CLI', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('buys with --wait and prints the code as JSON once the SMS arrives (exit 0)', async () => {
    const { apiKey } = await server.createCompany('10');
    const { secret } = await server.createProvider({ countryId: 6, count: 1 });
    const running = nova(['buy', 'tg', '6', '--wait', '--max-price', '0.6', '--json', '--timeout', '30'], {
      NOVA_API_KEY: apiKey,
      NOVA_API_URL: server.url,
    });
    // The SMS arrives once the CLI has bought its number.
    let number: string | undefined;
    for (let i = 0; i < 200 && !number; i++) {
      const page = await server.api(apiKey).get('/api/v1/activations');
      number = page.body.data.activations[0]?.number;
      if (!number) await sleep(50);
    }
    assert.ok(number, 'the CLI bought nothing');
    await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 73019' });
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout);
    assert.equal(printed.code, '73019');
    assert.equal(printed.status, 'sms_received');
    assert.equal(printed.number, number);
    // Not a terminal: no spinner frames in the output.
    assert.doesNotMatch(run.stderr, /⠋|\r/);
  });

  it('exits 1 with the API error, 2 on a usage error and 3 when no code comes in time', async () => {
    const broke = await server.createCompany('0');
    const { apiKey } = await server.createCompany('10');
    await server.createProvider({ countryId: 6, count: 2 });
    const waiting = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    const id = waiting.body.data.activation.id;
    const env = { NOVA_API_KEY: apiKey, NOVA_API_URL: server.url };

    const [apiError, usage, noKey, timeout, list] = await Promise.all([
      nova(['buy', 'tg', '6', '--json'], { ...env, NOVA_API_KEY: broke.apiKey }),
      nova(['buy', 'tg'], env),
      nova(['balance'], { NOVA_API_URL: server.url }),
      nova(['get', String(id), '--wait', '--timeout', '1'], env),
      nova(['list', '--status', 'waiting', '--limit', '5'], env),
    ]);

    assert.equal(apiError.code, 1);
    assert.equal(JSON.parse(apiError.stdout).error.code, 'insufficient_balance');
    assert.match(apiError.stderr, /below the price.*\(insufficient_balance\)/);

    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /buy needs SERVICE and COUNTRY/);
    assert.match(usage.stderr, /Usage: nova-sms/);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /NOVA_API_KEY/);

    assert.equal(timeout.code, 3, timeout.stderr);
    assert.match(timeout.stderr, new RegExp(`No SMS for activation ${id} within 1 s.*nova-sms cancel ${id}`));

    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id}  waiting .* tg/6 `, 'm'));
    assert.match(list.stdout, /1 of 1/);

    server.clock.advance(181);
    const cancelled = await nova(['cancel', String(id)], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout.trim(), `Activation ${id} cancelled; 0.5 USD refunded`);
  });
});
