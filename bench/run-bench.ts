import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { ensureServerBuilt, serverEntry } from '../scripts/build-server.ts';
import { adminPgUrl, createScratchDatabase } from '../test/support/test-target.ts';
import { createStock, maxExtraNumbers, type Stock } from './bench-fixture.ts';
import { createAnswerTally, type LoadRequest, type Measurement, measure, round, type Timing } from './load-runner.ts';
import { measureLongPolls } from './long-poll-scenario.ts';
import {
  chooseRedis,
  cleanups,
  installExitHandlers,
  killAllChildren,
  novaServerEnv,
  residentMb,
  root,
  scratchDataDir,
  type ServerProcess,
  startProcess,
  stopProcess,
} from './server-process.ts';

/**
 * `npm run bench [-- --quick] [-- --target=pglite|postgres] [-- --out=FILE]`: autocannon on
 * loopback against the Nova server as `npm start` runs it (the compiled dist/, built when stale,
 * NODE_ENV=production), next to a bare Fastify hello-world measured in the same run, as ratios.
 * The hello-world runs twice, first and again after every Nova target (same duration and
 * connections), and every ratio (req/s and p99) divides by the mean of the two: on a shared
 * 2-core VM its rate alone swings by 40% and more between runs minutes apart (64k to 90k, and
 * 37.7k to 73.2k under other load), far more than Nova's, so one measurement at one end would
 * move every ratio with it. A run that fails before the second one divides by the first alone
 * (and exits 1 when it was the hello-world that failed). The table's baseline row and the JSON's `baseline`
 * (`start`, `end`, and the mean as its `requestsPerSecond` and `p99Ms`) show both.
 * The machine's speed also moves within a run, so the hello-world runs again, briefly (5 s), right
 * before each rated scenario and after the last one of a target: "next to it" divides by the mean
 * of a scenario's two neighbours (JSON: `helloAround`, `ratios.nextToIt`), and the issue's targets
 * are judged by that. It moves within seconds too: the reads run in 4 parts of 2.5 s with a 2 s
 * hello-world run before, between and after them, and divide by the mean of those.
 * On the embedded PGlite database: poll, balance, prices, buy + cancel by one company. Then on PostgreSQL when reachable (with Redis when BENCH_REDIS_URL is set or a
 * local Redis answers): the same reads, buy + cancel by 1, 10 and 50 companies at once, and 1,000
 * long-polls answered by pushed SMS. Prints a table with the issue's targets next to the figures
 * and writes bench/results/latest.json (--quick: bench/results/quick.json).
 *
 * Exits 1 only when something is broken (a server that fails to start or dies, 5xx answers,
 * refused or wrong answers, lost connections), never because a figure misses its target.
 *
 * Environment: BENCH_DURATION_S (default 10, --quick 1.5) and BENCH_WARMUP_S (default 2, --quick
 * 0.5) per scenario, BENCH_CONNECTIONS (default 50), BENCH_BUY_COMPANIES (default "1,10,50"),
 * BENCH_LONG_POLLS (default 1000, --quick 100), BENCH_EXTRA_NUMBERS (default 10000, --quick 2000),
 * NOVA_TEST_PG_URL (PostgreSQL admin URL, as in the tests), BENCH_REDIS_URL (default: the local
 * Redis at redis://127.0.0.1:6379 when it answers; "none" for no Redis), BENCH_SERVER_NODE_FLAGS
 * (node flags for the Nova server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/nova-prof"),
 * BENCH_SERVER_OUTPUT_DIR (a folder that keeps everything each server printed, a file per process:
 * what flags such as --trace-gc write).
 */

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, target: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } },
});
if (flags.help) {
  console.log('usage: npm run bench -- [--quick] [--target=pglite|postgres] [--out=FILE]   (environment: see bench/run-bench.ts)');
  process.exit(0);
}
if (flags.target !== undefined && flags.target !== 'pglite' && flags.target !== 'postgres') {
  console.error(`--target must be pglite or postgres, not "${flags.target}"`);
  process.exit(2);
}
const quick = flags.quick;
const only = flags.target as 'pglite' | 'postgres' | undefined;
const timing: Timing = {
  durationSeconds: positiveNumber('BENCH_DURATION_S', quick ? 1.5 : 10),
  warmupSeconds: positiveNumber('BENCH_WARMUP_S', quick ? 0.5 : 2, true),
};
const connections = positiveNumber('BENCH_CONNECTIONS', 50);
const longPollCount = positiveNumber('BENCH_LONG_POLLS', quick ? 100 : 1000);
const extraNumberCount = positiveNumber('BENCH_EXTRA_NUMBERS', quick ? 2000 : 10_000);
const buyCompanies = (process.env.BENCH_BUY_COMPANIES || '1,10,50').split(',').map((text) => {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_BUY_COMPANIES="${process.env.BENCH_BUY_COMPANIES}" is not a list of company counts like 1,10,50`);
  return n;
});
if (extraNumberCount > maxExtraNumbers) throw new Error(`BENCH_EXTRA_NUMBERS can be at most ${maxExtraNumbers} (the fiction number ranges the bench uses)`);
// The long-poll activations hold one bench number each, next to the buy scenarios' leftovers.
if (extraNumberCount < longPollCount + connections * buyCompanies.length) {
  throw new Error(`BENCH_EXTRA_NUMBERS (${extraNumberCount}) must be at least the long-polls plus one per buying connection (${longPollCount + connections * buyCompanies.length})`);
}
// The reads run in this many parts, each between two hello-world runs (see createNeighbours); one in
// a quick run, whose 1.5 s would make parts too short to mean anything.
const interleavedParts = positiveNumber('BENCH_READ_PARTS', quick ? 1 : 4);
/** Extra node flags for the Nova server processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/nova-prof". */
const serverNodeFlags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const outFile = path.resolve(root, flags.out ?? path.join('bench', 'results', quick ? 'quick.json' : 'latest.json'));

function positiveNumber(name: string, fallback: number, zeroAllowed = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) throw new Error(`${name}="${text}" is not a positive number`);
  return value;
}

installExitHandlers();

// ---------------------------------------------------------------------------------------------
// The hello-world baseline

/**
 * The hello-world measured at both ends of the run. Its own figures are what every ratio divides
 * by: `requestsPerSecond`, `p99Ms`, `meanMs` and `loadAverage1m` are the mean of `start` and
 * `end` (`start` alone when the run failed before the end), counts are summed over both; each
 * run stays whole in `start` and `end` for reading them apart.
 */
interface Baseline extends Measurement {
  start: Measurement;
  end: Measurement | null;
  /** |end − start| ÷ mean, in percent: how much the machine itself moved during the run. */
  spreadPercent: number | null;
}

function isBaseline(m: Measurement): m is Baseline {
  return 'start' in m;
}

function combineBaselines(start: Measurement, end: Measurement | null): Baseline {
  // What the end run had to say, told apart from the start's.
  const combined = combineRuns(end ? [start, end] : [start], (i) => (i === 0 ? '' : 'at the end: '));
  return {
    ...start,
    ...combined,
    start,
    end,
    spreadPercent: end ? round((Math.abs(end.requestsPerSecond - start.requestsPerSecond) / Math.max(1, combined.requestsPerSecond)) * 100, 1) : null,
  };
}

/**
 * Several runs of one scenario as one measurement: rates, latencies, load average and CPU per
 * request are the mean of the runs (they run equally long), counts are summed, lines are kept
 * (each run's prefixed by `labelOf` its index).
 */
function combineRuns(runs: Measurement[], labelOf: (index: number) => string = () => ''): Measurement {
  const mean = (figure: (m: Measurement) => number, digits: number) => round(runs.reduce((sum, m) => sum + figure(m), 0) / runs.length, digits);
  const sum = (figure: (m: Measurement) => number) => runs.reduce((total, m) => total + figure(m), 0);
  const lines = (of: (m: Measurement) => string[]) => runs.flatMap((m, i) => of(m).map((line) => `${labelOf(i)}${line}`));
  const counts = (of: (m: Measurement) => Record<string, number> | undefined) => {
    const total: Record<string, number> = {};
    for (const m of runs) for (const [key, n] of Object.entries(of(m) ?? {})) total[key] = (total[key] ?? 0) + n;
    return total;
  };
  const first = runs[0];
  return {
    ...first,
    requestsPerSecond: mean((m) => m.requestsPerSecond, 0),
    p99Ms: mean((m) => m.p99Ms, 2),
    meanMs: mean((m) => m.meanMs, 2),
    requests: sum((m) => m.requests),
    non2xx: sum((m) => m.non2xx),
    statusCodes: counts((m) => m.statusCodes),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    durationSeconds: round(sum((m) => m.durationSeconds), 3),
    serverProblems: lines((m) => m.serverProblems),
    notes: lines((m) => m.notes),
    wrongAnswers: sum((m) => m.wrongAnswers),
    wrongSamples: lines((m) => m.wrongSamples),
    broken: lines((m) => m.broken),
    loadAverage1m: mean((m) => m.loadAverage1m ?? 0, 2),
    ...(runs.some((m) => m.errorCodes) ? { errorCodes: counts((m) => m.errorCodes) } : {}),
    ...(runs.every((m) => m.cpuMsPer)
      ? {
          cpuMsPer: {
            unit: first.cpuMsPer!.unit,
            server: mean((m) => m.cpuMsPer!.server, 4),
            postgres: mean((m) => m.cpuMsPer!.postgres, 4),
            redis: mean((m) => m.cpuMsPer!.redis, 4),
            loadGenerator: mean((m) => m.cpuMsPer!.loadGenerator, 4),
          },
        }
      : {}),
  };
}

/** The hello-world server, started once and kept for the whole run (the baselines at both ends and every neighbouring run). */
function startHelloServer(): Promise<ServerProcess> {
  return startProcess(['--import', 'tsx', 'bench/hello-server.ts'], { NODE_ENV: 'production' }, /listening at (http:\/\/\S+)/, 'hello-world server');
}

function measureBaseline(server: ServerProcess, scenario = 'hello-world GET /', how: Timing = timing): Promise<Measurement> {
  const tally = createAnswerTally();
  const check = (json: unknown) => ((json as { hello?: string }).hello === 'world' ? null : 'not {"hello":"world"}');
  return measure(scenario, 'fastify', server, how, (duration) => ({
    url: server.url,
    connections,
    duration,
    requests: [{ method: 'GET', path: '/', onResponse: (status, body) => tally.record('hello', status, body, check) }],
  }), { tally });
}

/**
 * The hello-world measured right next to each rated scenario: a short run before it, and the one
 * before the next scenario (or the last one) after it. This machine's speed moves within seconds
 * (the hello-world alone went from 19k to 40k req/s within one run), so the two ends of a
 * minutes-long run can both miss what it was while a scenario ran; `ratios.nextToIt` divides by the
 * mean of its two neighbours.
 */
function createNeighbours(server: ServerProcess) {
  const sliceTiming: Timing = { warmupSeconds: Math.min(1, timing.warmupSeconds), durationSeconds: Math.min(5, timing.durationSeconds) };
  // Between the parts of an interleaved scenario: shorter, so that the parts stay close together.
  const betweenTiming: Timing = { warmupSeconds: Math.min(0.5, timing.warmupSeconds), durationSeconds: Math.min(2, timing.durationSeconds) };
  const awaitingAfter: Measurement[] = [];
  const slice = async (how = sliceTiming): Promise<number | null> => {
    let rate: number | null = null;
    try {
      const m = await measureBaseline(server, 'hello-world GET / (next to the scenarios)', how);
      rate = m.broken.length === 0 ? m.requestsPerSecond : null;
    } catch (error) {
      console.error(`\n  hello-world next to the scenarios: FAILED (those ratios use what is left): ${(error as Error).message}`);
    }
    for (const m of awaitingAfter.splice(0)) m.helloAround!.after = rate;
    return rate;
  };
  return {
    /** Runs a rated scenario with a hello-world run right before it (and, later, one after it). */
    async rated(run: () => Promise<Measurement>): Promise<Measurement> {
      const before = await slice();
      const m = await run();
      m.helloAround = { before, after: null };
      awaitingAfter.push(m);
      return m;
    },
    /**
     * Runs a rated scenario in `interleavedParts` parts of equal length (the first one warmed up),
     * a short hello-world run before each and after the last: the machine's fast and slow stretches
     * (seconds long) then fall on both alike. One measurement of the parts together; "next to it"
     * divides by the mean of all its hello-world runs (JSON: `helloAround.runs`).
     */
    async interleaved(runPart: (how: Timing) => Promise<Measurement>): Promise<Measurement> {
      const hello = [await slice(betweenTiming)];
      const parts: Measurement[] = [];
      const partSeconds = timing.durationSeconds / interleavedParts;
      for (let part = 0; part < interleavedParts; part++) {
        const warmupSeconds = part === 0 ? timing.warmupSeconds : Math.min(0.5, timing.warmupSeconds);
        parts.push(await runPart({ warmupSeconds, durationSeconds: partSeconds }));
        hello.push(await slice(betweenTiming));
      }
      const m = combineRuns(parts, (i) => (interleavedParts > 1 ? `part ${i + 1}: ` : ''));
      m.helloAround = { before: hello[0], after: hello.at(-1) ?? null, runs: hello };
      return m;
    },
    /** The hello-world run after the last rated scenario. */
    async finish(): Promise<void> {
      if (awaitingAfter.length > 0) await slice();
    },
  };
}

type Neighbours = ReturnType<typeof createNeighbours>;

// ---------------------------------------------------------------------------------------------
// Nova

interface NovaTarget {
  name: string;
  kind: 'pglite' | 'postgres';
  env: Record<string, string>;
  cleanup?: () => Promise<void>;
}

interface Seeded {
  demoLogin: { apiKey: string; companyId: number };
  providerSecret: string;
  buyers: { companyId: number; apiKey: string }[];
}

const execFileAsync = promisify(execFile);

/** bench/seed-bench.ts on the target's database before its server starts (see there). */
async function seed(env: Record<string, string>, companies: number): Promise<Seeded> {
  // Nothing listens yet, and a Redis shared with other runs should not hear the bench's setup.
  const seedEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete seedEnv.REDIS_URL;
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', 'bench/seed-bench.ts', '--companies', String(companies), '--numbers', String(extraNumberCount)],
    { cwd: root, env: seedEnv, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_SEED '));
  if (!line) throw new Error(`bench/seed-bench.ts printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('BENCH_SEED '.length)) as Seeded;
}

async function api(url: string, apiKey: string, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

type Data<T> = { data: T };

/** A scenario of one GET, over and over, with the first and every 16th answer checked by `check`. */
function readScenario(
  scenario: string,
  target: NovaTarget,
  server: ServerProcess,
  apiKey: string,
  requestPath: string,
  check: (json: unknown) => string | null,
  how: Timing,
): Promise<Measurement> {
  const tally = createAnswerTally();
  return measure(scenario, target.name, server, how, (duration) => ({
    url: server.url,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        path: requestPath,
        headers: { authorization: `Bearer ${apiKey}` },
        onResponse: (status, body) => tally.record('read', status, body, check),
      },
    ],
  }), { tally });
}

/**
 * Buy + cancel: each connection buys a number and cancels it at once (the refund returns the
 * money), with the key of one of `keys` (connection i uses company i mod the count).
 */
async function buyScenario(target: NovaTarget, server: ServerProcess, keys: string[], stock: Stock): Promise<Measurement> {
  let lastStep = '';
  let soldOut = false;
  let stoppedEarly = false;
  // Sold out (only if the early stop below came too late): the buy answers 409 and counts as non-2xx, not as broken.
  const tally = createAnswerTally((key) => soldOut && key === 'buy 409 out_of_stock');
  const checkCancel = (json: unknown) => {
    const status = (json as Data<{ activation: { status: string } }>).data?.activation?.status;
    return status === 'cancelled' ? null : `cancel answered status ${status}`;
  };
  const requestsOf = (key: string): LoadRequest[] => {
    const auth = { authorization: `Bearer ${key}` };
    return [
      {
        method: 'POST',
        path: '/api/v1/activations',
        setupRequest: (request) => {
          const pair = stock.next();
          if (!pair) soldOut = true;
          const { serviceCode, countryId } = pair ?? { serviceCode: 'tg', countryId: 6 };
          return { ...request, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ service_code: serviceCode, country_id: countryId }) };
        },
        onResponse: (status, body, context) => {
          lastStep = 'buy';
          tally.record('buy', status, body);
          if (status === 201) context.id = (JSON.parse(body) as Data<{ activation: { id: number } }>).data.activation.id;
        },
      },
      {
        method: 'POST',
        // No id (the buy failed): start the sequence over with a new buy.
        setupRequest: (request, context) => (context.id === undefined ? null : { ...request, path: `/api/v1/activations/${context.id}/cancel`, headers: auth }),
        onResponse: (status, body) => {
          lastStep = 'cancel';
          tally.record('cancel', status, body, checkCancel);
        },
      },
    ];
  };
  let nextClient = 0;
  const companies = Math.min(keys.length, connections);
  const label = `buy POST /activations + cancel, ${companies} ${companies === 1 ? 'company' : 'companies'}`;
  const measurement = await measure(
    label,
    target.name,
    server,
    timing,
    (duration) => ({
      url: server.url,
      connections,
      duration,
      // autocannon clones the options per connection: each gets its company's key here.
      setupClient: (client) => client.setRequests(requestsOf(keys[nextClient++ % companies])),
    }),
    {
      tally,
      kindOf: () => lastStep,
      // autocannon stops only at its next sample, and near the end a pair's last numbers can all be
      // busy with other services' open buys: stop while ~2 s of buys plus one connection's worth
      // per pair are left.
      whileRunning: (run) => {
        let issuedAtLastCheck = stock.issued;
        const timer = setInterval(() => {
          const perSecond = (stock.issued - issuedAtLastCheck) * 4;
          issuedAtLastCheck = stock.issued;
          if (stock.left < perSecond * 2 + stock.pairCount * connections) {
            stoppedEarly = true;
            run.stop();
          }
        }, 250);
        return () => clearInterval(timer);
      },
    },
  );
  const pairs = measurement.steps?.cancel?.count ?? 0;
  measurement.pairsPerSecond = round(pairs / Math.max(0.001, measurement.durationSeconds), 0);
  measurement.companies = companies;
  if (pairs === 0) {
    // On a busy machine a short run may end before any pair does: whether buying works at all is
    // then asked once more, alone.
    const problem = await buyAndCancelOnce(server.url, keys[0], stock);
    if (problem) measurement.broken.push(`not one buy + cancel pair completed, and alone: ${problem}`);
    else measurement.notes.push('not one buy + cancel pair completed within the run (a busy machine?); one alone afterwards did');
  }
  if (stoppedEarly) measurement.notes.push(`stopped early after ${measurement.durationSeconds} s: stock nearly sold out (raise BENCH_EXTRA_NUMBERS)`);
  if (soldOut) measurement.notes.push('stock ran out: some buys answered 409 out_of_stock');
  return measurement;
}

/** One buy and its cancel, checked; what went wrong, or null. */
async function buyAndCancelOnce(serverUrl: string, apiKey: string, stock: Stock): Promise<string | null> {
  const pair = stock.next();
  if (!pair) return 'no stock left';
  const bought = await api(`${serverUrl}/api/v1/activations`, apiKey, 'POST', { service_code: pair.serviceCode, country_id: pair.countryId });
  if (bought.status !== 201) return `buy answered ${bought.status} ${JSON.stringify(bought.json).slice(0, 300)}`;
  const id = (bought.json as Data<{ activation: { id: number } }>).data.activation.id;
  const cancelled = await api(`${serverUrl}/api/v1/activations/${id}/cancel`, apiKey, 'POST');
  const status = (cancelled.json as Data<{ activation?: { status?: string } }>).data?.activation?.status;
  return cancelled.status === 200 && status === 'cancelled' ? null : `cancel answered ${cancelled.status} ${JSON.stringify(cancelled.json).slice(0, 300)}`;
}

async function runNovaTarget(target: NovaTarget, neighbours: Neighbours): Promise<Measurement[]> {
  const { dataDir, cleanup } = scratchDataDir(target.cleanup);
  let server: ServerProcess | undefined;
  try {
    const env = novaServerEnv(dataDir, target.env);
    const postgres = target.kind === 'postgres';
    process.stdout.write(`  ${target.name}: seeding ${extraNumberCount} extra numbers and ${postgres ? Math.max(...buyCompanies) : 1} buyer companies ... `);
    const seedStarted = performance.now();
    const seeded = await seed(env, postgres ? Math.max(...buyCompanies) : 1);
    process.stdout.write(`done in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; starting the server ... `);
    const startStarted = performance.now();
    // What `npm start` runs: the compiled server (built when stale, in main()), not tsx, whose loader alone adds ~75 MB of RSS.
    const startServer = () => startProcess([...serverNodeFlags, '--enable-source-maps', serverEntry], env, /is running at (http:\/\/\S+)/, `Nova server (${target.name})`);
    server = await startServer();
    const rssAfterStart = residentMb(server.child.pid);
    console.log(`up in ${((performance.now() - startStarted) / 1000).toFixed(1)} s, RSS ${rssAfterStart} MB`);
    const base = `${server.url}/api/v1`;
    const apiKey = seeded.demoLogin.apiKey;
    const stock = createStock(extraNumberCount);
    const results: Measurement[] = [];

    // Poll: one activation, read over and over as a client waiting for its code would.
    const first = stock.next()!;
    const bought = await api(`${base}/activations`, apiKey, 'POST', { service_code: first.serviceCode, country_id: first.countryId });
    if (bought.status !== 201) throw new Error(`Buying the poll activation failed: ${bought.status} ${JSON.stringify(bought.json)}`);
    const activationId = (bought.json as Data<{ activation: { id: number } }>).data.activation.id;
    results.push(
      await neighbours.interleaved((how) =>
        readScenario('poll GET /activations/{id}', target, server!, apiKey, `/api/v1/activations/${activationId}`, (json) => {
          const activation = (json as Data<{ activation: { id: number; status: string } }>).data?.activation;
          return activation?.id === activationId && activation.status === 'waiting' ? null : `not waiting activation ${activationId}`;
        }, how),
      ),
    );
    // A waiting activation keeps its number busy for every service: free it for the buy scenarios.
    const cancelled = await api(`${base}/activations/${activationId}/cancel`, apiKey, 'POST');
    if (cancelled.status !== 200) throw new Error(`Cancelling the poll activation failed: ${cancelled.status} ${JSON.stringify(cancelled.json)}`);

    // Nothing changes the balance while it is read: every answer must be this one.
    const balance = (await api(`${base}/balance`, apiKey, 'GET')).json as Data<{ balance: number }>;
    results.push(
      await neighbours.interleaved((how) =>
        readScenario('GET /balance', target, server!, apiKey, '/api/v1/balance', (json) => {
          const data = (json as Data<{ balance: number; currency: string }>).data;
          return data?.balance === balance.data.balance && data.currency === 'USD' ? null : `balance is not ${balance.data.balance} USD`;
        }, how),
      ),
    );
    results.push(
      await neighbours.interleaved((how) =>
        readScenario('GET /prices?service=tg&country=6', target, server!, apiKey, '/api/v1/prices?service=tg&country=6', (json) => {
          const data = (json as Data<{ service: string; country: number; price: number; available: number }>).data;
          return data?.service === 'tg' && data.country === 6 && data.price === 0.5 && data.available > 0 ? null : 'not tg in country 6 at 0.50 USD, in stock';
        }, how),
      ),
    );

    const buyerKeys = seeded.buyers.map((buyer) => buyer.apiKey);
    for (const companies of postgres ? buyCompanies : [1]) {
      results.push(await neighbours.rated(() => buyScenario(target, server!, buyerKeys.slice(0, companies), stock)));
    }
    await neighbours.finish();
    if (postgres) {
      // The long-polls measure memory, so they get a server of their own on the same database: the
      // buy scenarios leave V8's heap grown (it shrinks only once its memory reducer runs, seconds
      // after the load), and what 1,000 waiting requests cost would otherwise depend on how long
      // ago the last buy was (169.8 to 255.7 MB waiting in whole runs minutes apart, one server).
      const rssAfterBuys = residentMb(server.child.pid);
      await stopProcess(server);
      server = undefined;
      server = await startServer();
      const longPolls = await measureLongPolls({
        target: target.name,
        server,
        apiKey: buyerKeys[0],
        providerSecret: seeded.providerSecret,
        count: longPollCount,
        rssAfterStart: residentMb(server.child.pid),
      });
      longPolls.notes.push(`on a server started for the long-polls; the one that ran the scenarios before held ${rssAfterBuys} MB after the buys`);
      results.push(longPolls);
    }

    return results;
  } finally {
    if (server) await stopProcess(server);
    await cleanup();
  }
}

/** Ratios to the hello-world (the mean of both ends: known only once every target ran), and the issue's targets. */
function rateAgainst(baseline: Baseline, kind: NovaTarget['kind'], results: Measurement[]): void {
  for (const result of results) {
    // The long-poll row has no throughput to set against a hello-world.
    if (!result.longPoll) {
      const requestsPerSecond = round(result.requestsPerSecond / baseline.requestsPerSecond, 4);
      const pairsPerSecond = result.pairsPerSecond === undefined ? undefined : round(result.pairsPerSecond / baseline.requestsPerSecond, 5);
      const around = result.helloAround;
      const neighbours = (around?.runs ?? [around?.before, around?.after]).filter((rate): rate is number => typeof rate === 'number' && rate > 0);
      const nextToIt = neighbours.length > 0 ? round((result.pairsPerSecond ?? result.requestsPerSecond) / (neighbours.reduce((a, b) => a + b, 0) / neighbours.length), 5) : undefined;
      result.ratios = {
        requestsPerSecond,
        p99: round(result.p99Ms / baseline.p99Ms, 2),
        ...(pairsPerSecond === undefined ? {} : { pairsPerSecond }),
        headline: pairsPerSecond ?? requestsPerSecond,
        ...(nextToIt === undefined ? {} : { nextToIt }),
      };
    }
    result.goal = goalOf(kind, result);
  }
}

/** The issue's targets (issue 10), to print next to the figures. */
function goalOf(kind: NovaTarget['kind'], m: Measurement): Measurement['goal'] {
  // Judged against the hello-world measured next to the scenario when it was (see createNeighbours).
  const ratio = m.ratios?.nextToIt ?? m.ratios?.headline ?? 0;
  const atLeast = (min: number) => ({ text: `ratio ≥ ${min}`, met: ratio >= min });
  if (m.longPoll) {
    const { max } = m.longPoll.smsToAnswerMs;
    const rss = Math.max(m.longPoll.rssMb.waiting ?? Infinity, m.longPoll.rssMb.peak ?? Infinity);
    return { text: 'each ≤ 50 ms after its SMS, RSS ≤ 200 MB', met: max <= 50 && rss <= 200 };
  }
  if (m.scenario.startsWith('poll')) return atLeast(kind === 'postgres' ? 0.5 : 0.4);
  if (kind !== 'postgres') return undefined;
  if (m.scenario.startsWith('GET /balance') || m.scenario.startsWith('GET /prices')) return atLeast(0.5);
  if (m.companies === 1) return atLeast(0.005);
  if (m.companies === 10) return atLeast(0.01);
  return undefined;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminPgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function ratioText(ratio: number): string {
  return ratio >= 0.1 ? ratio.toFixed(3) : ratio.toPrecision(2);
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** The baseline row's rate and p99: both ends and the mean the ratios divide by. */
function baselineCells(b: Baseline): { rate: string; p99: string } {
  if (!b.end) return { rate: `start ${thousands(b.start.requestsPerSecond)} (no end run) req/s`, p99: b.p99Ms.toFixed(2) };
  return {
    rate: `start ${thousands(b.start.requestsPerSecond)} / end ${thousands(b.end.requestsPerSecond)} → mean ${thousands(b.requestsPerSecond)} req/s`,
    p99: `${b.start.p99Ms.toFixed(2)} / ${b.end.p99Ms.toFixed(2)} → ${b.p99Ms.toFixed(2)}`,
  };
}

function printTable(measurements: Measurement[]): void {
  const rows = [
    ['target', 'scenario', 'rate', 'ratio', 'next to it', 'p99 ms', 'non-2xx', 'issue target'],
    ...measurements.map((m) => {
      let rate = `${m.requestsPerSecond} req/s`;
      let p99 = m.p99Ms.toFixed(2);
      let ratio = m.ratios ? ratioText(m.ratios.headline) : '1 (baseline)';
      let nextToIt = m.ratios?.nextToIt === undefined ? '' : ratioText(m.ratios.nextToIt);
      if (isBaseline(m)) ({ rate, p99 } = baselineCells(m));
      if (m.pairsPerSecond !== undefined) {
        rate = `${m.pairsPerSecond} pairs/s`;
        p99 = `buy ${m.steps?.buy?.p99Ms.toFixed(1) ?? '-'}, cancel ${m.steps?.cancel?.p99Ms.toFixed(1) ?? '-'}`;
      }
      if (m.longPoll) {
        const { rssMb, smsToAnswerMs } = m.longPoll;
        rate = `RSS ${rssMb.waiting ?? '?'} MB`;
        ratio = '-';
        nextToIt = '-';
        p99 = `${smsToAnswerMs.p99.toFixed(1)} (max ${smsToAnswerMs.max.toFixed(1)}, median ${smsToAnswerMs.median.toFixed(1)})`;
      }
      const goal = m.goal ? `${m.goal.text}: ${m.goal.met ? 'met' : 'NOT met'}` : '';
      return [m.target, m.scenario, rate, ratio, nextToIt, p99, String(m.non2xx), goal];
    }),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (row: string[]) => row.map((cell, column) => (right.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  console.log(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(
    '  ratio: req/s ÷ hello-world req/s (the mean of its runs at the start and the end); buy rows: buy+cancel pairs/s ÷ hello-world req/s (the JSON keeps req/s ÷ hello too). ' +
      'next to it: the same ÷ the mean of the short hello-world runs right before and right after the scenario (the reads: before, between and after its parts), what the issue target is judged by. ' +
      'Long-poll: p99 of the time from an SMS push\'s answer to its long-poll\'s answer; RSS of the server while all of them wait.',
  );
  for (const m of measurements) {
    const details: string[] = [];
    if (isBaseline(m)) {
      const { start, end } = m;
      details.push(
        end
          ? `measured first and again after every Nova target: ${thousands(start.requestsPerSecond)} then ${thousands(end.requestsPerSecond)} req/s ` +
              `(${m.spreadPercent}% apart; load average ${start.loadAverage1m ?? '?'} then ${end.loadAverage1m ?? '?'}), every ratio divides by the mean`
          : 'measured only at the start (the run did not reach the end one): every ratio divides by that',
      );
    }
    if (m.helloAround) {
      const rate = (r: number | null) => (r === null ? 'failed' : `${thousands(r)} req/s`);
      const { before, after, runs } = m.helloAround;
      if (runs && runs.length > 2) details.push(`hello-world before, between and after its ${runs.length - 1} parts: ${runs.map((r) => (r === null ? 'failed' : thousands(r))).join(', ')} req/s`);
      else details.push(`hello-world right before ${rate(before)}, right after ${rate(after)}`);
    }
    if (m.steps) details.push(Object.entries(m.steps).map(([step, s]) => `${step} p99 ${s.p99Ms.toFixed(2)} ms (mean ${s.meanMs.toFixed(2)})`).join(', '));
    if (m.cpuMsPer) details.push(cpuText(m, measurements.find(isBaseline)));
    if (m.pairsPerSecond !== undefined && m.ratios) {
      details.push(`${m.requestsPerSecond} req/s, ratio ${ratioText(m.ratios.requestsPerSecond)} counted by requests (how the README's figures before issue 10 counted)`);
    }
    if (m.longPoll) {
      const { rssMb, answeredBeforePush, openSeconds, pushSeconds } = m.longPoll;
      details.push(`server RSS ${rssMb.afterStart} MB after start, ${rssMb.before} MB before the long-polls, ${rssMb.waiting} MB while all wait, ${rssMb.peak} MB peak while the SMS came`);
      details.push(`opened in ${openSeconds} s, ${m.longPoll.count} SMS pushed in ${pushSeconds} s`);
      if (answeredBeforePush > 0) details.push(`${answeredBeforePush} answered before their push's own answer (counted as 0 ms)`);
    }
    const codes = Object.entries(m.statusCodes).filter(([code]) => !code.startsWith('2'));
    if (codes.length > 0) details.push(`status codes: ${codes.map(([code, n]) => `${code}×${n}`).join(', ')}`);
    const errorCodes = Object.entries(m.errorCodes ?? {});
    if (errorCodes.length > 0) {
      details.push(`errors: ${errorCodes.map(([what, n]) => `${what} ×${n} (e.g. "${m.errorSamples?.[what]?.[0] ?? ''}")`).join(', ')}`);
    }
    if (m.errors > 0 || m.timeouts > 0) details.push(`${m.errors} connection errors, ${m.timeouts} timeouts`);
    if (m.serverProblems.length > 0) details.push(`server logged ${m.serverProblems.length} warn/error lines, first: ${m.serverProblems[0].slice(0, 400)}`);
    details.push(...m.notes);
    if (m.broken.length > 0) details.push(`BROKEN: ${m.broken.join('; ')}`);
    if (details.length > 0) console.log(`  ${m.target} / ${m.scenario}: ${details.join('; ')}`);
  }
  const byTarget = new Map<string, Measurement[]>();
  for (const m of measurements) if (m.pairsPerSecond !== undefined) byTarget.set(m.target, [...(byTarget.get(m.target) ?? []), m]);
  for (const [target, buys] of byTarget) {
    if (buys.length < 2) continue;
    const steps = buys.map((m) => `${m.companies} → ${m.pairsPerSecond} pairs/s`).join(', ');
    const [fewest, most] = [buys[0], buys.at(-1)!];
    const growth = fewest.pairsPerSecond! > 0 ? ` (×${(most.pairsPerSecond! / fewest.pairsPerSecond!).toFixed(2)} from ${fewest.companies} to ${most.companies})` : '';
    console.log(`  ${target}: buy + cancel by companies buying at once: ${steps}${growth}`);
  }
}

/**
 * CPU per request (per pair in the buy rows): the server's, the database's, Redis's and the load
 * generator's, and the hello-world server's CPU per request divided by the server's (what the
 * rates' ratio says, counted in CPU instead of time).
 */
function cpuText(m: Measurement, baseline: Measurement | undefined): string {
  const cpu = m.cpuMsPer!;
  const parts = [`server ${cpu.server} ms`];
  if (cpu.postgres > 0) parts.push(`PostgreSQL ${cpu.postgres} ms`);
  if (cpu.redis > 0) parts.push(`Redis ${cpu.redis} ms`);
  parts.push(`load generator ${cpu.loadGenerator} ms`);
  const hello = baseline && baseline !== m ? baseline.cpuMsPer?.server : undefined;
  const against = hello && cpu.server > 0 && cpu.unit !== 'SMS' ? `; hello-world server CPU per request ÷ this: ${round(hello / cpu.server, 4)}` : '';
  const what = cpu.unit === 'SMS' ? 'SMS (its push and its long-poll\'s answer)' : cpu.unit;
  return `CPU per ${what}: ${parts.join(', ')}${against}`;
}

async function main(): Promise<number> {
  console.log(
    `Nova SMS benchmark${quick ? ' (--quick)' : ''}: ${connections} connections, ${timing.warmupSeconds} s warm-up + ${timing.durationSeconds} s per scenario, loopback, ` +
      `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'})`,
  );
  const loadBefore = os.loadavg();
  warnIfBusy(loadBefore);
  const measurements: Measurement[] = [];
  const skipped: { target: string; reason: string }[] = [];
  const failed: { target: string; error: string }[] = [];
  try {
    await ensureServerBuilt();
  } catch (error) {
    console.error(`\n  building the server (dist/): FAILED: ${(error as Error).message}`);
    return 1;
  }
  let hello: ServerProcess;
  let baselineAtStart: Measurement;
  try {
    hello = await startHelloServer();
    baselineAtStart = await measureBaseline(hello);
  } catch (error) {
    console.error(`\n  hello-world: FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
  const neighbours = createNeighbours(hello);
  // Rated only once the hello-world has run again at the end.
  const novaRuns: { kind: NovaTarget['kind']; results: Measurement[] }[] = [];

  // One target failing (a server that dies, a database that refuses) still reports the others.
  const runTarget = async (name: string, makeTarget: () => Promise<NovaTarget>) => {
    try {
      const target = await makeTarget();
      novaRuns.push({ kind: target.kind, results: await runNovaTarget(target, neighbours) });
    } catch (error) {
      console.error(`\n  ${name}: FAILED: ${(error as Error).stack ?? String(error)}`);
      failed.push({ target: name, error: (error as Error).message });
    }
  };

  if (only !== 'postgres') await runTarget('pglite', async () => ({ name: 'pglite', kind: 'pglite', env: {} }));

  if (only === 'pglite') {
    // Asked for PGlite only.
  } else if (await postgresReachable()) {
    const redisUrl = await chooseRedis();
    const name = redisUrl ? 'postgres+redis' : 'postgres';
    await runTarget(name, async () => {
      const database = await createScratchDatabase();
      const env: Record<string, string> = { DATABASE_URL: database.url };
      if (redisUrl) env.REDIS_URL = redisUrl;
      return { name, kind: 'postgres', env, cleanup: () => database.drop() };
    });
  } else {
    const reason = `PostgreSQL not reachable at ${adminPgUrl}`;
    skipped.push({ target: 'postgres', reason });
    console.log(`  postgres: skipped (${reason})`);
    // Asked for it by name (the PostgreSQL smoke test): not being able to run it is a failure.
    if (only === 'postgres') failed.push({ target: 'postgres', error: reason });
  }

  // The same hello-world again, so the ratios rest on the machine's speed across the whole run.
  let baselineAtEnd: Measurement | null = null;
  console.log('  hello-world again, after every Nova target (the ratios divide by the mean of both):');
  try {
    await neighbours.finish();
    baselineAtEnd = await measureBaseline(hello);
  } catch (error) {
    // Still a failed run (as at the start), but the Nova figures stand: their ratios use the start alone.
    console.error(`\n  hello-world at the end: FAILED, the ratios use the start alone: ${(error as Error).stack ?? String(error)}`);
    failed.push({ target: 'hello-world at the end', error: (error as Error).message });
  } finally {
    await stopProcess(hello);
  }
  const baseline = combineBaselines(baselineAtStart, baselineAtEnd);
  measurements.push(baseline);
  for (const { kind, results } of novaRuns) {
    rateAgainst(baseline, kind, results);
    measurements.push(...results);
  }
  const loadAfter = os.loadavg();

  printTable(measurements);
  for (const s of skipped) console.log(`  ${s.target}: skipped (${s.reason})`);
  for (const f of failed) console.log(`  ${f.target}: FAILED (${f.error.split('\n')[0]})`);
  // The run's own load raises the figure after it, so only the one before says whether others competed.
  console.log(`  load average (1 min) before ${loadBefore[0].toFixed(2)} (after, with this run's own load: ${loadAfter[0].toFixed(2)}) on ${os.cpus().length} CPUs`);
  warnIfBusy(loadBefore);

  const broken = measurements.filter((m) => m.broken.length > 0);
  const report = {
    date: new Date().toISOString(),
    quick,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? null,
    connections,
    warmupSeconds: timing.warmupSeconds,
    durationSeconds: timing.durationSeconds,
    buyCompanies,
    longPolls: longPollCount,
    extraNumbers: extraNumberCount,
    baseline,
    nova: measurements.slice(1),
    loadAverage1m: { before: round(loadBefore[0], 2), after: round(loadAfter[0], 2) },
    skipped,
    failed,
    broken: broken.map((m) => ({ target: m.target, scenario: m.scenario, why: m.broken })),
  };
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWritten to ${path.relative(root, outFile) || outFile}`);
  if (broken.length > 0) console.log(`BROKEN: ${broken.map((m) => `${m.target} / ${m.scenario}`).join(', ')} (see above)`);
  return failed.length > 0 || broken.length > 0 ? 1 : 0;
}

/** Figures taken while other work keeps the CPUs busy say little: say so next to them. */
function warnIfBusy(load: number[]): void {
  if (load[0] > os.cpus().length * 0.5) {
    console.log(`  note: load average ${load[0].toFixed(2)} on ${os.cpus().length} CPUs: other processes compete for the CPUs, figures will be low and noisy`);
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  killAllChildren();
  // Everything is measured, printed and written: a socket or timer some library keeps open must
  // not hold the run for another minute (it did, ~75 s, in the smoke test). Unref'd: a run that
  // ends on its own ends at once; the second lets stdout reach a pipe first.
  setTimeout(() => process.exit(), 1000).unref();
}
