import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { testRedisUrl, testTarget } from '../support/test-target.ts';

/**
 * A short run of `npm run chaos` (scripts/chaos.ts): three built server processes on one scratch
 * PostgreSQL database (and Redis when the suite has it), mixed load, one instance killed with
 * SIGKILL mid-run and restarted. The script checks the money, numbers, SMS and webhooks
 * afterwards against the database and exits 1 on any violation; the README has the full run.
 */
const root = path.resolve(import.meta.dirname, '../..');
const onServers = testTarget === 'postgres' ? false : 'several processes on one database need a PostgreSQL server (NOVA_TEST_TARGET=postgres)';

describe('chaos: three instances, one killed mid-run', { skip: onServers }, () => {
  it('loses nothing and charges nothing twice when an instance gets SIGKILL under load, and the restarted one serves again', { timeout: 240_000 }, async () => {
    const args = ['--import', 'tsx', 'scripts/chaos.ts', '--seconds', '8', '--kill-at', '2', '--down', '0.5', '--lifetime', '3', '--workers', '4', '--drain', '15'];
    args.push(...(testRedisUrl ? ['--redis', testRedisUrl] : ['--no-redis']));
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output.slice(-6000));

    const summary = JSON.parse(/^chaos summary: (.*)$/m.exec(output)![1]);
    assert.deepEqual(summary.violations, []);
    assert.ok(summary.total > 0 && summary.pushedSms > 0 && summary.demoSms > 0 && summary.webhookDeliveries > 0, `the load did each kind of work: ${JSON.stringify(summary)}`);
    assert.ok(summary.unansweredWhileKilled > 0, 'requests did reach the killed instance (and went to another)');
    assert.ok(summary.restartFirstAnswerMs > 0, 'the killed instance answered again after its restart');
  });
});
