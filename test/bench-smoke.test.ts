import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runBenchScript } from './support/bench-runner.ts';
import { testTarget } from './support/test-target.ts';

/**
 * `npm run bench -- --quick` as a smoke test, on this pass's target only (`--target`): every
 * scenario runs for a second or two against a production-mode server and must end with exit 0,
 * which the bench gives unless something is broken (a server that does not start or dies, 5xx,
 * refused or wrong answers, lost connections). Figures are never judged here.
 */
const root = path.resolve(import.meta.dirname, '..');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'nova-bench-smoke-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

const scenarios =
  testTarget === 'postgres'
    ? [
        'poll GET /activations/{id}',
        'GET /balance',
        'GET /prices?service=tg&country=6',
        'buy POST /activations + cancel, 1 company',
        'buy POST /activations + cancel, 10 companies',
        'buy POST /activations + cancel, 50 companies',
        '50 long-polls GET /activations/{id}?wait=60, SMS → answer',
      ]
    : ['poll GET /activations/{id}', 'GET /balance', 'GET /prices?service=tg&country=6', 'buy POST /activations + cancel, 1 company'];

describe('npm run bench -- --quick (smoke)', () => {
  it(`runs every ${testTarget} scenario between two hello-world runs, with no broken answer, and exits 0`, { timeout: 10 * 60_000 }, async () => {
    // Shorter than --quick alone: a smoke test looks for broken answers, not figures, and npm test
    // must stay under ~15 minutes on 2 cores.
    // The reads in two parts, as a full run does in four (--quick alone runs them whole).
    const settings = { BENCH_DURATION_S: '0.6', BENCH_WARMUP_S: '0.2', BENCH_LONG_POLLS: '50', BENCH_EXTRA_NUMBERS: '300', BENCH_READ_PARTS: '2' };
    const out = path.join(outDir, 'quick.json');
    const { code, output } = await runBenchScript('bench/run-bench.ts', ['--quick', `--target=${testTarget}`, `--out=${out}`], settings);
    assert.equal(code, 0, `the bench exited ${code}:\n${output.slice(-6000)}`);

    const table = output.slice(output.indexOf('\ntarget '));
    const rows = table.split('\n');
    for (const scenario of ['hello-world GET /', ...scenarios]) {
      assert.ok(rows.some((row) => row.includes(scenario)), `no table row for "${scenario}":\n${table}`);
    }
    // The ratios divide by the mean of the hello-world at the start and at the end.
    assert.match(table, /hello-world GET \/.*start [\d,]+ \/ end [\d,]+ → mean [\d,]+ req\/s/, `no start / end / mean on the baseline row:\n${table}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      baseline: { requestsPerSecond: number; start: { requestsPerSecond: number }; end: { requestsPerSecond: number } | null };
      nova: {
        scenario: string;
        broken: string[];
        longPoll?: unknown;
        pairsPerSecond?: number;
        requests: number;
        durationSeconds: number;
        helloAround?: { before: number | null; after: number | null; runs?: (number | null)[] };
        ratios?: { nextToIt?: number };
      }[];
      failed: unknown[];
    };
    assert.deepEqual(report.failed, []);
    const { start, end } = report.baseline;
    assert.ok(end, 'no hello-world run at the end in the JSON');
    assert.ok(Math.abs(report.baseline.requestsPerSecond - (start.requestsPerSecond + end.requestsPerSecond) / 2) <= 1, 'baseline req/s is not the mean of both ends');
    assert.deepEqual(
      report.nova.map((m) => m.scenario),
      scenarios,
    );
    assert.deepEqual(report.nova.filter((m) => m.broken.length > 0), []);
    // Every rated scenario also has the hello-world measured right before and right after it.
    for (const m of report.nova.filter((row) => !row.longPoll)) {
      assert.ok(m.helloAround?.before && m.helloAround.after, `no hello-world right before and after "${m.scenario}": ${JSON.stringify(m.helloAround)}`);
      // A 0.6 s PGlite buy run may complete no pair: a ratio of 0, still a ratio.
      assert.equal(typeof m.ratios?.nextToIt, 'number', `no ratio next to it for "${m.scenario}"`);
    }
    // The reads ran in two parts between three hello-world runs, measured as one: both parts'
    // requests and time, rated against the mean of the three.
    for (const m of report.nova.filter((row) => row.pairsPerSecond === undefined && !row.longPoll)) {
      const runs = m.helloAround?.runs ?? [];
      assert.equal(runs.length, 3, `"${m.scenario}" did not run in 2 parts between 3 hello-world runs: ${JSON.stringify(m.helloAround)}`);
      assert.ok(runs.every((rate) => typeof rate === 'number' && rate > 0), `a hello-world run around "${m.scenario}" failed: ${JSON.stringify(runs)}`);
      assert.ok(m.durationSeconds >= 2 * 0.3 * 0.9, `"${m.scenario}" measured ${m.durationSeconds} s, not both parts`);
      const meanHello = (runs as number[]).reduce((a, b) => a + b, 0) / runs.length;
      const rate = m.requests / m.durationSeconds;
      assert.ok(Math.abs(m.ratios!.nextToIt! - rate / meanHello) <= 0.05 * (rate / meanHello) + 0.001, `"${m.scenario}": next to it ${m.ratios!.nextToIt} is not its rate over the mean of its hello-world runs (${rate / meanHello})`);
    }
  });
});
