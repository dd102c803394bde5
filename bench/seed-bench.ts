import { parseArgs } from 'node:util';
import { createServices } from '../src/app.ts';
import { runOperatorCommand } from '../src/cli/control-socket.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { seedDemo } from '../src/demo-seed.ts';
import { benchOperator, extraNumbers, longPollService } from './bench-fixture.ts';

/**
 * Seeds a benchmark database before its server starts (run by bench/run-bench.ts in the server's
 * environment): the demo, as the server would seed it, then with the operator CLI's own commands
 * an http provider with `--numbers` extra numbers, the long-poll service, 100,000 USD for the demo
 * company and `--companies` buyer companies with 1,000 USD each. Seeding before the start means the
 * server's caches begin with the data; it also makes 50 companies and 10,000 numbers take one
 * process, not one `npm run nova` each.
 *
 * Prints one line `BENCH_SEED {json}` with the demo login, the provider's secret and the buyers' keys.
 */
const { values } = parseArgs({ options: { companies: { type: 'string' }, numbers: { type: 'string' } } });
const companyCount = Number(values.companies ?? 0);
const numberCount = Number(values.numbers ?? 0);

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
const services = createServices({ config, database, clock: systemClock });

async function run(command: string, args: string[]): Promise<Record<string, unknown>> {
  const reply = await runOperatorCommand(services, command, args);
  if (!reply.ok || !reply.output) throw new Error(`${command} failed: ${reply.error?.code}: ${reply.error?.message}`);
  return reply.output.json as Record<string, unknown>;
}

try {
  const demoLogin = await seedDemo(services, config.dataDir);
  if (!demoLogin) throw new Error('The demo company was not created: the database was not empty');
  await run('credit', ['--company', String(demoLogin.companyId), '--amount', '100000', '--reason', 'bench']);

  const provider = await run('provider:create', ['--name', 'bench-modems', '--kind', 'http']);
  const providerId = String(provider.provider_id);
  await run('service:add', ['--code', longPollService.code, '--name', longPollService.name]);
  await run('price:set', ['--service', longPollService.code, '--country', String(longPollService.countryId), '--price', longPollService.price]);
  const byCountry = new Map<number, string[]>();
  for (const { countryId, e164 } of extraNumbers(numberCount)) byCountry.set(countryId, [...(byCountry.get(countryId) ?? []), e164]);
  for (const [countryId, numbers] of byCountry) {
    // A few thousand at a time: one INSERT of them all would pass PostgreSQL's 65,535 parameters.
    for (let i = 0; i < numbers.length; i += 2000) {
      await run('numbers:add', ['--provider', providerId, '--country', String(countryId), '--operator', benchOperator, ...numbers.slice(i, i + 2000)]);
    }
  }

  const buyers: { companyId: number; apiKey: string }[] = [];
  for (let i = 1; i <= companyCount; i++) {
    const created = await run('company:create', ['--name', `Bench buyer ${i}`, '--owner-email', `bench-buyer-${i}@bench.nova-sms.local`, '--credit', '1000']);
    buyers.push({ companyId: Number(created.company_id), apiKey: String(created.api_key) });
  }
  console.log(`BENCH_SEED ${JSON.stringify({ demoLogin, providerSecret: provider.secret, buyers })}`);
} finally {
  await services.pubsub.close();
  await database.close();
}
