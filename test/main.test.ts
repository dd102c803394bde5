import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ensureServerBuilt } from '../scripts/build-server.ts';
import { apiClient } from './support/test-server.ts';
import { createScratchDatabase, embeddedOnly, testTarget } from './support/test-target.ts';

/**
 * The newcomer's path: `npm start` on a fresh machine, then the printed URL and demo key, the
 * spec's examples, a purchase whose demo SMS arrives within seconds, a restart that keeps
 * everything, and the operator CLI next to the running server.
 */
const root = path.resolve(import.meta.dirname, '..');
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/**
 * The node arguments an npm script runs: `"tsx src/cli/nova.ts"` → tsx on the source,
 * `"node --enable-source-maps dist/main.js"` → the build (made first, as prestart does).
 */
function scriptArgs(script: string): string[] {
  const command = packageJson.scripts[script] ?? '';
  const tsx = /^tsx (\S+\.ts)$/.exec(command);
  if (tsx) return ['--import', 'tsx', tsx[1]!];
  const node = /^node ((?:--\S+ )*)(\S+\.js)$/.exec(command);
  assert.ok(node, `package.json "${script}" should be "tsx <file>" or "node <file>", is ${JSON.stringify(command)}`);
  return [...node[1]!.split(' ').filter(Boolean), node[2]!];
}

before(async () => {
  await ensureServerBuilt({ quiet: true });
});

const running = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  // A failed test must not leave a server behind.
  for (const child of running) child.kill('SIGKILL');
});

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Only what the test sets: never the runner's database, log level or test context.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'NOVA_DEMO', 'LOG_LEVEL', 'NODE_TEST_CONTEXT']) {
    if (!(name in env)) delete merged[name];
  }
  return merged;
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  apiKey: string | null;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `npm start`'s entry and waits for the "running at" line (and the demo key when demo is on). */
async function startMain(env: Record<string, string>, expectDemoKey: boolean): Promise<Started> {
  const child = spawn(process.execPath, scriptArgs('start'), { cwd: root, env: childEnv(env) });
  running.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );

  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = /Nova SMS is running at (http:\/\/\S+)/.exec(output)?.[1];
    const apiKey = /API key:\s+(\S+)/.exec(output)?.[1] ?? null;
    if (url && (apiKey || !expectDemoKey)) {
      return {
        child,
        url,
        apiKey,
        output: () => output,
        async stop() {
          child.kill('SIGTERM');
          return exited;
        },
      };
    }
    if (child.exitCode !== null) assert.fail(`the server exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) assert.fail(`the server printed no URL${expectDemoKey ? ' and API key' : ''} within 60 s:\n${output}`);
    await sleep(50);
  }
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...scriptArgs('nova'), ...args], { cwd: root, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start: the newcomer flow', { timeout: 180_000 }, () => {
  it('prints a URL and a demo key that buys a Telegram number whose code arrives within seconds, and a restart keeps both', { skip: embeddedOnly }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-main-'));
    const env = { PORT: '0', HOST: '127.0.0.1', NOVA_DATA_DIR: dataDir, NOVA_DEMO_SMS_DELAY_S: '1' };
    try {
      const first = await startMain(env, true);
      assert.match(first.output(), /owner email:\s+\S+@\S+/);
      assert.match(first.output(), /password:\s+\S{8,}/);
      assert.match(first.output(), /embedded/, 'says which database it runs on');
      const api = apiClient(first.url, first.apiKey!);

      assert.deepEqual((await api.get('/api/v1/balance')).body, { ok: true, data: { balance: 10, currency: 'USD' } });
      // The spec's example, true on a fresh demo.
      assert.deepEqual((await api.get('/api/v1/prices?service=tg&country=6')).body, {
        ok: true,
        data: { service: 'tg', country: 6, price: 0.5, available: 240, in_stock: true },
      });

      const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(bought.status, 201, JSON.stringify(bought.body));
      const { id, number, status } = bought.body.data.activation;
      assert.equal(status, 'waiting');
      assert.match(number, /^\+1\d{10}$/);

      // Meanwhile an operator runs `npm run nova -- ledger:verify` next to the running server.
      const verify = runCli(['ledger:verify', '--json'], { NOVA_DATA_DIR: dataDir });

      const boughtAt = Date.now();
      let activation;
      for (;;) {
        activation = (await api.get(`/api/v1/activations/${id}`)).body.data.activation;
        if (activation.status !== 'waiting' || Date.now() - boughtAt > 10_000) break;
        await sleep(200);
      }
      assert.equal(activation.status, 'sms_received', 'the demo SMS arrives within 10 s');
      assert.match(activation.code, /^\d{5}$/);
      assert.ok(activation.text.includes(activation.code), `the code ${activation.code} is in the text ${JSON.stringify(activation.text)}`);

      const completed = await api.post(`/api/v1/activations/${id}/complete`);
      assert.equal(completed.status, 200);
      assert.equal(completed.body.data.activation.status, 'completed');

      const verified = await verify;
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.deepEqual(JSON.parse(verified.stdout), { ok: true, mismatches: [] });

      assert.equal(await first.stop(), 0, `exit code after SIGTERM\n${first.output()}`);
      assert.equal(existsSync(path.join(dataDir, 'nova-cli.sock')), false, 'the CLI socket goes away with the server');

      // Everything lives on disk in the data folder.
      const second = await startMain(env, true);
      try {
        assert.equal(second.apiKey, first.apiKey, 'the same demo key is printed again');
        const again = apiClient(second.url, second.apiKey!);
        assert.equal((await again.get('/api/v1/balance')).body.data.balance, 9.5);
        const list = await again.get('/api/v1/activations');
        assert.equal(list.status, 200);
        assert.equal(list.body.data.total, 1);
        assert.deepEqual(
          list.body.data.activations.map((a: { id: number; status: string; code: string }) => [a.id, a.status, a.code]),
          [[id, 'completed', activation.code]],
        );
      } finally {
        assert.equal(await second.stop(), 0, `exit code after SIGTERM\n${second.output()}`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('runs on PostgreSQL with DATABASE_URL, with the demo when NOVA_DEMO=1', { skip: testTarget === 'postgres' ? false : 'runs with NOVA_TEST_TARGET=postgres' }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-main-'));
    const scratch = await createScratchDatabase();
    try {
      const server = await startMain({ PORT: '0', HOST: '127.0.0.1', NOVA_DATA_DIR: dataDir, DATABASE_URL: scratch.url, NOVA_DEMO: '1' }, true);
      try {
        assert.match(server.output(), /database: PostgreSQL/);
        const api = apiClient(server.url, server.apiKey!);
        assert.deepEqual((await api.get('/api/v1/prices?service=tg&country=6')).body.data, {
          service: 'tg',
          country: 6,
          price: 0.5,
          available: 240,
          in_stock: true,
        });
        const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
        assert.equal(bought.status, 201, JSON.stringify(bought.body));
        assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5);
      } finally {
        assert.equal(await server.stop(), 0, `exit code after SIGTERM\n${server.output()}`);
      }
    } finally {
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
