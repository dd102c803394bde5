import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createServices } from '../src/app.ts';
import { systemClock } from '../src/clock.ts';
import { type CommandReply, runOperatorCommand, sendToRunningServer } from '../src/cli/control-socket.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { adminPgUrl, createScratchDatabase } from '../test/support/test-target.ts';
import { freePort } from '../test/support/local-services.ts';
import { ensureServerBuilt, serverEntry } from './build-server.ts';

/**
 * `npm run soak -- [--minutes 10] [--pglite] [--redis URL] [--workers 8] [--buys-per-second 10]`
 *
 * A long run of ordinary mixed traffic against the compiled server (`dist/`, built when stale) in a
 * child process, to show that nothing accumulates: the process's memory, its open files and
 * sockets, and its PostgreSQL connections stay flat. Not part of `npm test` (it takes minutes).
 *
 * The server runs on a scratch PostgreSQL database (NOVA_TEST_PG_URL, default the test server) or,
 * with --pglite, on the embedded database in a temporary folder; with --redis, on that Redis too
 * (under the server's usual `nova:` keys: give it a Redis nothing else uses). Traffic: API buys, plain polls and
 * long-polls, SMS pushes, completes, cancels, activations left to expire, and website visitors who
 * sign in, fetch the dashboard's data, watch the live stream for a moment and sign out. Every 10 s
 * it samples the child's RSS (/proc/PID/status), open file descriptors (/proc/PID/fd), established
 * TCP connections, and the database's connections (pg_stat_activity), then prints a table and a
 * verdict: flat when the last third's lowest and highest RSS are within 10 % (or 16 MiB) of the middle third's,
 * descriptors and connections do not grow, no answer is a 5xx, and the ledger still balances.
 * Exits 1 otherwise.
 */

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    pglite: { type: 'boolean', default: false },
    redis: { type: 'string' },
    workers: { type: 'string', default: '8' },
    'buys-per-second': { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '10' },
  },
});
const minutes = Number(options.minutes);
const workerCount = Number(options.workers);
const buysPerSecond = Number(options['buys-per-second']);
const sampleSeconds = Number(options['sample-seconds']);
if (!(minutes > 0 && workerCount > 0 && buysPerSecond > 0 && sampleSeconds > 0)) {
  console.error('usage: npm run soak -- [--minutes N] [--pglite] [--redis URL] [--workers N] [--buys-per-second N] [--sample-seconds N]');
  process.exit(2);
}

// Each buy uses a (number, service) pair for good, and an activation left alone holds its number
// for its 60 s lifetime: enough numbers for both at the target rate.
const serviceCount = 40;
const numbersCount = Math.max(Math.ceil((buysPerSecond * minutes * 60 * 1.5) / serviceCount), buysPerSecond * 60);
const countryId = 6;
const password = 'soak test password';

// ---------------------------------------------------------------------------------------------
// The server under test

await import('../web/build-if-stale.ts');
await ensureServerBuilt();

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-soak-'));
const scratch = options.pglite ? undefined : await createScratchDatabase();
const databaseName = scratch ? new URL(scratch.url).pathname.slice(1) : undefined;
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const serverEnv: Record<string, string> = {
  PORT: String(port),
  HOST: '127.0.0.1',
  NOVA_DATA_DIR: dataDir,
  ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  ...(options.redis ? { REDIS_URL: options.redis } : {}),
  // The soak brings its own catalog and supply; demo SMS would answer its purchases for it.
  NOVA_DEMO: '0',
  NOVA_COOKIE_SECURE: '0',
  LOG_LEVEL: 'warn',
  // Many requests per key on purpose: the run is about resources, not about being throttled.
  NOVA_RATE_LIMIT_RPS: '1000',
  NOVA_RATE_LIMIT_BURST: '2000',
  // Cancel at once and sell the number again at once; leave-alone activations expire within the run.
  NOVA_CANCEL_AFTER_S: '0',
  NOVA_CANCEL_COOLDOWN_S: '0',
  NOVA_ACTIVATION_LIFETIME_S: '60',
};

const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', serverEntry], {
  env: { ...process.env, ...serverEnv },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const childPid = child.pid!;
let childLog = '';
const keepLog = (chunk: Buffer) => {
  // The last few KiB only, to show if the server dies.
  childLog = (childLog + chunk.toString()).slice(-8192);
};
child.stdout!.on('data', keepLog);
child.stderr!.on('data', keepLog);
let childExited = false;
child.on('exit', () => (childExited = true));

async function cleanUp() {
  if (!childExited) {
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), sleep(15_000)]);
    if (!childExited) child.kill('SIGKILL');
  }
  await scratch?.drop().catch((error) => console.error(`could not drop the scratch database: ${error}`));
  rmSync(dataDir, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanUp().finally(() => process.exit(130));
});

async function waitUntilReady() {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (childExited) throw new Error(`the server exited during start-up:\n${childLog}`);
    const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) return;
    await sleep(200);
  }
  throw new Error(`the server did not become ready within 60 s:\n${childLog}`);
}

// ---------------------------------------------------------------------------------------------
// Catalog, supply and customers, through the operator commands

type Operator = (command: string, args: string[]) => Promise<Record<string, unknown>>;

/**
 * Runs `work` with the operator commands: on PostgreSQL on a connection of the script's own,
 * closed afterwards so it is never among the connections sampled; on PGlite through the
 * server's control socket, as `npm run nova` does.
 */
async function asOperator<T>(work: (operator: Operator) => Promise<T>): Promise<T> {
  const database = scratch ? await openDatabase({ databaseUrl: scratch.url, dataDir, poolSize: 1 }) : undefined;
  const services = database ? createServices({ config: loadConfig({ ...serverEnv, LOG_LEVEL: 'silent' }), database, clock: systemClock }) : undefined;
  const operator: Operator = async (command, args) => {
    const reply: CommandReply | null = services ? await runOperatorCommand(services, command, args) : await sendToRunningServer(dataDir, command, args);
    if (!reply?.ok || !reply.output) throw new Error(`${command} failed: ${JSON.stringify(reply?.error)}`);
    return reply.output.json as Record<string, unknown>;
  };
  try {
    return await work(operator);
  } finally {
    await database?.close();
  }
}

interface Customer {
  apiKey: string;
  email: string;
}

async function seed(operator: Operator): Promise<{ customers: Customer[]; providerSecret: string; services: string[] }> {
  await operator('country:add', ['--id', String(countryId), '--iso', 'US', '--name', 'United States', '--prefix', '1']);
  const services = Array.from({ length: serviceCount }, (_, i) => `soak${i}`);
  for (const code of services) {
    await operator('service:add', ['--code', code, '--name', `Soak service ${code}`]);
    await operator('price:set', ['--service', code, '--country', String(countryId), '--price', '0.10']);
  }
  const provider = await operator('provider:create', ['--name', 'Soak supply', '--kind', 'http']);
  const providerId = String(provider.provider_id);
  const providerSecret = String(provider.secret);
  for (let first = 0; first < numbersCount; first += 500) {
    const numbers = Array.from({ length: Math.min(500, numbersCount - first) }, (_, i) => `+1${2000000000 + first + i}`);
    await operator('numbers:add', ['--provider', providerId, '--country', String(countryId), ...numbers]);
  }
  const customers: Customer[] = [];
  for (let i = 0; i < 4; i++) {
    const email = `soak.owner${i}.${process.pid}@example.com`;
    const created = await operator('company:create', ['--name', `Soak company ${i}`, '--owner-email', email, '--password', password, '--credit', '100000']);
    customers.push({ apiKey: String(created.api_key), email });
  }
  return { customers, providerSecret, services };
}

// ---------------------------------------------------------------------------------------------
// Traffic

interface Tally {
  requests: number;
  serverErrors: number;
  lastServerError?: string;
  byOutcome: Map<string, number>;
}
const tally: Tally = { requests: 0, serverErrors: 0, byOutcome: new Map() };

async function call(method: string, pathname: string, init: { key?: string; body?: unknown; cookie?: string; csrf?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  const response = await fetch(`${baseUrl}${pathname}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  tally.requests++;
  const outcome = `${response.status}${body?.error?.code ? ` ${body.error.code}` : ''}`;
  tally.byOutcome.set(outcome, (tally.byOutcome.get(outcome) ?? 0) + 1);
  if (response.status >= 500) {
    tally.serverErrors++;
    tally.lastServerError = `${method} ${pathname}: ${text.slice(0, 200)}`;
  }
  return { status: response.status, headers: response.headers, body };
}

let running = true;
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)];

/** One API customer: buys at its share of the target rate and does one of the usual things with each number. */
async function apiWorker(customer: Customer, providerSecret: string, services: string[]) {
  const cycleMs = (workerCount / buysPerSecond) * 1000;
  // A service out of stock is tried again later: numbers come free as activations end.
  const soldOutUntil = new Map<string, number>();
  while (running) {
    const started = Date.now();
    const open = services.filter((code) => (soldOutUntil.get(code) ?? 0) < started);
    const service = pick(open.length > 0 ? open : services);
    const bought = await call('POST', '/api/v1/activations', { key: customer.apiKey, body: { service_code: service, country_id: countryId } });
    if (bought.status === 409 && bought.body?.error?.code === 'out_of_stock') soldOutUntil.set(service, started + 10_000);
    if (bought.status === 201) {
      const { id, number } = bought.body.data.activation as { id: number; number: string };
      const pushSms = () =>
        call('POST', '/api/v1/supply/sms', { key: providerSecret, body: { to: number, from: service, text: `Your ${service} code: ${100000 + (id % 900000)}` } });
      const path = Math.random();
      if (path < 0.4) {
        // A long-poll waiting when the SMS arrives.
        const waiting = call('GET', `/api/v1/activations/${id}?wait=10`, { key: customer.apiKey });
        await sleep(50);
        await pushSms();
        await waiting;
        await call('POST', `/api/v1/activations/${id}/complete`, { key: customer.apiKey });
      } else if (path < 0.7) {
        await call('GET', `/api/v1/activations/${id}`, { key: customer.apiKey });
        await call('POST', `/api/v1/activations/${id}/cancel`, { key: customer.apiKey });
      } else if (path < 0.85) {
        // Left alone: the expiry sweeper ends and refunds it after the lifetime.
        await call('GET', `/api/v1/activations/${id}`, { key: customer.apiKey });
      } else {
        await pushSms();
        await call('GET', `/api/v1/activations/${id}`, { key: customer.apiKey });
        await call('POST', `/api/v1/activations/${id}/complete`, { key: customer.apiKey });
      }
    }
    if (Math.random() < 0.2) await call('GET', '/api/v1/balance', { key: customer.apiKey });
    await sleep(Math.max(0, cycleMs - (Date.now() - started)));
  }
}

/** Website visitors, one after another: sign in, fetch what the dashboard shows, watch live updates briefly, sign out. */
async function websiteWorker(customers: Customer[]) {
  while (running) {
    const customer = pick(customers);
    const cookies = new Map<string, string>();
    const remember = (headers: Headers) => {
      for (const line of headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair.indexOf('=');
        cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
    };
    const cookie = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const web = async (method: string, pathname: string, body?: unknown) => {
      const response = await call(method, `/api/web${pathname}`, { body, cookie: cookie(), csrf: cookies.get('nova_csrf') });
      remember(response.headers);
      return response;
    };
    await web('GET', '/session');
    const signedIn = await web('POST', '/signin', { email: customer.email, password });
    if (signedIn.status === 200) {
      await Promise.all([web('GET', '/balance'), web('GET', '/activations'), web('GET', '/transactions'), web('GET', '/prices')]);
      // The dashboard's live stream, held open a moment and dropped as a closed tab would.
      const abort = new AbortController();
      const stream = await fetch(`${baseUrl}/api/web/live`, { headers: { cookie: cookie() }, signal: abort.signal }).catch(() => null);
      tally.requests++;
      await sleep(2000);
      abort.abort();
      await stream?.body?.cancel().catch(() => {});
      await web('POST', '/signout');
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------------------------
// Sampling

interface Sample {
  atSeconds: number;
  rssMiB: number;
  fds: number;
  tcpEstablished: number;
  databaseConnections: number | null;
  requests: number;
}

function readRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

/** The child's socket inodes matched against the kernel's TCP tables, counting ESTABLISHED (state 01). */
function countEstablishedTcp(pid: number, fds: string[]): number {
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
    } catch {
      // Closed between listing and reading: not open any more.
    }
  }
  let established = 0;
  for (const table of ['tcp', 'tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] === '01' && inodes.has(fields[9])) established++;
    }
  }
  return established;
}

async function countDatabaseConnections(): Promise<number | null> {
  if (!databaseName) return null;
  // Connected to the admin database, so this connection is not one of those counted.
  const client = new pg.Client({ connectionString: adminPgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [databaseName]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

let startedAt = Date.now();
async function takeSample(): Promise<Sample> {
  const fds = readdirSync(`/proc/${childPid}/fd`);
  return {
    atSeconds: Math.round((Date.now() - startedAt) / 1000),
    rssMiB: readRssMiB(childPid),
    fds: fds.length,
    tcpEstablished: countEstablishedTcp(childPid, fds),
    databaseConnections: await countDatabaseConnections(),
    requests: tally.requests,
  };
}

// ---------------------------------------------------------------------------------------------
// The run

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

function verdictOf(samples: Sample[], ledgerMismatches: number) {
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  // The floor and the ceiling, not the mean: a sign-in's password hash (scrypt, 128 MiB) lifts the
  // samples taken while it runs, and how many samples land on one moves a mean by tens of MiB
  // without anything leaking. A leak lifts the floor; ever bigger spikes lift the ceiling.
  const rssOf = (list: Sample[]) => {
    const values = list.map((s) => s.rssMiB);
    return { floor: Math.min(...values), mean: mean(values), peak: Math.max(...values) };
  };
  const middleRss = rssOf(middle);
  const lastRss = rssOf(last);
  const rssAllowance = Math.max(middleRss.floor * 0.1, 16);
  const rssText = (r: ReturnType<typeof rssOf>) => `${r.floor.toFixed(1)} / ${r.mean.toFixed(1)} / ${r.peak.toFixed(1)}`;
  const maxOf = (list: Sample[], pickValue: (s: Sample) => number) => Math.max(...list.map(pickValue));
  const checks = [
    {
      name: 'memory flat',
      ok: lastRss.floor - middleRss.floor <= rssAllowance && lastRss.peak - middleRss.peak <= rssAllowance,
      detail:
        `RSS lowest / mean / highest ${rssText(middleRss)} MiB (middle third) → ${rssText(lastRss)} MiB (last third), ` +
        `allowed +${rssAllowance.toFixed(1)} MiB`,
    },
    {
      name: 'file descriptors flat',
      ok: maxOf(last, (s) => s.fds) <= maxOf(middle, (s) => s.fds) + 10,
      detail: `max ${maxOf(middle, (s) => s.fds)} (middle third) → ${maxOf(last, (s) => s.fds)} (last third)`,
    },
    {
      // Every worker holds a keep-alive connection or two, plus the database pool and Redis.
      name: 'TCP connections bounded',
      ok: maxOf(samples, (s) => s.tcpEstablished) <= 3 * workerCount + 20 && maxOf(last, (s) => s.tcpEstablished) <= maxOf(middle, (s) => s.tcpEstablished) + 10,
      detail: `max ${maxOf(samples, (s) => s.tcpEstablished)} established over the run (${workerCount} API workers + 1 website visitor)`,
    },
    ...(databaseName
      ? [
          {
            name: 'database connections bounded',
            // The server's pool opens at most 10.
            ok: maxOf(samples, (s) => s.databaseConnections ?? 0) <= 10,
            detail: `max ${maxOf(samples, (s) => s.databaseConnections ?? 0)} in pg_stat_activity (pool max 10)`,
          },
        ]
      : []),
    { name: 'no 5xx answers', ok: tally.serverErrors === 0, detail: `${tally.serverErrors} of ${tally.requests}${tally.lastServerError ? `; last: ${tally.lastServerError}` : ''}` },
    { name: 'ledger balances', ok: ledgerMismatches === 0, detail: `${ledgerMismatches} companies whose balance differs from their ledger` },
  ];
  return { ok: checks.every((c) => c.ok), checks };
}

let exitCode = 1;
try {
  await waitUntilReady();
  console.log(`Seeding ${serviceCount} services × ${numbersCount} numbers and 4 customers…`);
  const { customers, providerSecret, services } = await asOperator(seed);
  console.log(
    `Soaking ${baseUrl} (${scratch ? `PostgreSQL database ${databaseName}` : 'embedded PGlite'}${options.redis ? ' + Redis' : ''}, pid ${childPid}) ` +
      `for ${minutes} min: ${workerCount} API workers at ${buysPerSecond} buys/s, 1 website visitor; a sample every ${sampleSeconds} s`,
  );
  console.log('  time   RSS MiB   fds   tcp   db conns   requests/s');
  startedAt = Date.now();

  const samples: Sample[] = [];
  const sampleAndPrint = async () => {
    const sample = await takeSample();
    const previous = samples.at(-1);
    const rate = previous ? (sample.requests - previous.requests) / Math.max(1, sample.atSeconds - previous.atSeconds) : 0;
    samples.push(sample);
    console.log(
      `${String(sample.atSeconds).padStart(5)}s ${sample.rssMiB.toFixed(1).padStart(9)} ${String(sample.fds).padStart(5)} ${String(sample.tcpEstablished).padStart(5)}` +
        ` ${String(sample.databaseConnections ?? '-').padStart(10)} ${rate.toFixed(0).padStart(12)}`,
    );
  };

  const traffic = Promise.all([
    ...Array.from({ length: workerCount }, (_, i) => apiWorker(customers[i % customers.length], providerSecret, services)),
    websiteWorker(customers),
  ]);
  // A stopped worker must stop the run, not hang it.
  const trafficFailed = traffic.then(
    () => null,
    (error: unknown) => error,
  );

  const endAt = Date.now() + minutes * 60_000;
  await sampleAndPrint();
  while (Date.now() < endAt && !childExited) {
    const failure = await Promise.race([trafficFailed, sleep(Math.min(sampleSeconds * 1000, Math.max(0, endAt - Date.now())), 'tick' as const)]);
    if (failure !== 'tick' && failure !== null) throw failure;
    if (childExited) throw new Error(`the server exited during the run:\n${childLog}`);
    await sampleAndPrint();
  }
  running = false;
  await traffic;

  const readyAtEnd = await call('GET', '/readyz');
  const mismatches = await asOperator(async (operator) => ((await operator('ledger:verify', [])).mismatches as unknown[]).length);
  const verdict = verdictOf(samples, mismatches);
  console.log(`\n${tally.requests} requests; answers: ${[...tally.byOutcome].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} × ${v}`).join(', ')}`);
  console.log(`/readyz at the end: ${readyAtEnd.status}`);
  for (const check of verdict.checks) console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  console.log(verdict.ok ? '\nVerdict: flat.' : '\nVerdict: NOT flat (see FAIL above).');
  exitCode = verdict.ok ? 0 : 1;
} catch (error) {
  console.error(error);
} finally {
  await cleanUp();
}
process.exit(exitCode);
