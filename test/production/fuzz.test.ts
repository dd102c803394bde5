import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type FuzzTarget, fuzzServerEnv, prepareTarget, runFuzz } from '../../scripts/fuzz.ts';
import { type TestServer, startTestServer } from '../support/test-server.ts';

/**
 * A seeded share of `npm run fuzz` (scripts/fuzz.ts) in every test run: hostile requests across
 * every route the app lists. NOVA_FUZZ_SEED and NOVA_FUZZ_COUNT try other inputs; a failure names
 * the request index, which `npm run fuzz -- --seed S --only I` replays.
 */

const seed = Number(process.env.NOVA_FUZZ_SEED ?? 2026);
const count = Number(process.env.NOVA_FUZZ_COUNT ?? 1000);

let server: TestServer;
let target: FuzzTarget;

before(async () => {
  server = await startTestServer({ env: fuzzServerEnv });
  target = await prepareTarget(server);
});

after(async () => {
  await server?.close();
});

describe('hostile input (seeded fuzz run)', () => {
  it(`answers ${count} hostile requests (seed ${seed}) without a 5xx, always in the envelope on the JSON APIs, and keeps serving`, async () => {
    assert.ok(target.routes.length > 50, `only ${target.routes.length} routes listed`);
    const report = await runFuzz(target, { count, seed, concurrency: 4 });
    const findings = report.findings.map((f) => `#${f.index} ${f.problem}: ${f.method} ${f.url} → ${f.status} ${f.answer}\n    request: ${f.request}`);
    assert.deepEqual(findings, [], `replay with: npm run fuzz -- --seed ${seed} --only ${report.findings.map((f) => f.index).join(',')}`);
    assert.equal(report.serverErrors, 0);
    assert.equal(report.nonEnvelope, 0);
    assert.equal(report.noAnswer, 0);
    assert.ok(report.alive, 'the server no longer answers /healthz or an authenticated /api/v1/balance');
    // The run got past authentication: it is not a thousand times 401.
    assert.ok((report.statuses['200'] ?? 0) > count / 20, `few successful answers: ${JSON.stringify(report.statuses)}`);
  });
});
