import { spawn } from 'node:child_process';
import path from 'node:path';
import { testRedisUrl } from './test-target.ts';

/**
 * A benchmark script (`bench/run-bench.ts`, `bench/compare-builds.ts`) run as `npm run` runs it, in a
 * child process, for the smoke tests: what it printed (stdout and stderr together) and its exit code.
 */
const root = path.resolve(import.meta.dirname, '../..');

export function runBenchScript(script: string, args: string[], settings: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  // The developer's own BENCH_* settings would change what runs; this pass's Redis, or none.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BENCH_')));
  env.BENCH_REDIS_URL = testRedisUrl ?? 'none';
  // Not a test process of ours: with the runner's context, node's child would report to it.
  delete env.NODE_TEST_CONTEXT;
  Object.assign(env, settings);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
