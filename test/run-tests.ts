import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

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

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

// What the PostgreSQL pass leaves out: the browser tests check pages (every route under them runs
// on PostgreSQL in the API tests) and the deploy-file test reads files; both targets would repeat
// them for nothing but time (npm test must stay under ~15 minutes on 2 cores).
const sameOnEveryTarget = (file: string) => file.startsWith(path.join('test', 'web-browser')) || file.endsWith('deploy-files.test.ts');

function runSuite(label: string, env: Record<string, string>, suite: string[] = files): boolean {
  console.log(`\n=== Test run: ${label} (${suite.length} files) ===`);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...suite],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } },
  );
  return result.status === 0;
}

let ok = runSuite('embedded PGlite', { NOVA_TEST_TARGET: 'pglite' });

if (await postgresReachable()) {
  const env: Record<string, string> = { NOVA_TEST_TARGET: 'postgres', NOVA_TEST_PG_URL: pgUrl };
  let label = `PostgreSQL at ${pgUrl}`;
  if (await redisReachable()) {
    env.NOVA_TEST_REDIS_URL = redisUrl;
    label += ` with Redis at ${redisUrl}`;
  } else {
    console.log(`\nSKIPPED: Redis is not reachable at ${redisUrl}; the PostgreSQL run uses in-process rate limits.`);
  }
  const left = files.filter(sameOnEveryTarget);
  if (left.length > 0) console.log(`\nSKIPPED on PostgreSQL (ran on PGlite; they test pages and files, not the database): ${left.join(', ')}`);
  const onPostgres = files.filter((file) => !sameOnEveryTarget(file));
  if (onPostgres.length > 0) ok = runSuite(label, env, onPostgres) && ok;
} else {
  console.log(`\nSKIPPED: the PostgreSQL run — no server reachable at ${pgUrl} (set NOVA_TEST_PG_URL).`);
}

process.exitCode = ok ? 0 : 1;
