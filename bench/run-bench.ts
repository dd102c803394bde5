import { type ChildProcess, execFile, spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { demoCountries, demoServices } from '../src/modules/catalog/demo-catalog.ts';
import { demoNumbers } from '../src/modules/supply/demo-provider.ts';
import { adminPgUrl, createScratchDatabase } from '../test/support/test-target.ts';

/**
 * `npm run bench`: autocannon on loopback against the Nova server in production mode (poll:
 * GET /activations/{id}; buy: POST /activations then cancel), next to a bare Fastify hello-world
 * measured in the same run, as ratios. Runs on the embedded PGlite database, then on PostgreSQL
 * when reachable. Prints a table and writes bench/results/latest.json.
 *
 * Environment: BENCH_DURATION_S (default 10) and BENCH_WARMUP_S (default 2) per scenario,
 * BENCH_CONNECTIONS (default 10), NOVA_TEST_PG_URL (PostgreSQL admin URL, as in the tests),
 * BENCH_REDIS_URL (optional: the PostgreSQL run also keeps its rate limits in this Redis).
 */

// autocannon ships no type declarations: this is the part of its API the benchmark uses.
interface LoadRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: LoadRequest, context: Record<string, unknown>) => LoadRequest | null;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  requests?: LoadRequest[];
}
interface LoadResult {
  requests: { average: number; total: number; sent: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface LoadRun extends EventEmitter, PromiseLike<LoadResult> {
  stop(): void;
}
// A CommonJS package without types: require() answers `any`, narrowed here to the interface above.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: LoadOptions) => LoadRun;

const root = path.resolve(import.meta.dirname, '..');
const durationSeconds = positiveNumber('BENCH_DURATION_S', 10);
const warmupSeconds = positiveNumber('BENCH_WARMUP_S', 2, true);
const connections = positiveNumber('BENCH_CONNECTIONS', 10);
const redisUrl = process.env.BENCH_REDIS_URL;

function positiveNumber(name: string, fallback: number, zeroAllowed = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) throw new Error(`${name}="${text}" is not a positive number`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Child processes: every server runs in its own process, so load generator and server never
// share an event loop. All of them are killed at the end, on errors and on Ctrl-C.

const children = new Set<ChildProcess>();

interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** warn/error/fatal log lines the server printed so far (pino JSON, level >= 40). */
  problems: string[];
  /** Everything it printed, for the error message when it dies. */
  output: string[];
  stopping: boolean;
}

function startProcess(args: string[], env: Record<string, string>, urlPattern: RegExp, label: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const server: ServerProcess = { url: '', child, problems: [], output: [], stopping: false };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${label} did not start within 60 s`)), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\n--- ${label} output ---\n${server.output.slice(-40).join('\n')}`));
    };
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      server.output.push(line);
      if (server.output.length > 2000) server.output.splice(0, 1000);
      if (line.startsWith('{')) {
        try {
          if ((JSON.parse(line) as { level?: number }).level! >= 40) server.problems.push(line);
        } catch {
          // Not a log line: nothing to count.
        }
      }
      const match = !server.url && urlPattern.exec(line);
      if (match) {
        server.url = match[1];
        clearTimeout(timer);
        resolve(server);
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        lines.forEach(onLine);
      });
    }
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!server.url) fail(new Error(`${label} exited (${signal ?? `code ${code}`}) before it was ready`));
      else if (!server.stopping) server.problems.push(`${label} exited (${signal ?? `code ${code}`}) during the run: ${server.output.slice(-5).join(' | ')}`);
    });
  });
}

async function stopProcess(server: ServerProcess): Promise<void> {
  const { child } = server;
  server.stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** Temp folders and scratch databases to remove even when the run is interrupted. */
const cleanups = new Set<() => Promise<void>>();

function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the servers and cleaning up`);
    killAllChildren();
    // The servers are gone, so their databases can be dropped; give up after 10 s.
    const timeout = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    void Promise.race([Promise.allSettled([...cleanups].map((cleanup) => cleanup())), timeout]).then(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Measurement {
  scenario: string;
  target: string;
  requestsPerSecond: number;
  /** p99 over every response (any status), from autocannon's per-response timings, in ms. */
  p99Ms: number;
  meanMs: number;
  requests: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** Warn/error lines the server logged during the measurement (not the warm-up). */
  serverProblems: string[];
  notes: string[];
  /** 1-minute load average right after the measurement, for judging how busy the machine was. */
  loadAverage1m?: number;
  /** Non-2xx answers by "step status error-code" (Nova scenarios). */
  errorCodes?: Record<string, number>;
  errorSamples?: Record<string, string[]>;
  /** Buy scenario only: latency of each step and completed buy+cancel pairs per second. */
  steps?: Record<string, { p99Ms: number; meanMs: number; count: number }>;
  pairsPerSecond?: number;
  ratios?: { requestsPerSecond: number; p99: number };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function latencyStats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length);
  return { p99Ms: round(percentile(sorted, 0.99), 2), meanMs: round(mean, 2), count: samples.length };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * One autocannon run. `kindOf()` names the step of the last response (read right after the
 * request's onResponse ran, in the same tick), so a request sequence gets per-step latencies.
 */
async function load(
  options: LoadOptions,
  hooks: { kindOf?: () => string; whileRunning?: (run: LoadRun) => () => void; afterWarmup?: () => void } = {},
): Promise<{ result: LoadResult; samples: Map<string, number[]> }> {
  const run = autocannon(options);
  const samples = new Map<string, number[]>([['all', []]]);
  run.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    samples.get('all')!.push(responseTime);
    const kind = hooks.kindOf?.();
    if (!kind) return;
    if (!samples.has(kind)) samples.set(kind, []);
    samples.get(kind)!.push(responseTime);
  });
  const cleanup = hooks.whileRunning?.(run);
  try {
    return { result: await run, samples };
  } finally {
    cleanup?.();
  }
}

async function measure(
  scenario: string,
  target: string,
  server: ServerProcess,
  makeOptions: (duration: number) => LoadOptions,
  hooks: Parameters<typeof load>[1] = {},
): Promise<Measurement> {
  process.stdout.write(`  ${target} / ${scenario}: `);
  if (warmupSeconds > 0) {
    process.stdout.write(`warm-up ${warmupSeconds} s, `);
    await load(makeOptions(warmupSeconds), hooks);
  }
  hooks.afterWarmup?.();
  const problemsBefore = server.problems.length;
  process.stdout.write(`measuring ${durationSeconds} s ... `);
  const { result, samples } = await load(makeOptions(durationSeconds), hooks);
  const all = latencyStats(samples.get('all')!);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  const measurement: Measurement = {
    scenario,
    target,
    requestsPerSecond: round(result.requests.average, 0),
    p99Ms: all.p99Ms,
    meanMs: all.meanMs,
    requests: result.requests.total,
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    serverProblems: server.problems.slice(problemsBefore),
    notes: [],
  };
  const steps = [...samples.entries()].filter(([kind]) => kind !== 'all');
  if (steps.length > 0) measurement.steps = Object.fromEntries(steps.map(([kind, values]) => [kind, latencyStats(values)]));
  // Includes this run's own load (load generator, server, database): about 2 on its own.
  measurement.loadAverage1m = round(os.loadavg()[0], 2);
  console.log(
    `${measurement.requestsPerSecond} req/s, p99 ${measurement.p99Ms} ms, non-2xx ${measurement.non2xx} (load average ${measurement.loadAverage1m})`,
  );
  return measurement;
}

// ---------------------------------------------------------------------------------------------
// The hello-world baseline

async function measureBaseline(): Promise<Measurement> {
  const server = await startProcess(
    ['--import', 'tsx', 'bench/hello-server.ts'],
    { NODE_ENV: 'production' },
    /listening at (http:\/\/\S+)/,
    'hello-world server',
  );
  try {
    return await measure('hello-world GET /', 'fastify', server, (duration) => ({ url: `${server.url}/`, connections, duration }));
  } finally {
    await stopProcess(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Nova scenarios

interface NovaTarget {
  name: string;
  env: Record<string, string>;
  cleanup?: () => Promise<void>;
}

const execFileAsync = promisify(execFile);

async function startNova(target: NovaTarget, dataDir: string): Promise<{ server: ServerProcess; apiKey: string }> {
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    NOVA_DEMO: '1',
    NOVA_DATA_DIR: dataDir,
    // Buy-then-cancel loops need an immediate cancel; no demo SMS during the run. Supply health
    // rules would otherwise take the demo stock off sale under the loop: a cancelled number cools
    // down for NOVA_CANCEL_COOLDOWN_S, a number cancelled without SMS NOVA_NUMBER_MAX_FAILURES
    // times in a row is disabled, and so is the provider after NOVA_PROVIDER_MAX_FAILURES.
    NOVA_CANCEL_AFTER_S: '0',
    NOVA_CANCEL_COOLDOWN_S: '0',
    NOVA_NUMBER_MAX_FAILURES: '1000000',
    NOVA_PROVIDER_MAX_FAILURES: '1000000',
    NOVA_DEMO_SMS_DELAY_S: '3600',
    NOVA_RATE_LIMIT_RPS: '1000000',
    NOVA_RATE_LIMIT_BURST: '2000000',
    ...target.env,
  };
  const server = await startProcess(['--import', 'tsx', 'src/main.ts'], env, /is running at (http:\/\/\S+)/, `Nova server (${target.name})`);
  const login = JSON.parse(readFileSync(path.join(dataDir, 'demo-login.json'), 'utf8')) as { apiKey: string; companyId: number };
  // The demo company has 10 USD: top it up through the operator CLI, as an operator would.
  await execFileAsync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/nova.ts', 'credit', '--company', String(login.companyId), '--amount', '100000', '--reason', 'bench', '--json'],
    { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 },
  );
  return { server, apiKey: login.apiKey };
}

async function api(url: string, apiKey: string, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/**
 * Demo stock: every demo number can be sold once per service, so each (service, country) pair
 * holds as many sales as the country has demo numbers. Buys go to the pair with the most left,
 * counted as they are sent, so all pairs run down evenly and none is asked for once sold out.
 */
function createStock() {
  const pairs = demoCountries.flatMap((country) => {
    const numbers = demoNumbers([country.id]).length;
    return demoServices.map((service) => ({ serviceCode: service.code, countryId: country.id, left: numbers }));
  });
  let issued = 0;
  return {
    pairCount: pairs.length,
    get left() {
      return pairs.reduce((sum, pair) => sum + pair.left, 0);
    },
    get issued() {
      return issued;
    },
    /** The pair with the most stock left (taking one); null when everything is sold. */
    next(): { serviceCode: string; countryId: number } | null {
      let best = pairs[0];
      for (const pair of pairs) if (pair.left > best.left) best = pair;
      if (best.left === 0) return null;
      best.left -= 1;
      issued += 1;
      return best;
    },
  };
}

/** Counts non-2xx answers by step, status and error code, read from the response envelope. */
function createErrorTally() {
  const counts: Record<string, number> = {};
  /** The first few distinct messages of each kind, so a report can say which purchase failed. */
  const samples: Record<string, string[]> = {};
  return {
    counts,
    samples,
    /** Forgets the warm-up's answers. */
    reset() {
      for (const key of Object.keys(counts)) delete counts[key];
      for (const key of Object.keys(samples)) delete samples[key];
    },
    record(step: string, status: number, body: string) {
      if (status >= 200 && status < 300) return;
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
      } catch {
        // Not JSON: counted as "no envelope".
      }
      const key = `${step} ${status} ${error.code ?? 'no envelope'}`;
      counts[key] = (counts[key] ?? 0) + 1;
      const seen = (samples[key] ??= []);
      const message = error.message ?? body.slice(0, 200);
      if (seen.length < 5 && !seen.includes(message)) seen.push(message);
    },
  };
}

async function runNovaTarget(target: NovaTarget, baseline: Measurement): Promise<Measurement[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-bench-'));
  const cleanup = async () => {
    cleanups.delete(cleanup);
    rmSync(dataDir, { recursive: true, force: true });
    await target.cleanup?.();
  };
  cleanups.add(cleanup);
  let server: ServerProcess | undefined;
  try {
    const started = await startNova(target, dataDir);
    server = started.server;
    const { apiKey } = started;
    const base = `${server.url}/api/v1`;
    const auth = { authorization: `Bearer ${apiKey}` };
    const stock = createStock();
    const results: Measurement[] = [];

    // Poll: one activation, read over and over as a client waiting for its code would.
    const first = stock.next()!;
    const bought = await api(`${base}/activations`, apiKey, 'POST', { service_code: first.serviceCode, country_id: first.countryId });
    if (bought.status !== 201) throw new Error(`Buying the poll activation failed: ${bought.status} ${JSON.stringify(bought.json)}`);
    const activationId = (bought.json as { data: { activation: { id: number } } }).data.activation.id;
    const pollErrors = createErrorTally();
    const pollMeasurement = await measure('poll GET /activations/{id}', target.name, server, (duration) => ({
      url: server!.url,
      connections,
      duration,
      requests: [
        {
          method: 'GET',
          path: `/api/v1/activations/${activationId}`,
          headers: auth,
          onResponse: (status, body) => pollErrors.record('poll', status, body),
        },
      ],
    }), { afterWarmup: () => pollErrors.reset() });
    pollMeasurement.errorCodes = pollErrors.counts;
    pollMeasurement.errorSamples = pollErrors.samples;
    results.push(pollMeasurement);
    // A waiting activation keeps its number busy for every service: free it for the buy scenario.
    const cancelled = await api(`${base}/activations/${activationId}/cancel`, apiKey, 'POST');
    if (cancelled.status !== 200) throw new Error(`Cancelling the poll activation failed: ${cancelled.status} ${JSON.stringify(cancelled.json)}`);

    // Buy: each connection buys a number and cancels it at once (the refund returns the money).
    let lastStep = '';
    let soldOut = false;
    let stoppedEarly = false;
    const buyErrors = createErrorTally();
    const buyRequests: LoadRequest[] = [
      {
        method: 'POST',
        path: '/api/v1/activations',
        setupRequest: (request) => {
          const pair = stock.next();
          if (!pair) soldOut = true;
          // Sold out (only if the early stop below came too late): the buy answers 409 and counts as non-2xx.
          const { serviceCode, countryId } = pair ?? { serviceCode: 'tg', countryId: 6 };
          return {
            ...request,
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ service_code: serviceCode, country_id: countryId }),
          };
        },
        onResponse: (status, body, context) => {
          lastStep = 'buy';
          buyErrors.record('buy', status, body);
          if (status === 201) context.id = (JSON.parse(body) as { data: { activation: { id: number } } }).data.activation.id;
        },
      },
      {
        method: 'POST',
        // No id (the buy failed): start the sequence over with a new buy.
        setupRequest: (request, context) =>
          context.id === undefined ? null : { ...request, path: `/api/v1/activations/${context.id}/cancel`, headers: auth },
        onResponse: (status, body) => {
          lastStep = 'cancel';
          buyErrors.record('cancel', status, body);
        },
      },
    ];
    const buyMeasurement = await measure(
      'buy POST /activations + cancel',
      target.name,
      server,
      (duration) => ({ url: server!.url, connections, duration, requests: buyRequests }),
      {
        kindOf: () => lastStep,
        afterWarmup: () => buyErrors.reset(),
        // autocannon stops only at its next one-second tick, and near the end a pair's last numbers
        // can all be busy with other services' open buys: stop while ~2 s of buys plus one
        // connection's worth per pair are left.
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
    buyMeasurement.errorCodes = buyErrors.counts;
    buyMeasurement.errorSamples = buyErrors.samples;
    const pairs = buyMeasurement.steps?.cancel?.count ?? 0;
    buyMeasurement.pairsPerSecond = round(pairs / buyMeasurement.durationSeconds, 0);
    if (stoppedEarly) buyMeasurement.notes.push(`stopped early after ${buyMeasurement.durationSeconds} s: demo stock nearly sold out`);
    if (soldOut) buyMeasurement.notes.push('demo stock ran out: some buys answered 409 out_of_stock');
    results.push(buyMeasurement);

    for (const result of results) {
      result.ratios = {
        requestsPerSecond: round(result.requestsPerSecond / baseline.requestsPerSecond, 3),
        p99: round(result.p99Ms / baseline.p99Ms, 2),
      };
    }
    return results;
  } finally {
    if (server) await stopProcess(server);
    await cleanup();
  }
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

function printTable(measurements: Measurement[]): void {
  const rows = [
    ['target', 'scenario', 'req/s', 'p99 ms', 'non-2xx', 'req/s ratio', 'p99 ratio'],
    ...measurements.map((m) => [
      m.target,
      m.scenario,
      String(m.requestsPerSecond),
      m.p99Ms.toFixed(2),
      String(m.non2xx),
      m.ratios ? m.ratios.requestsPerSecond.toFixed(3) : '1 (baseline)',
      m.ratios ? `${m.ratios.p99.toFixed(2)}x` : '1 (baseline)',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  console.log(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows.slice(1)) console.log(line(row));
  for (const m of measurements) {
    const details: string[] = [];
    if (m.steps) details.push(Object.entries(m.steps).map(([step, s]) => `${step} p99 ${s.p99Ms.toFixed(2)} ms (mean ${s.meanMs.toFixed(2)})`).join(', '));
    if (m.pairsPerSecond !== undefined) details.push(`${m.pairsPerSecond} buy+cancel pairs/s`);
    const codes = Object.entries(m.statusCodes).filter(([code]) => !code.startsWith('2'));
    if (codes.length > 0) details.push(`status codes: ${codes.map(([code, n]) => `${code}×${n}`).join(', ')}`);
    const errorCodes = Object.entries(m.errorCodes ?? {});
    if (errorCodes.length > 0) {
      details.push(`errors: ${errorCodes.map(([what, n]) => `${what} ×${n} (e.g. "${m.errorSamples?.[what]?.[0] ?? ''}")`).join(', ')}`);
    }
    if (m.errors > 0 || m.timeouts > 0) details.push(`${m.errors} connection errors, ${m.timeouts} timeouts`);
    if (m.serverProblems.length > 0) details.push(`server logged ${m.serverProblems.length} warn/error lines, first: ${m.serverProblems[0].slice(0, 400)}`);
    details.push(...m.notes);
    if (details.length > 0) console.log(`  ${m.target} / ${m.scenario}: ${details.join('; ')}`);
  }
}

async function main(): Promise<number> {
  console.log(
    `Nova SMS benchmark: ${connections} connections, ${warmupSeconds} s warm-up + ${durationSeconds} s per scenario, loopback, ` +
      `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'})`,
  );
  const loadBefore = os.loadavg();
  warnIfBusy(loadBefore);
  const baseline = await measureBaseline();
  const measurements: Measurement[] = [baseline];
  const skipped: { target: string; reason: string }[] = [];
  const failed: { target: string; error: string }[] = [];

  // One target failing (a server that dies, a database that refuses) still reports the others.
  const runTarget = async (name: string, makeTarget: () => Promise<NovaTarget>) => {
    try {
      measurements.push(...(await runNovaTarget(await makeTarget(), baseline)));
    } catch (error) {
      console.error(`\n  ${name}: FAILED: ${(error as Error).stack ?? String(error)}`);
      failed.push({ target: name, error: (error as Error).message });
    }
  };

  await runTarget('pglite', async () => ({ name: 'pglite', env: {} }));

  if (await postgresReachable()) {
    const name = redisUrl ? 'postgres+redis' : 'postgres';
    await runTarget(name, async () => {
      const database = await createScratchDatabase();
      const env: Record<string, string> = { DATABASE_URL: database.url };
      if (redisUrl) env.REDIS_URL = redisUrl;
      return { name, env, cleanup: () => database.drop() };
    });
  } else {
    const reason = `PostgreSQL not reachable at ${adminPgUrl}`;
    skipped.push({ target: 'postgres', reason });
    console.log(`  postgres: skipped (${reason})`);
  }
  const loadAfter = os.loadavg();

  printTable(measurements);
  for (const s of skipped) console.log(`  ${s.target}: skipped (${s.reason})`);
  for (const f of failed) console.log(`  ${f.target}: FAILED (${f.error.split('\n')[0]})`);
  // The run's own load raises the figure after it, so only the one before says whether others competed.
  console.log(`  load average (1 min) before ${loadBefore[0].toFixed(2)} (after, with this run's own load: ${loadAfter[0].toFixed(2)}) on ${os.cpus().length} CPUs`);
  warnIfBusy(loadBefore);

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? null,
    connections,
    warmupSeconds,
    durationSeconds,
    baseline,
    nova: measurements.slice(1),
    loadAverage1m: { before: round(loadBefore[0], 2), after: round(loadAfter[0], 2) },
    skipped,
    failed,
  };
  const resultsDir = path.join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWritten to bench/results/latest.json`);
  return failed.length > 0 ? 1 : 0;
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
}
