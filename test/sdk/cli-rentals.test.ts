import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runNovaSms, spawnNovaSms } from '../support/customer-cli.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('nova-sms customer CLI: rentals, reuse and reports', () => {
  let server: TestServer;
  let marketCounter = 0;
  let smsCounter = 52_000;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function customer(credit = '10') {
    const { apiKey } = await server.createCompany(credit);
    return { apiKey, env: { NOVA_API_KEY: apiKey, NOVA_API_URL: server.url } };
  }

  /** A country of its own, rented at 0.20 an hour and 2.50 a day, with `count` rentable numbers. */
  async function rentalMarket(count = 1) {
    const countryId = 820 + ++marketCounter;
    await server.services.catalog.upsertCountry({ id: countryId, name: `CLI rental land ${countryId}`, iso: `L${marketCounter}`, dialPrefix: '1' });
    await server.services.rentals.setPrice({ countryId, pricePerHour: 2000, pricePerDay: 25_000 });
    return { countryId, ...(await server.createProvider({ countryId, count, rentable: true })) };
  }

  /** A country of its own where tg sells at 0.50, with `count` numbers. */
  async function activationMarket(count = 1) {
    const countryId = 870 + ++marketCounter;
    await server.services.catalog.upsertCountry({ id: countryId, name: `CLI activation land ${countryId}`, iso: `M${marketCounter}`, dialPrefix: '1' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 5000 });
    return { countryId, ...(await server.createProvider({ countryId, count })) };
  }

  function pushSms(secret: string, to: string) {
    const code = String(++smsCounter);
    return server.api(secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text: `Telegram code: ${code}` }).then(() => code);
  }

  it('shows rental prices, rents, lists, shows, extends and finishes a rental', async () => {
    const { env } = await customer('10');
    const { countryId, secret } = await rentalMarket(2);

    const prices = await runNovaSms(['rental-prices', String(countryId)], env);
    assert.equal(prices.code, 0, prices.stderr);
    assert.equal(prices.stdout.trim(), `${`${countryId}/any`.padEnd(12)} 0.2 USD/h  2.5 USD/day  2 available`);

    const rented = await runNovaSms(['rent', String(countryId), '3'], env);
    assert.equal(rented.code, 0, rented.stderr);
    assert.match(rented.stdout, new RegExp(`^Rented \\+\\d+ as rental \\d+ \\(country ${countryId}, \\w+\\) for 3 h until [\\d-]+ [\\d:]+ UTC, 0.6 USD\\n$`));
    const rentalId = /as rental (\d+)/.exec(rented.stdout)![1];
    const rentalNumber = /^Rented (\+\d+)/.exec(rented.stdout)![1];

    const code = await pushSms(secret, rentalNumber);
    const shown = await runNovaSms(['rental', rentalId], env);
    assert.equal(shown.code, 0, shown.stderr);
    const [line, message] = shown.stdout.trim().split('\n');
    assert.match(line, new RegExp(`^${rentalId}  active     ${countryId}/\\w+  \\${rentalNumber}  0.6 USD  3 h  until `));
    assert.match(message, new RegExp(`^  [\\d-]+ [\\d:]+  Telegram: Telegram code: ${code}$`));
    const json = await runNovaSms(['rental', rentalId, '--json'], env);
    assert.equal(JSON.parse(json.stdout).messages[0].code, code);

    const listed = await runNovaSms(['rentals', '--status', 'active', '--limit', '5'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${rentalId}  active `, 'm'));
    assert.match(listed.stdout, /^1 of 1$/m);

    const extended = await runNovaSms(['extend', rentalId, '2'], env);
    assert.equal(extended.code, 0, extended.stderr);
    assert.match(extended.stdout, new RegExp(`^Rental ${rentalId} extended by 2 h until [\\d-]+ [\\d:]+ UTC; 1 USD charged in all\\n$`));

    const finished = await runNovaSms(['rental-finish', rentalId], env);
    assert.equal(finished.stdout, `Rental ${rentalId} finished\n`);
    const late = await runNovaSms(['extend', rentalId, '1', '--json'], env);
    assert.equal(late.code, 1);
    assert.equal(JSON.parse(late.stdout).error.code, 'invalid_state');
    assert.match(late.stderr, /only an active rental can be extended \(invalid_state\)/);
    assert.match((await runNovaSms(['rentals', '--status', 'finished'], env)).stdout, new RegExp(`^${rentalId}  finished .* ended `, 'm'));
    const ended = await runNovaSms(['rental', rentalId, '--wait', '--json'], env);
    assert.equal(ended.code, 1);
    assert.deepEqual(JSON.parse(ended.stdout).error, { code: 'rental_ended', message: `Rental ${rentalId} is finished and received no new SMS` });
  });

  it('rent --wait prints the first SMS code from a real process; rental --wait gives up with exit 3', async () => {
    const { apiKey, env } = await customer('10');
    const { countryId, secret } = await rentalMarket(2);
    const running = spawnNovaSms(['rent', String(countryId), '2', '--wait', '--timeout', '30'], env);
    // The SMS comes once the CLI has rented its number.
    let number: string | undefined;
    for (let i = 0; i < 200 && !number; i++) {
      number = (await server.api(apiKey).get('/api/v1/rentals')).body.data.rentals[0]?.number;
      if (!number) await sleep(50);
    }
    assert.ok(number, 'the CLI rented nothing');
    // Its long-poll is open: the SMS reaches a waiting CLI (one that did not see it at its first look).
    for (let i = 0; i < 200 && server.services.rentals.waiting() === 0; i++) await sleep(25);
    const code = await pushSms(secret, number);
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${code}\n`);
    assert.match(run.stderr, new RegExp(`^Rented \\${number} as rental \\d+ `));

    const other = await runNovaSms(['rent', String(countryId), '1', '--json'], env);
    const rental = JSON.parse(other.stdout);
    assert.equal(rental.status, 'active');
    const waited = await runNovaSms(['rental', String(rental.id), '--wait', '--timeout', '1', '--json'], env);
    assert.equal(waited.code, 3, waited.stderr);
    assert.match(waited.stderr, new RegExp(`No new SMS for rental ${rental.id} within 1 s.*nova-sms rental-finish ${rental.id}`));
    assert.deepEqual(JSON.parse(waited.stdout).error, { code: 'timeout', message: `No new SMS for rental ${rental.id} within 1 s`, rental_id: rental.id });

    const cancelled = await runNovaSms(['rental-cancel', String(rental.id)], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, `Rental ${rental.id} cancelled; 0.2 USD refunded\n`);
    assert.equal((await server.api(apiKey).get('/api/v1/balance')).body.data.balance, 9.6);
  });

  it('reuses a completed activation and reports a bad number', async () => {
    const { apiKey, env } = await customer('10');
    const { countryId, secret } = await activationMarket(1);
    const api = server.api(apiKey);
    const bought = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId })).body.data.activation;

    const early = await runNovaSms(['reuse', String(bought.id), '--json'], env);
    assert.equal(early.code, 1);
    assert.equal(JSON.parse(early.stdout).error.code, 'invalid_state');

    await pushSms(secret, bought.number);
    assert.equal((await api.post(`/api/v1/activations/${bought.id}/complete`)).status, 200);
    const reused = await runNovaSms(['reuse', String(bought.id)], env);
    assert.equal(reused.code, 0, reused.stderr);
    const reusedId = Number(/^Activation (\d+) /.exec(reused.stdout)?.[1]);
    assert.equal(reused.stdout, `Activation ${reusedId} reuses ${bought.number} of activation ${bought.id} (tg/${countryId}) for 0.5 USD\n`);

    const taken = await runNovaSms(['reuse', String(bought.id), '--json'], env);
    assert.equal(taken.code, 1);
    assert.equal(JSON.parse(taken.stdout).error.code, 'reuse_unavailable');

    const reported = await runNovaSms(['report', String(reusedId), 'used', '--note', 'Telegram says it is taken', '--json'], env);
    assert.equal(reported.code, 0, reported.stderr);
    const answer = JSON.parse(reported.stdout);
    assert.equal(answer.activation.status, 'cancelled');
    assert.equal(answer.report.note, 'Telegram says it is taken');
    assert.equal(answer.report.refunded, true);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5);

    const again = await runNovaSms(['report', String(reusedId), 'other'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is cancelled; only a waiting activation can be reported \(invalid_state\)/);

    const second = await activationMarket(1);
    const waiting = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: second.countryId })).body.data.activation;
    const noSms = await runNovaSms(['report', String(waiting.id), 'no_sms'], env);
    assert.equal(noSms.stdout, `Reported activation ${waiting.id} (no_sms): recorded; the activation is waiting\n`);
  });

  it('explains a wrong command line (exit 2) and shows the API error of a refused rental (exit 1)', async () => {
    const { env } = await customer('0');
    const { countryId } = await rentalMarket(1);
    const usage = await Promise.all([
      runNovaSms(['rent', String(countryId)], env),
      runNovaSms(['rent', String(countryId), '721'], env),
      runNovaSms(['rentals', '--status', 'waiting'], env),
      runNovaSms(['report', '5', 'spam'], env),
      runNovaSms(['extend', '5'], env),
    ]);
    assert.deepEqual(usage.map((run) => run.code), [2, 2, 2, 2, 2]);
    assert.match(usage[0].stderr, /rent needs COUNTRY and HOURS/);
    assert.match(usage[1].stderr, /HOURS must be a whole number from 1 to 720, not "721"/);
    assert.match(usage[2].stderr, /--status must be one of active, finished, cancelled, expired/);
    assert.match(usage[3].stderr, /report needs a REASON: used, blocked, no_sms, other/);
    assert.match(usage[4].stderr, /missing HOURS/);
    for (const run of usage) assert.match(run.stderr, /Usage: nova-sms/);

    const broke = await runNovaSms(['rent', String(countryId), '1', '--json'], env);
    assert.equal(broke.code, 1);
    assert.equal(JSON.parse(broke.stdout).error.code, 'insufficient_balance');
    const help = await runNovaSms(['--help'], env);
    for (const command of ['reuse ID', 'report ID REASON', 'rental-prices', 'rent COUNTRY HOURS', 'rentals', 'rental ID', 'extend ID HOURS', 'rental-cancel ID', 'rental-finish ID']) {
      assert.ok(help.stdout.includes(`  ${command}`), `usage lists ${command}`);
    }
  });
});
