import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureServerBuilt, serverEntry } from '../scripts/build-server.ts';
import { runBenchScript } from './support/bench-runner.ts';
import { testTarget, uniqueName } from './support/test-target.ts';

/**
 * `npm run bench:compare` as a smoke test: two copies of the current build, loaded in turns on
 * PostgreSQL for a moment, must both answer every request and be reported with their CPU per
 * request. Figures are not judged (the same build twice, on a busy test machine).
 */
const root = path.resolve(import.meta.dirname, '..');
const buildsDir = path.join(root, 'bench', 'builds');
const copies = [path.join(buildsDir, uniqueName('test-a')), path.join(buildsDir, uniqueName('test-b'))];
after(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

const runCompare = (args: string[]) => runBenchScript('bench/compare-builds.ts', args);

describe('npm run bench:compare (smoke)', { skip: testTarget === 'postgres' ? false : 'needs PostgreSQL (runs in the PostgreSQL pass)' }, () => {
  it('loads two builds in turns and reports each one’s requests, rate and CPU per request', { timeout: 5 * 60_000 }, async () => {
    await ensureServerBuilt({ quiet: true });
    mkdirSync(buildsDir, { recursive: true });
    for (const copy of copies) cpSync(path.dirname(serverEntry), copy, { recursive: true });
    const [a, b] = copies.map((copy) => path.relative(root, copy));
    const { code, output } = await runCompare([`--a=${a}`, `--b=${b}`, '--path=poll', '--rounds=2', '--seconds=0.5', '--warmup=0.5', '--b-env=NOVA_BATCH_WRITES=0']);
    assert.equal(code, 0, `bench:compare exited ${code}:\n${output.slice(-4000)}`);
    const line = output.split('\n').find((l) => l.startsWith('COMPARE '));
    assert.ok(line, `no COMPARE line:\n${output.slice(-4000)}`);
    const report = JSON.parse(line.slice('COMPARE '.length)) as { path: string; rounds: number; a: Figures; b: Figures };
    assert.equal(report.path, 'poll');
    assert.equal(report.rounds, 2);
    // B ran with its own setting, A without.
    assert.deepEqual(report.b.env, { NOVA_BATCH_WRITES: '0' });
    assert.deepEqual(report.a.env, {});
    assert.match(output, /B = \S+ NOVA_BATCH_WRITES=0/);
    for (const figures of [report.a, report.b]) {
      assert.ok(figures.requests > 0 && figures.rate > 0, `no requests answered: ${line}`);
      assert.ok(figures.cpuUs > 0, `no CPU per request: ${line}`);
    }
    assert.match(output, /B against A: CPU per request ×[\d.]+, req\/s ×[\d.]+/);
  });

  it('refuses a setting that is not NAME=VALUE', async () => {
    const [a, b] = copies.map((copy) => path.relative(root, copy));
    const { code, output } = await runCompare([`--a=${a}`, `--b=${b}`, '--b-env=NOVA_BATCH_WRITES']);
    assert.notEqual(code, 0);
    assert.match(output, /--b-env=NOVA_BATCH_WRITES is not NAME=VALUE/);
  });

  it('refuses a build outside the repository, where the server would not find its packages', async () => {
    const { code, output } = await runCompare(['--a=/tmp', `--b=${path.relative(root, copies[1])}`]);
    assert.notEqual(code, 0);
    assert.match(output, /--a=\/tmp: no main\.js there|--a=\/tmp is outside the repository/);
  });
});

interface Figures {
  requests: number;
  rate: number;
  cpuUs: number;
  env: Record<string, string>;
}
