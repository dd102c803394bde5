import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createServices } from '../src/app.ts';
import { runOperatorCommand } from '../src/cli/control-socket.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { createScratchDatabase } from '../test/support/test-target.ts';
import { freePort, redisReachable } from '../test/support/local-services.ts';
import { ensureServerBuilt, serverEntry } from './build-server.ts';

/**
 * `npm run chaos -- [--seconds 60] [--instances 3] [--workers 8] [--kill-at S] [--down S]
 *                   [--lifetime S] [--redis URL | --no-redis]`
 *
 * Proof under faults: several real server processes (the compiled `dist/main.js`, built when
 * stale) on one scratch PostgreSQL database (NOVA_TEST_PG_URL, default the test server) and one
 * Redis, in demo mode (the demo SMS job runs on every instance) plus a push provider of its own.
 * Mixed load for `--seconds`: buys (demo and pushed numbers), polls and long-polls, SMS pushed to
 * /api/v1/supply/sms, cancels, completes, activations left to expire, webhooks to a receiver on
 * loopback. The client spreads requests over the instances and, like a proxy, retries a request
 * another instance when one does not answer (buys carry an Idempotency-Key). Mid-run one instance
 * is killed with SIGKILL and started again; the time until it answers again is measured.
 *
 * Afterwards, with the database itself: `ledger:verify` clean and every balance the sum of its
 * ledger; no number ever in two open activations (also sampled during the run); no activation
 * charged or refunded twice, a refund exactly for each cancelled or expired one; every pushed SMS
 * stored exactly once; no activation with two demo SMS; every due webhook delivery delivered, and
 * received by the receiver. Prints a summary (last line: `chaos summary: {json}`) and exits 1 on
 * any violation. test/production/chaos.test.ts runs a short version in `npm test`.
 */

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    instances: { type: 'string', default: '3' },
    workers: { type: 'string', default: '8' },
    'kill-at': { type: 'string' },
    down: { type: 'string', default: '1' },
    lifetime: { type: 'string', default: '8' },
    drain: { type: 'string', default: '20' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'no-redis': { type: 'boolean', default: false },
  },
});
const seconds = Number(options.seconds);
const instanceCount = Number(options.instances);
const workerCount = Number(options.workers);
const killAtSeconds = options['kill-at'] === undefined ? seconds * 0.4 : Number(options['kill-at']);
const downSeconds = Number(options.down);
const lifetimeSeconds = Number(options.lifetime);
const drainSeconds = Number(options.drain);
if (
  !(seconds > 0 && instanceCount >= 2 && workerCount > 0 && killAtSeconds > 0 && killAtSeconds < seconds && downSeconds >= 0 && lifetimeSeconds >= 2 && drainSeconds > 0)
) {
  console.error('usage: npm run chaos -- [--seconds N] [--instances N≥2] [--workers N] [--kill-at S<seconds] [--down S] [--lifetime S≥2] [--drain S] [--redis URL | --no-redis]');
  process.exit(2);
}

// Our own market, so the pushed numbers are never confused with the demo's.
const pushCountryId = 990;
const pushServices = Array.from({ length: 30 }, (_, i) => `cx${i}`);
const pushNumbers = Array.from({ length: 400 }, (_, i) => `+1303555${String(i).padStart(4, '0')}`);
// Demo numbers (country 6) answer with the demo SMS job's message a second after purchase.
const demoCountryId = 6;
const demoServices = ['tg', 'wa', 'go', 'fb', 'ig', 'ds', 'lf', 'ub', 'mm', 'am'];

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (message: string) => console.log(`[${elapsed().toFixed(1).padStart(5)} s] ${message}`);
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];

// ---------------------------------------------------------------------------------------------
// Database, Redis, catalog and customers

await import('../web/build-if-stale.ts');
await ensureServerBuilt();

const redisUrl = options['no-redis'] ? undefined : options.redis;
if (redisUrl && !(await redisReachable(redisUrl, 2000))) {
  console.error(`Redis is not reachable at ${redisUrl}: start it, pass --redis URL, or run with --no-redis`);
  process.exit(2);
}
const scratch = await createScratchDatabase();
const workDir = mkdtempSync(path.join(os.tmpdir(), 'nova-chaos-'));
const sqlClient = new pg.Client({ connectionString: scratch.url });

interface Customer {
  companyId: number;
  apiKey: string;
}

/** Migrates the scratch database and seeds it through the services, on a pool of the script's own. */
async function seed(): Promise<{ customers: Customer[]; providerId: number; providerSecret: string }> {
  const database = await openDatabase({ databaseUrl: scratch.url, dataDir: workDir, poolSize: 2 });
  try {
    const services = createServices({ config: loadConfig({ DATABASE_URL: scratch.url, NOVA_DATA_DIR: workDir, LOG_LEVEL: 'silent' }), database, clock: systemClock });
    await services.catalog.upsertCountry({ id: pushCountryId, name: 'Chaos land', iso: 'XC', dialPrefix: '1' });
    for (const code of pushServices) {
      await services.catalog.upsertService({ code, name: `Chaos ${code}` });
      await services.catalog.setPrice({ serviceCode: code, countryId: pushCountryId, price: 1000 });
    }
    const { provider, secret } = await services.supply.createProvider({ name: 'chaos push provider', kind: 'http' });
    await services.supply.addNumbers(provider.id, pushNumbers.map((e164) => ({ e164, countryId: pushCountryId })));
    const customers: Customer[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await services.accounts.createCompany({ name: `Chaos company ${i}`, ownerEmail: `chaos.${i}.${process.pid}@example.com` });
      await services.billing.credit({ companyId: created.companyId, amount: 10_000 * 10_000, kind: 'topup', reason: 'chaos credit' });
      customers.push({ companyId: created.companyId, apiKey: created.apiKey });
    }
    return { customers, providerId: provider.id, providerSecret: secret };
  } finally {
    await database.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The instances

interface Instance {
  index: number;
  port: number;
  baseUrl: string;
  dataDir: string;
  child?: ChildProcess;
  alive: boolean;
  output: string;
  /** Error lines it logged, over all its runs. */
  errors: string[];
}

const instances: Instance[] = [];
const instanceSecret = randomBytes(32).toString('hex');

function spawnInstance(instance: Instance) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(instance.port),
    HOST: '127.0.0.1',
    NOVA_DATA_DIR: instance.dataDir,
    DATABASE_URL: scratch.url,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    // One secret for all, as the README asks of every deployment (sealed keys, CSRF tokens).
    NOVA_SECRET: instanceSecret,
    NOVA_DEMO: '1',
    NOVA_DEMO_SMS_DELAY_S: '1',
    NOVA_SWEEP_INTERVAL_MS: '250',
    NOVA_WEBHOOK_INTERVAL_MS: '200',
    NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1',
    NOVA_ACTIVATION_LIFETIME_S: String(lifetimeSeconds),
    NOVA_CANCEL_AFTER_S: '0',
    NOVA_CANCEL_COOLDOWN_S: '0',
    // Many activations end without SMS on purpose: numbers and providers must stay on sale.
    NOVA_NUMBER_MAX_FAILURES: '1000000',
    NOVA_PROVIDER_MAX_FAILURES: '1000000',
    NOVA_RATE_LIMIT_RPS: '100000',
    NOVA_RATE_LIMIT_BURST: '100000',
    NOVA_COOKIE_SECURE: '0',
    LOG_LEVEL: 'warn',
  };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--enable-source-maps', serverEntry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  const keep = (chunk: Buffer) => {
    instance.output = (instance.output + chunk.toString()).slice(-8192);
    // JSON log lines at level error (50) or fatal (60): their message and error, for the summary.
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; job?: string; err?: { message?: string } };
        if ((entry.level ?? 0) >= 50) instance.errors.push(`${entry.msg ?? ''}${entry.job ? ` (${entry.job})` : ''}: ${(entry.err?.message ?? '').split('\n')[0].slice(0, 200)}`);
      } catch {
        // Not a log line.
      }
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  instance.child = child;
  instance.alive = true;
  child.on('exit', () => {
    if (instance.child === child) instance.alive = false;
  });
}

/** Milliseconds from now until `pathname` answers 200 on the instance (polling every 20 ms). */
async function waitForAnswer(instance: Instance, pathname: string, timeoutMs = 60_000): Promise<number> {
  const since = performance.now();
  while (performance.now() - since < timeoutMs) {
    if (!instance.alive) throw new Error(`instance ${instance.index} exited during start-up:\n${instance.output}`);
    const status = await fetch(`${instance.baseUrl}${pathname}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return performance.now() - since;
    await sleep(20);
  }
  throw new Error(`instance ${instance.index} did not answer ${pathname} within ${timeoutMs / 1000} s:\n${instance.output}`);
}

async function stopInstances() {
  await Promise.all(
    instances.map(async (instance) => {
      if (!instance.alive || !instance.child) return;
      instance.child.kill('SIGTERM');
      await Promise.race([once(instance.child, 'exit'), sleep(12_000)]);
      if (instance.alive) instance.child.kill('SIGKILL');
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver

const receivedEvents = new Map<string, number>();
const receiver = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const id = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
      receivedEvents.set(id, (receivedEvents.get(id) ?? 0) + 1);
    } catch {
      // Counted below as a delivery the receiver never saw.
    }
    response.end('ok');
  });
});

// ---------------------------------------------------------------------------------------------
// Load

interface Tally {
  /** HTTP requests sent (attempts, retries included). */
  requests: number;
  byOutcome: Map<string, number>;
  serverErrors: number;
  lastServerError?: string;
  /** Attempts an instance did not answer (connection refused or cut); retried on another. */
  unanswered: number;
  unansweredWhileKilled: number;
  /** Requests no instance answered after every retry. */
  failed: number;
}
const tally: Tally = { requests: 0, byOutcome: new Map(), serverErrors: 0, unanswered: 0, unansweredWhileKilled: 0, failed: 0 };
let killedAt: number | null = null;
let backAt: number | null = null;
let nextInstance = 0;

/**
 * One API request, sent to the next instance in turn; when an instance does not answer it goes
 * to the next one, as a proxy in front of them would do.
 */
async function call(method: string, pathname: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  for (let attempt = 0; attempt < instances.length * 2; attempt++) {
    const instance = instances[nextInstance++ % instances.length];
    tally.requests++;
    try {
      const response = await fetch(`${instance.baseUrl}${pathname}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      const outcome = `${method} ${pathname.replace(/\/\d+/g, '/:id').replace(/\?.*/, '')} ${response.status}${parsed?.error?.code ? ` ${parsed.error.code}` : ''}`;
      tally.byOutcome.set(outcome, (tally.byOutcome.get(outcome) ?? 0) + 1);
      if (response.status >= 500) {
        tally.serverErrors++;
        tally.lastServerError = `${method} ${pathname} on instance ${instance.index}: ${text.slice(0, 300)}`;
      }
      return { status: response.status, body: parsed };
    } catch {
      tally.unanswered++;
      if (killedAt !== null && backAt === null) tally.unansweredWhileKilled++;
      await sleep(10);
    }
  }
  tally.failed++;
  return { status: 0, body: null };
}

interface Bought {
  id: number;
  number: string;
  kind: 'push' | 'demo';
  customer: Customer;
  smsPushed: boolean;
}

/** Every SMS text pushed and acknowledged (each text unique): each must be stored once. */
const pushedTexts: string[] = [];
let loadRunning = true;
let pushCounter = 0;

async function worker(customer: Customer, providerSecret: string) {
  const mine: Bought[] = [];
  while (loadRunning) {
    const roll = Math.random();
    if (roll < 0.3 || mine.length === 0) {
      const demo = Math.random() < 0.2;
      const idempotencyKey = `chaos-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const response = await call(
        'POST',
        '/api/v1/activations',
        customer.apiKey,
        { service_code: demo ? pick(demoServices) : pick(pushServices), country_id: demo ? demoCountryId : pushCountryId },
        { 'idempotency-key': idempotencyKey },
      );
      if (response.status === 201) {
        const activation = response.body.data.activation;
        mine.push({ id: activation.id, number: activation.number, kind: demo ? 'demo' : 'push', customer, smsPushed: false });
      }
    } else {
      const activation = pick(mine);
      const action = Math.random();
      if (action < 0.35) {
        // A plain poll, now and then a short long-poll.
        const wait = Math.random() < 0.2 ? '?wait=1' : '';
        const response = await call('GET', `/api/v1/activations/${activation.id}${wait}`, customer.apiKey);
        const status = response.body?.data?.activation?.status;
        if (status && !['waiting', 'sms_received'].includes(status)) mine.splice(mine.indexOf(activation), 1);
      } else if (action < 0.6 && activation.kind === 'push' && !activation.smsPushed) {
        const text = `Your chaos code is ${100000 + (pushCounter++ % 900000)} (${process.pid}.${pushCounter})`;
        const response = await call('POST', '/api/v1/supply/sms', providerSecret, { to: activation.number, from: 'Chaos', text });
        if (response.status === 200) {
          pushedTexts.push(text);
          activation.smsPushed = true;
        }
      } else if (action < 0.75) {
        await call('POST', `/api/v1/activations/${activation.id}/complete`, customer.apiKey);
        mine.splice(mine.indexOf(activation), 1);
      } else if (action < 0.85) {
        await call('POST', `/api/v1/activations/${activation.id}/cancel`, customer.apiKey);
        mine.splice(mine.indexOf(activation), 1);
      } else {
        // Left alone: the sweeper expires and refunds it once its lifetime is over.
        mine.splice(mine.indexOf(activation), 1);
        await call('GET', '/api/v1/balance', customer.apiKey);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Invariants

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const openStatuses = `('waiting', 'sms_received')`;
let maxNumbersInTwoOpen = 0;

async function numbersInTwoOpenActivations(): Promise<number> {
  const { rows } = await sqlClient.query<{ n: number }>(
    `select count(*)::int as n from (select number_id from activations where status in ${openStatuses} group by number_id having count(*) > 1) twice`,
  );
  return rows[0].n;
}

async function rows<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await sqlClient.query<T>(text, values)).rows;
}

async function dueWorkLeft(): Promise<{ open: number; webhooks: number }> {
  const [open] = await rows<{ n: number }>(`select count(*)::int as n from activations where status in ${openStatuses}`);
  const [webhooks] = await rows<{ n: number }>(`select count(*)::int as n from webhook_deliveries where status = 'pending' and next_attempt_at <= now()`);
  return { open: open.n, webhooks: webhooks.n };
}

async function verify(providerId: number): Promise<{ checks: Check[]; figures: Record<string, number> }> {
  const checks: Check[] = [];

  const database = await openDatabase({ databaseUrl: scratch.url, dataDir: workDir, poolSize: 1 });
  try {
    const services = createServices({ config: loadConfig({ DATABASE_URL: scratch.url, NOVA_DATA_DIR: workDir, LOG_LEVEL: 'silent' }), database, clock: systemClock });
    const reply = await runOperatorCommand(services, 'ledger:verify', []);
    checks.push({ name: 'ledger:verify clean', ok: reply.ok === true && (reply.output?.exitCode ?? 0) === 0, detail: reply.output?.text ?? JSON.stringify(reply.error) });
  } finally {
    await database.close();
  }

  const unbalanced = await rows<{ id: number; balance: string; ledger: string }>(
    `select c.id, c.balance::text, coalesce(sum(l.amount), 0)::text as ledger from companies c left join ledger_entries l on l.company_id = c.id
     group by c.id having c.balance <> coalesce(sum(l.amount), 0)`,
  );
  checks.push({ name: 'balance = sum of ledger, per company', ok: unbalanced.length === 0, detail: unbalanced.length === 0 ? 'every company' : JSON.stringify(unbalanced.slice(0, 5)) });

  maxNumbersInTwoOpen = Math.max(maxNumbersInTwoOpen, await numbersInTwoOpenActivations());
  checks.push({ name: 'no number in two open activations', ok: maxNumbersInTwoOpen === 0, detail: `at most ${maxNumbersInTwoOpen} such numbers in any sample` });

  const [activationFigures] = await rows<{ total: number; open: number; completed: number; cancelled: number; expired: number }>(
    `select count(*)::int as total, count(*) filter (where status in ${openStatuses})::int as open,
       count(*) filter (where status = 'completed')::int as completed, count(*) filter (where status = 'cancelled')::int as cancelled,
       count(*) filter (where status = 'expired')::int as expired from activations`,
  );
  const twice = await rows<{ activation_id: string; kind: string; n: number }>(
    `select activation_id, kind, count(*)::int as n from ledger_entries where kind in ('purchase', 'refund') group by activation_id, kind having count(*) > 1`,
  );
  checks.push({ name: 'no activation charged or refunded twice', ok: twice.length === 0, detail: twice.length === 0 ? `${activationFigures.total} activations` : JSON.stringify(twice.slice(0, 5)) });
  const refundMismatch = await rows<{ id: string; status: string; purchases: number; refunds: number }>(
    `select a.id, a.status,
       (select count(*)::int from ledger_entries l where l.activation_id = a.id and l.kind = 'purchase') as purchases,
       (select count(*)::int from ledger_entries l where l.activation_id = a.id and l.kind = 'refund') as refunds
     from activations a
     where (select count(*) from ledger_entries l where l.activation_id = a.id and l.kind = 'purchase') <> 1
        or (select count(*) from ledger_entries l where l.activation_id = a.id and l.kind = 'refund') <> (case when a.status in ('cancelled', 'expired') then 1 else 0 end)`,
  );
  checks.push({
    name: 'one charge per activation, one refund exactly when cancelled or expired',
    ok: refundMismatch.length === 0,
    detail: refundMismatch.length === 0 ? `${activationFigures.cancelled + activationFigures.expired} refunds` : JSON.stringify(refundMismatch.slice(0, 5)),
  });

  const stored = new Map(
    (await rows<{ text: string; n: number }>(`select text, count(*)::int as n from sms_messages where provider_id = $1 group by text`, [providerId])).map((r) => [r.text, r.n]),
  );
  const notOnce = pushedTexts.filter((text) => stored.get(text) !== 1);
  checks.push({
    name: 'every pushed SMS stored exactly once',
    ok: notOnce.length === 0,
    detail: notOnce.length === 0 ? `${pushedTexts.length} pushed` : `${notOnce.length} of ${pushedTexts.length}, e.g. "${notOnce[0]}" stored ${stored.get(notOnce[0]) ?? 0} times`,
  });

  const demoTwice = await rows<{ activation_id: string; n: number }>(
    `select s.activation_id, count(*)::int as n from sms_messages s join providers p on p.id = s.provider_id
     where p.kind = 'demo' and s.activation_id is not null group by s.activation_id having count(*) > 1`,
  );
  const [demoSms] = await rows<{ n: number }>(`select count(*)::int as n from sms_messages s join providers p on p.id = s.provider_id where p.kind = 'demo'`);
  checks.push({
    name: 'one demo SMS per activation',
    ok: demoTwice.length === 0,
    detail: demoTwice.length === 0 ? `${demoSms.n} demo SMS` : `${demoTwice.length} activations with several, e.g. ${JSON.stringify(demoTwice[0])}`,
  });

  const deliveries = await rows<{ event_id: string; status: string; due: boolean; attempts: number }>(
    `select event_id, status, next_attempt_at <= now() as due, attempts from webhook_deliveries`,
  );
  const undelivered = deliveries.filter((d) => d.status !== 'delivered' && (d.status !== 'pending' || d.due));
  const unseen = deliveries.filter((d) => d.status === 'delivered' && !receivedEvents.has(d.event_id));
  // A delivery the killed instance was sending is held by its claim (60 s) and then sent again.
  const leased = deliveries.filter((d) => d.status === 'pending' && !d.due);
  const received = [...receivedEvents.values()].reduce((a, b) => a + b, 0);
  checks.push({
    name: 'every due webhook delivered at least once',
    ok: undelivered.length === 0 && unseen.length === 0,
    detail:
      `${deliveries.length - leased.length - undelivered.length} delivered (${received} receipts at the receiver), ` +
      `${undelivered.length} due but not delivered, ${unseen.length} marked delivered but never received, ` +
      `${leased.length} held by a claim of the killed instance until it runs out`,
  });

  return {
    checks,
    figures: { ...activationFigures, pushedSms: pushedTexts.length, demoSms: demoSms.n, webhookDeliveries: deliveries.length, webhookReceipts: received, webhookLeased: leased.length },
  };
}

// ---------------------------------------------------------------------------------------------
// The run

let exitCode = 1;
let summary: Record<string, unknown> = {};
try {
  const { customers, providerId, providerSecret } = await seed();
  await sqlClient.connect();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  for (let index = 0; index < instanceCount; index++) {
    const port = await freePort();
    instances.push({ index, port, baseUrl: `http://127.0.0.1:${port}`, dataDir: mkdtempSync(path.join(workDir, `instance-${index}-`)), alive: false, output: '', errors: [] });
  }
  // All at once, as an orchestrator starts them.
  for (const instance of instances) spawnInstance(instance);
  const startMs = await Promise.all(instances.map((instance) => waitForAnswer(instance, '/readyz')));
  log(`${instanceCount} instances ready (${startMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} from spawn) on ${redisUrl ? `PostgreSQL + Redis` : 'PostgreSQL, no Redis'}`);

  for (const customer of customers) {
    const created = await call('POST', '/api/v1/webhooks', customer.apiKey, { url: receiverUrl, events: ['activation.sms_received', 'activation.cancelled', 'activation.expired'] });
    if (created.status !== 201) throw new Error(`could not register a webhook: ${JSON.stringify(created.body)}`);
  }

  const monitor = (async () => {
    while (loadRunning) {
      maxNumbersInTwoOpen = Math.max(maxNumbersInTwoOpen, await numbersInTwoOpenActivations().catch(() => 0));
      await sleep(500);
    }
  })();
  const loadStartedAt = elapsed();
  const workers = Array.from({ length: workerCount }, (_, i) => worker(customers[i % customers.length], providerSecret));
  log(`load: ${workerCount} workers for ${seconds} s; instance 1 gets SIGKILL at ${killAtSeconds} s`);

  await sleep(killAtSeconds * 1000);
  const victim = instances[1];
  const requestsBeforeKill = tally.requests;
  killedAt = elapsed();
  victim.child!.kill('SIGKILL');
  await once(victim.child!, 'exit');
  log(`instance 1 killed (SIGKILL); ${tally.requests} requests so far`);
  await sleep(downSeconds * 1000);
  spawnInstance(victim);
  const firstAnswerMs = await waitForAnswer(victim, '/healthz');
  const readyMs = firstAnswerMs + (await waitForAnswer(victim, '/readyz'));
  backAt = elapsed();
  log(`instance 1 restarted: first answer ${(firstAnswerMs / 1000).toFixed(2)} s after spawn, ready after ${(readyMs / 1000).toFixed(2)} s`);

  // The restarted instance takes its share of the load for a while before the load stops.
  await sleep(Math.max(0, (loadStartedAt + seconds - elapsed()) * 1000, 2000));
  loadRunning = false;
  await Promise.all(workers);
  await monitor;
  const loadSeconds = elapsed() - loadStartedAt;
  log(`load stopped: ${tally.requests} requests in ${loadSeconds.toFixed(1)} s; draining (activations expire after ${lifetimeSeconds} s)`);

  // Let the jobs finish what is due: open activations expire, webhooks go out.
  const drainUntil = elapsed() + drainSeconds + lifetimeSeconds;
  let left = await dueWorkLeft();
  while ((left.open > 0 || left.webhooks > 0) && elapsed() < drainUntil) {
    await sleep(250);
    left = await dueWorkLeft();
  }
  log(`drained: ${left.open} open activations, ${left.webhooks} due webhook deliveries left`);

  const { checks, figures } = await verify(providerId);
  const [{ deadlocks }] = await rows<{ deadlocks: number }>(`select deadlocks::int from pg_stat_database where datname = current_database()`);
  // What the instances logged as errors (a failed job pass, an unexpected exception): shown, and
  // a failed job pass is a violation (a deadlock retried in time is not, and is not logged).
  const errorLines = instances.flatMap((instance) => instance.errors.map((line) => `instance ${instance.index}: ${line}`));
  const failedPasses = errorLines.filter((line) => line.includes('job pass failed'));
  checks.push({ name: 'no job pass failed', ok: failedPasses.length === 0, detail: failedPasses.length === 0 ? 'none' : `${failedPasses.length}, e.g. ${failedPasses[0]}` });
  checks.push({ name: 'no 5xx answer', ok: tally.serverErrors === 0, detail: tally.serverErrors === 0 ? 'none' : `${tally.serverErrors}, last: ${tally.lastServerError}` });
  checks.push({ name: 'every request answered (retried on another instance)', ok: tally.failed === 0, detail: `${tally.failed} unanswered after retries` });
  checks.push({ name: 'the jobs finished what was due', ok: left.open === 0 && left.webhooks === 0, detail: `${left.open} open activations, ${left.webhooks} due deliveries` });

  console.log('\nOutcomes:');
  for (const [outcome, count] of [...tally.byOutcome].sort((a, b) => b[1] - a[1])) console.log(`  ${String(count).padStart(7)}  ${outcome}`);
  if (errorLines.length > 0) {
    console.log(`\nError lines the instances logged (${errorLines.length}):`);
    for (const line of [...new Set(errorLines)].slice(0, 10)) console.log(`  ${line}`);
  }
  console.log('\nInvariants:');
  for (const check of checks) console.log(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`);
  const violations = checks.filter((check) => !check.ok).map((check) => check.name);
  summary = {
    seconds: Number(loadSeconds.toFixed(1)),
    instances: instanceCount,
    workers: workerCount,
    redis: Boolean(redisUrl),
    requests: tally.requests,
    requestsPerSecond: Math.round(tally.requests / loadSeconds),
    requestsBeforeKill,
    serverErrors: tally.serverErrors,
    unansweredAttempts: tally.unanswered,
    unansweredWhileKilled: tally.unansweredWhileKilled,
    failedRequests: tally.failed,
    killedAtSeconds: Number((killedAt - loadStartedAt).toFixed(1)),
    downSeconds,
    restartFirstAnswerMs: Math.round(firstAnswerMs),
    restartReadyMs: Math.round(readyMs),
    startupMs: startMs.map(Math.round),
    ...figures,
    deadlocksRetried: deadlocks,
    errorLogLines: errorLines.length,
    violations,
  };
  exitCode = violations.length === 0 ? 0 : 1;
  if (exitCode !== 0) {
    for (const instance of instances) console.log(`\n--- instance ${instance.index} output (last 8 KiB) ---\n${instance.output}`);
  }
} catch (error) {
  console.error(error);
  for (const instance of instances) console.error(`\n--- instance ${instance.index} output (last 8 KiB) ---\n${instance.output}`);
} finally {
  loadRunning = false;
  await stopInstances();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await sqlClient.end().catch(() => {});
  await scratch.drop().catch((error) => console.error(`could not drop the scratch database: ${error}`));
  rmSync(workDir, { recursive: true, force: true });
}
console.log(`\n${exitCode === 0 ? 'PASSED' : 'FAILED'}`);
console.log(`chaos summary: ${JSON.stringify(summary)}`);
process.exit(exitCode);
