import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { redisReachable } from './support/local-services.ts';
import pg from 'pg';
import { scanLogDir } from './support/log-scan.ts';
import { writeMigratedSnapshot } from './support/pglite-snapshot.ts';
import { createMigratedTemplate } from './support/test-target.ts';

/**
 * `npm test`: the whole suite on the embedded PGlite database, then the same suite again on
 * PostgreSQL (with Redis for shared rate limits) when those servers are reachable. A skipped
 * run is announced, never silent.
 */
const root = path.resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);
const files = (only.length > 0 ? only : readdirSync(path.join(root, 'test'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('test', f)))
  .filter((file) => file.endsWith('.test.ts'))
  .sort();

const pgUrl = process.env.NOVA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.NOVA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
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

// What the PostgreSQL pass leaves out: the browser tests check pages (every route under them runs
// on PostgreSQL in the API tests) and the deploy-file test reads files; both targets would repeat
// them for nothing but time (npm test must stay under ~15 minutes on 2 cores).
const sameOnEveryTarget = (file: string) => file.startsWith(path.join('test', 'web-browser')) || file.endsWith('deploy-files.test.ts');

// Every test server of this run logs each request here (debug level); the logs are checked for
// leaked credentials after the runs (see test/support/log-scan.ts).
const logDir = mkdtempSync(path.join(os.tmpdir(), 'nova-test-logs-'));

function runSuite(label: string, env: Record<string, string>, suite: string[] = files): boolean {
  console.log(`\n=== Test run: ${label} (${suite.length} files) ===`);
  const result = spawnSync(
    process.execPath,
    [
      '--import', 'tsx', '--test', '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=./test/support/slowest-files-reporter.mjs', '--test-reporter-destination=stdout',
      ...suite,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NOVA_TEST_LOG_DIR: logDir, ...env } },
  );
  return result.status === 0;
}

// Test servers on PGlite start from one migrated snapshot (test/support/pglite-snapshot.ts).
const pgliteSnapshot = path.join(logDir, 'pglite-snapshot.tar');
await writeMigratedSnapshot(pgliteSnapshot);
let ok = runSuite('embedded PGlite', { NOVA_TEST_TARGET: 'pglite', NOVA_TEST_PGLITE_SNAPSHOT: pgliteSnapshot });
rmSync(pgliteSnapshot, { force: true });

if (await postgresReachable()) {
  const env: Record<string, string> = { NOVA_TEST_TARGET: 'postgres', NOVA_TEST_PG_URL: pgUrl };
  let label = `PostgreSQL at ${pgUrl}`;
  if (await redisReachable(redisUrl)) {
    env.NOVA_TEST_REDIS_URL = redisUrl;
    label += ` with Redis at ${redisUrl}`;
  } else {
    console.log(`\nSKIPPED: Redis is not reachable at ${redisUrl}; the PostgreSQL run uses in-process rate limits.`);
  }
  const left = files.filter(sameOnEveryTarget);
  if (left.length > 0) console.log(`\nSKIPPED on PostgreSQL (ran on PGlite; they test pages and files, not the database): ${left.join(', ')}`);
  const onPostgres = files.filter((file) => !sameOnEveryTarget(file));
  if (onPostgres.length > 0) {
    // Each test server's scratch database is a copy of this migrated one.
    const template = await createMigratedTemplate();
    try {
      ok = runSuite(label, { ...env, NOVA_TEST_PG_TEMPLATE: template.name }, onPostgres) && ok;
    } finally {
      await template.drop();
    }
  }
} else {
  console.log(`\nSKIPPED: the PostgreSQL run — no server reachable at ${pgUrl} (set NOVA_TEST_PG_URL).`);
}

/** No credential in any server log of the run, and a request id on every request line. */
async function checkRunLogs(): Promise<boolean> {
  const started = performance.now();
  const scan = await scanLogDir(logDir);
  const took = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\n=== Log check: ${scan.lines} log lines in ${scan.files} server logs, against ${scan.secrets} recorded credentials (${took} s) ===`);
  if (scan.findings.length === 0) {
    rmSync(logDir, { recursive: true, force: true });
    console.log('No credential in the logs; every request line has its request id.');
    return true;
  }
  for (const finding of scan.findings.slice(0, 50)) console.log(`${finding.file}:${finding.line}: ${finding.problem}`);
  if (scan.findings.length > 50) console.log(`… and ${scan.findings.length - 50} more`);
  console.log(`FAILED: ${scan.findings.length} log lines hold a credential or lack a request id; the logs stay in ${logDir}`);
  return false;
}

ok = (await checkRunLogs()) && ok;

process.exitCode = ok ? 0 : 1;
