import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.ts';

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

/** A fresh (migrated, when the run has a template) PostgreSQL database of its own, so parallel test files and runs never collide. */
export async function createScratchDatabase(options: { empty?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('nova_test');
  const admin = new pg.Client({ connectionString: adminPgUrl });
  await admin.connect();
  // A run's migrated template (test/run-tests.ts) saves each server running every migration again.
  // `empty`: for the tests of migrating a new database itself.
  const template = options.empty ? undefined : process.env.NOVA_TEST_PG_TEMPLATE;
  await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
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

/**
 * A migrated database for a whole run to copy (CREATE DATABASE … TEMPLATE): test/run-tests.ts makes
 * one before the PostgreSQL pass and passes its name in NOVA_TEST_PG_TEMPLATE.
 */
export async function createMigratedTemplate(): Promise<{ name: string; drop(): Promise<void> }> {
  const scratch = await createScratchDatabase({ empty: true });
  const database = await openDatabase({ databaseUrl: scratch.url, dataDir: 'memory://', poolSize: 1 });
  await database.close();
  return { name: new URL(scratch.url).pathname.slice(1), drop: scratch.drop };
}
