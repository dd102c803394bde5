import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../test/support/test-target.ts';
import { load, round } from './load-runner.ts';
import {
  chooseRedis,
  cleanups,
  cpuTicks,
  installExitHandlers,
  novaServerEnv,
  root,
  scratchDataDir,
  type ServerProcess,
  startProcess,
  stopProcess,
} from './server-process.ts';

/**
 * `npm run bench:compare -- --a=DIR --b=DIR [--path=poll] [--rounds=8] [--seconds=1.5]
 * [--a-env=NAME=VALUE …] [--b-env=NAME=VALUE …]`: which of two builds of the server (or one build
 * with two settings) answers one read with less CPU, on a machine whose speed moves within
 * seconds. Runs taken one after the other minutes apart differ here by up to 40% for the same
 * build, so a change of 10% cannot be seen that way. Both builds run side by side on PostgreSQL
 * (and Redis when it answers), each on a scratch database with the demo seed, and are loaded in
 * turns: `--seconds` of 50 connections on one, then on the other, `--rounds` times, the order
 * flipped every round, after 3 s of warm-up each. Each then meets the same fast and slow stretches;
 * what is compared is the server's CPU per request (user + system from /proc) and req/s.
 *
 * DIR is a built server (`npm run build` makes `dist/`) copied inside this repository, e.g.
 * `cp -r dist bench/builds/before` (ignored by git): the server finds its packages in the
 * repository's node_modules. `--path`: `poll` (an activation bought for the run, read again and
 * again), or any GET path of the customer API such as `/api/v1/balance`.
 */

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    path: { type: 'string', default: 'poll' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '1.5' },
    warmup: { type: 'string', default: '3' },
    'a-env': { type: 'string', multiple: true, default: [] },
    'b-env': { type: 'string', multiple: true, default: [] },
  },
});

interface Build {
  label: 'A' | 'B';
  dir: string;
  /** Settings of this build's server on top of the bench's (`--a-env=NAME=VALUE`, repeatable). */
  env: Record<string, string>;
  server?: ServerProcess;
  apiKey?: string;
  url?: string;
  requests: number;
  ticks: number;
  seconds: number;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}=${text} is not a positive number`);
  return value;
}

function settings(option: string, pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
      if (!match) throw new Error(`--${option}=${pair} is not NAME=VALUE`);
      return [match[1], match[2]];
    }),
  );
}

function buildDir(option: string, text: string | undefined): string {
  if (!text) throw new Error(`--${option}=DIR is missing: a built server (npm run build, then e.g. cp -r dist bench/builds/${option})`);
  const dir = path.resolve(root, text);
  if (!existsSync(path.join(dir, 'main.js'))) throw new Error(`--${option}=${text}: no main.js there (copy a built dist/ folder)`);
  if (path.relative(root, dir).startsWith('..')) throw new Error(`--${option}=${text} is outside the repository: the server would not find its packages (copy it under bench/builds/)`);
  return dir;
}

/** The demo login's API key, as the server prints it at start: it reads the demo company's data. */
const demoApiKeyLine = /API key:\s+(\S+)/;

async function startBuild(build: Build, redisUrl: string | undefined): Promise<void> {
  const database = await createScratchDatabase();
  const { dataDir } = scratchDataDir(() => database.drop());
  const env = { ...novaServerEnv(dataDir, { DATABASE_URL: database.url, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) }), ...build.env };
  const server = await startProcess(['--enable-source-maps', path.join(build.dir, 'main.js')], env, /is running at (http:\/\/\S+)/, `build ${build.label}`);
  build.server = server;
  const apiKey = () => server.output.map((line) => demoApiKeyLine.exec(line)?.[1]).find(Boolean);
  await waitFor(() => apiKey() !== undefined, 10_000, `build ${build.label} printed no demo API key`);
  build.apiKey = apiKey();
  build.url = `${server.url}${await pathFor(server.url, build.apiKey!)}`;
}

async function waitFor(condition: () => boolean, ms: number, message: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The path to load: for `poll`, an activation bought now (the demo catalog sells tg in country 6). */
async function pathFor(base: string, apiKey: string): Promise<string> {
  if (values.path !== 'poll') return values.path!;
  const answer = await fetch(`${base}/api/v1/activations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service_code: 'tg', country_id: 6 }),
  });
  const json = (await answer.json()) as { data?: { activation?: { id: number } } };
  if (answer.status !== 201 || !json.data?.activation) throw new Error(`buying the activation to poll failed: ${answer.status} ${JSON.stringify(json)}`);
  return `/api/v1/activations/${json.data.activation.id}`;
}

/** One burst of load on one build; what it answered and the server's CPU during it. */
async function burst(build: Build, seconds: number, counted: boolean): Promise<void> {
  const before = cpuTicks(build.server!.child.pid);
  const { result } = await load({ url: build.url!, connections: 50, duration: seconds, headers: { authorization: `Bearer ${build.apiKey}` } }, {});
  const after = cpuTicks(build.server!.child.pid);
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`build ${build.label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts on ${build.url}`);
  if (!counted) return;
  build.requests += result.requests.total;
  build.seconds += result.duration;
  if (before !== null && after !== null) build.ticks += after - before;
}

async function main(): Promise<void> {
  installExitHandlers();
  const rounds = positive('rounds', values.rounds!);
  const seconds = positive('seconds', values.seconds!);
  const warmup = positive('warmup', values.warmup!);
  const builds: Build[] = [
    { label: 'A', dir: buildDir('a', values.a), env: settings('a-env', values['a-env']!), requests: 0, ticks: 0, seconds: 0 },
    { label: 'B', dir: buildDir('b', values.b), env: settings('b-env', values['b-env']!), requests: 0, ticks: 0, seconds: 0 },
  ];
  const redisUrl = await chooseRedis();
  try {
    for (const build of builds) await startBuild(build, redisUrl);
    const described = (b: Build) => `${b.label} = ${path.relative(root, b.dir)}${Object.entries(b.env).map(([name, value]) => ` ${name}=${value}`).join('')}`;
    console.log(`Comparing ${builds.map(described).join(', ')} on ${values.path}, PostgreSQL${redisUrl ? ' + Redis' : ''}: ${rounds} rounds of ${seconds} s each`);
    for (const build of builds) await burst(build, warmup, false);
    for (let turn = 0; turn < rounds; turn++) {
      for (const build of turn % 2 === 0 ? builds : [...builds].reverse()) await burst(build, seconds, true);
    }
    // Linux reports CPU in ticks of 10 ms.
    const figures = builds.map((b) => ({ ...b, cpuUs: round((b.ticks * 10_000) / Math.max(1, b.requests), 2), rate: round(b.requests / Math.max(0.001, b.seconds), 0) }));
    for (const f of figures) console.log(`  ${f.label}: ${f.requests} requests, ${f.rate} req/s, server CPU ${f.cpuUs} µs per request`);
    const [a, b] = figures;
    console.log(`  B against A: CPU per request ×${round(b.cpuUs / Math.max(0.001, a.cpuUs), 3)}, req/s ×${round(b.rate / Math.max(1, a.rate), 3)}`);
    console.log(`COMPARE ${JSON.stringify({ path: values.path, rounds, seconds, a: { requests: a.requests, rate: a.rate, cpuUs: a.cpuUs, env: a.env }, b: { requests: b.requests, rate: b.rate, cpuUs: b.cpuUs, env: b.env } })}`);
  } finally {
    for (const build of builds) if (build.server) await stopProcess(build.server);
    await Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
  }
}

await main();
