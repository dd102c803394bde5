import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Which database the suite runs on: the embedded PGlite engine (default) or, with
 * NOVA_TEST_TARGET=postgres, a PostgreSQL server (NOVA_TEST_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/test) and Redis when NOVA_TEST_REDIS_URL is set. test/run-tests.ts
 * runs the suite once per reachable target.
 */
export const testTarget = process.env.NOVA_TEST_TARGET === 'postgres' ? 'postgres' : 'pglite';
export const adminPgUrl = process.env.NOVA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = testTarget === 'postgres' ? process.env.NOVA_TEST_REDIS_URL : undefined;

/**
 * `skip` for suites about the embedded default itself (they start the product on its own PGlite
 * data folder whatever the target): the PostgreSQL pass would repeat them unchanged.
 */
export const embeddedOnly = testTarget === 'postgres' ? 'tests the embedded PGlite default, whatever the target: ran in the PGlite pass' : false;

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh PostgreSQL database of its own, so parallel test files and runs never collide. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('nova_test');
  const admin = new pg.Client({ connectionString: adminPgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminPgUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminPgUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
