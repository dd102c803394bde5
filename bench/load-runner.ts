import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { ServerProcess } from './server-process.ts';

/**
 * autocannon runs and what the benchmark records of them: rate, latency percentiles, status
 * codes, and the answers that were wrong (a benchmark that counts failures as speed lies).
 */

// autocannon ships no type declarations: this is the part of its API the benchmark uses.
export interface LoadRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: LoadRequest, context: Record<string, unknown>) => LoadRequest | null;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
export interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  requests?: LoadRequest[];
  /** Called with each connection as it is made: `setRequests` gives it a request sequence of its own. */
  setupClient?: (client: { setRequests(requests: LoadRequest[]): void }) => void;
  /** How often autocannon samples, in ms: it also stops only at a sample, so short runs want it small. */
  sampleInt?: number;
}
export interface LoadResult {
  requests: { average: number; total: number; sent: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
}
export interface LoadRun extends EventEmitter, PromiseLike<LoadResult> {
  stop(): void;
}
// A CommonJS package without types: require() answers `any`, narrowed here to the interface above.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: LoadOptions) => LoadRun;

export interface LongPollFigures {
  /** Long-polls held open at once, each on its own activation. */
  count: number;
  /** From the answer to an SMS push to the answer of the long-poll waiting for it (0 when the poll answered first). */
  smsToAnswerMs: { median: number; p99: number; max: number };
  /** Long-polls that answered before the push that woke them had itself been answered. */
  answeredBeforePush: number;
  /** Answers without the code that were asked again (before the SMS: a timeout or someone else's event). */
  askedAgain: number;
  /**
   * Server memory (VmRSS, MB): right after it started, before the long-polls were opened (after
   * the other scenarios), once all of them waited, and the highest while the SMS came in.
   */
  rssMb: { afterStart: number | null; before: number | null; waiting: number | null; peak: number | null };
  /** Seconds to open every long-poll until the server was idle, and to push every SMS. */
  openSeconds: number;
  pushSeconds: number;
}

export interface Measurement {
  scenario: string;
  target: string;
  /** Every response per second (the buy rows: buy and cancel requests together). */
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
  /** 2xx answers whose body was checked (the first and every 16th) and found wrong, warm-up included. */
  wrongAnswers: number;
  wrongSamples: string[];
  /** Buy scenario only: latency of each step and completed buy+cancel pairs per second. */
  steps?: Record<string, { p99Ms: number; meanMs: number; count: number }>;
  pairsPerSecond?: number;
  /** Buy scenario only: companies buying at once (the connections are spread over them). */
  companies?: number;
  /**
   * Against the hello-world of the same run. `headline` is what the table shows: req/s ÷ hello
   * req/s, for the buy rows pairs/s ÷ hello req/s (the issue's measure; one pair is two requests).
   */
  ratios?: { requestsPerSecond: number; p99: number; pairsPerSecond?: number; headline: number; nextToIt?: number };
  /**
   * The hello-world's req/s in its short runs right before and right after this scenario (null:
   * that run failed or never came), the baseline of `ratios.nextToIt`; `runs`: every one of them
   * for a scenario run in parts between hello-world runs (the reads), whose mean is that baseline.
   */
  helloAround?: { before: number | null; after: number | null; runs?: (number | null)[] };
  longPoll?: LongPollFigures;
  /** The issue's target for this row, printed next to the figure; never a reason to fail. */
  goal?: { text: string; met: boolean };
  /** Why this scenario counts as broken (5xx, wrong or refused answers, connection errors, a dead server): the run exits 1. */
  broken: string[];
  /**
   * CPU time spent during the measurement, in ms per request (per pair in the buy rows), by the
   * server under test, by the local PostgreSQL and Redis processes and by the load generator
   * (Linux /proc; absent elsewhere): which process a request's cost lands in. Not free of the
   * machine's noise either (a busy host makes every process need more CPU for the same work).
   */
  cpuMsPer?: { unit: 'request' | 'pair' | 'SMS'; server: number; postgres: number; redis: number; loadGenerator: number };
}

/** CPU ticks (user + system, every thread) of a process; 0 when it is gone. */
function ticksOf(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Ticks so far of the server, of every postgres and redis-server process, and of this process (the load generator); null off Linux. */
export function machineCpuTicks(serverPid: number | undefined): { server: number; postgres: number; redis: number; loadGenerator: number } | null {
  if (process.platform !== 'linux' || serverPid === undefined) return null;
  let postgres = 0;
  let redis = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (name === 'postgres') postgres += ticksOf(entry);
    else if (name === 'redis-server') redis += ticksOf(entry);
  }
  return { server: ticksOf(serverPid), postgres, redis, loadGenerator: ticksOf(process.pid) };
}

// Linux reports process CPU time in USER_HZ ticks, 100 a second on every architecture Node runs on.
const msPerTick = 10;

type Ticks = NonNullable<ReturnType<typeof machineCpuTicks>>;

/** The CPU each process spent between two readings of machineCpuTicks, per `unit` (`count` of them). */
export function cpuMsPer(before: Ticks, after: Ticks, count: number, unit: NonNullable<Measurement['cpuMsPer']>['unit']): NonNullable<Measurement['cpuMsPer']> {
  const per = (key: keyof Ticks) => round(((after[key] - before[key]) * msPerTick) / Math.max(1, count), 4);
  return { unit, server: per('server'), postgres: per('postgres'), redis: per('redis'), loadGenerator: per('loadGenerator') };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function latencyStats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length);
  return { p99Ms: round(percentile(sorted, 0.99), 2), meanMs: round(mean, 2), count: samples.length };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Non-2xx answers by step, status and error code (read from the response envelope), and 2xx
 * answers that say something else than they should: `check` returns what is wrong, or null. Only
 * the first and every 16th 2xx body is parsed, so checking costs the load generator next to nothing.
 */
export function createAnswerTally(allowed: (key: string) => boolean = () => false) {
  const counts: Record<string, number> = {};
  /** The first few distinct messages of each kind, so a report can say which purchase failed. */
  const samples: Record<string, string[]> = {};
  const wrongSamples: string[] = [];
  let wrong = 0;
  let checked = 0;
  /** Non-2xx answers the scenario does not expect ("step status code" not `allowed`), warm-up included. */
  const refused: Record<string, number> = {};
  return {
    counts,
    samples,
    get wrong() {
      return wrong;
    },
    wrongSamples,
    refused,
    /** Forgets the warm-up's non-2xx answers (wrong 2xx answers stay: they are a failure either way). */
    reset() {
      for (const key of Object.keys(counts)) delete counts[key];
      for (const key of Object.keys(samples)) delete samples[key];
    },
    record(step: string, status: number, body: string, check?: (json: unknown) => string | null) {
      if (status >= 200 && status < 300) {
        if (!check || checked++ % 16 !== 0) return;
        let problem: string | null;
        try {
          problem = check(JSON.parse(body));
        } catch {
          problem = 'not JSON';
        }
        if (problem) {
          wrong += 1;
          if (wrongSamples.length < 5) wrongSamples.push(`${step}: ${problem}: ${body.slice(0, 300)}`);
        }
        return;
      }
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
      } catch {
        // Not JSON: counted as "no envelope".
      }
      const key = `${step} ${status} ${error.code ?? 'no envelope'}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (!allowed(key)) refused[key] = (refused[key] ?? 0) + 1;
      const seen = (samples[key] ??= []);
      const message = error.message ?? body.slice(0, 200);
      if (seen.length < 5 && !seen.includes(message)) seen.push(message);
    },
  };
}
export type AnswerTally = ReturnType<typeof createAnswerTally>;

/**
 * One autocannon run. `kindOf()` names the step of the last response (read right after the
 * request's onResponse ran, in the same tick), so a request sequence gets per-step latencies.
 */
export async function load(
  options: LoadOptions,
  hooks: LoadHooks,
): Promise<{ result: LoadResult; samples: Map<string, number[]> }> {
  const run = autocannon({ sampleInt: 250, ...options });
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

export interface LoadHooks {
  kindOf?: () => string;
  whileRunning?: (run: LoadRun) => () => void;
  afterWarmup?: () => void;
  /** The scenario's answers: non-2xx by error code and wrong 2xx answers end up in the measurement. */
  tally?: AnswerTally;
}

export interface Timing {
  warmupSeconds: number;
  durationSeconds: number;
}

/** A warm-up, then the measured run; the hello-world and every Nova read and buy scenario. */
export async function measure(
  scenario: string,
  target: string,
  server: ServerProcess,
  timing: Timing,
  makeOptions: (duration: number) => LoadOptions,
  hooks: LoadHooks = {},
): Promise<Measurement> {
  process.stdout.write(`  ${target} / ${scenario}: `);
  const errorsBefore = server.errors.length;
  let warmupBroken: string[] = [];
  if (timing.warmupSeconds > 0) {
    process.stdout.write(`warm-up ${timing.warmupSeconds} s, `);
    const { result } = await load(makeOptions(timing.warmupSeconds), hooks);
    warmupBroken = brokenBy(result, 'in the warm-up');
  }
  hooks.tally?.reset();
  hooks.afterWarmup?.();
  const problemsBefore = server.problems.length;
  process.stdout.write(`measuring ${timing.durationSeconds} s ... `);
  const ticksBefore = machineCpuTicks(server.child.pid);
  const { result, samples } = await load(makeOptions(timing.durationSeconds), hooks);
  const ticksAfter = machineCpuTicks(server.child.pid);
  const all = latencyStats(samples.get('all')!);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  const tally = hooks.tally;
  const measurement: Measurement = {
    scenario,
    target,
    // Counted over the run's own length: autocannon's per-sample average assumes 1 s samples.
    requestsPerSecond: round(result.requests.total / Math.max(0.001, result.duration), 0),
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
    wrongAnswers: tally?.wrong ?? 0,
    wrongSamples: tally?.wrongSamples ?? [],
    broken: [...warmupBroken, ...brokenBy(result, '')],
  };
  if (tally) {
    measurement.errorCodes = tally.counts;
    measurement.errorSamples = tally.samples;
  }
  const refused = Object.entries(tally?.refused ?? {});
  if (refused.length > 0) {
    measurement.broken.push(`answers that should have been 2xx: ${refused.map(([key, n]) => `${key} ×${n} (e.g. "${tally?.samples[key]?.[0] ?? ''}")`).join(', ')}`);
  }
  if (measurement.wrongAnswers > 0) measurement.broken.push(`${measurement.wrongAnswers} wrong answers, e.g. ${measurement.wrongSamples[0]}`);
  const serverErrors = server.errors.slice(errorsBefore);
  if (serverErrors.length > 0) measurement.broken.push(`server logged ${serverErrors.length} error lines, first: ${serverErrors[0].slice(0, 400)}`);
  const steps = [...samples.entries()].filter(([kind]) => kind !== 'all');
  if (steps.length > 0) measurement.steps = Object.fromEntries(steps.map(([kind, values]) => [kind, latencyStats(values)]));
  if (ticksBefore && ticksAfter) {
    // A buy row counts pairs (its cancels); every other row its requests.
    const pairs = measurement.steps?.cancel?.count;
    const count = Math.max(1, pairs ?? result.requests.total);
    measurement.cpuMsPer = cpuMsPer(ticksBefore, ticksAfter, count, pairs === undefined ? 'request' : 'pair');
  }
  // Includes this run's own load (load generator, server, database): about 2 on its own.
  measurement.loadAverage1m = round(os.loadavg()[0], 2);
  console.log(
    `${measurement.requestsPerSecond} req/s, p99 ${measurement.p99Ms} ms, non-2xx ${measurement.non2xx} (load average ${measurement.loadAverage1m})`,
  );
  return measurement;
}

/** 5xx answers and lost connections: broken whatever the scenario (non-2xx answers are judged by the scenario). */
function brokenBy(result: LoadResult, when: string): string[] {
  const suffix = when ? ` ${when}` : '';
  const broken: string[] = [];
  const serverErrors = Object.entries(result.statusCodeStats).filter(([code]) => code.startsWith('5'));
  if (serverErrors.length > 0) broken.push(`5xx answers${suffix}: ${serverErrors.map(([code, { count }]) => `${code}×${count}`).join(', ')}`);
  if (result.errors > 0) broken.push(`${result.errors} connection errors${suffix}`);
  if (result.timeouts > 0) broken.push(`${result.timeouts} requests without an answer within 10 s${suffix}`);
  return broken;
}
