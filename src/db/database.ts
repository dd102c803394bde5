import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

/**
 * The database handle every repo takes. A transaction handle has the same type, so a repo
 * function works the same inside or outside a transaction.
 */
export type Db = PgDatabase<PgQueryResultHKT>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The embedded engine, when that is what runs (the CLI socket shares it). */
  pglite?: PGlite;
}

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

// PostgreSQL reports a failed serialization or a deadlock with these codes; the work is safe to retry.
const retryableSqlStates = new Set(['40001', '40P01']);

// Callbacks to run once the transaction a handle belongs to has committed.
const commitCallbacks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `callback` after the transaction of `tx` commits, and never if it rolls back: live
 * notifications must not announce a change that did not happen.
 */
export function afterCommit(tx: Db, callback: () => void): void {
  const callbacks = commitCallbacks.get(tx);
  if (!callbacks) throw new Error('afterCommit() needs a handle from Database.transaction()');
  callbacks.push(callback);
}

function withRetry(db: Db) {
  return async function transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const callbacks: (() => void)[] = [];
      try {
        const result = await db.transaction(async (tx) => {
          commitCallbacks.set(tx, callbacks);
          return work(tx as unknown as Db);
        });
        for (const callback of callbacks) {
          try {
            callback();
          } catch {
            // The change is committed; a failing listener must not turn it into an error answer.
          }
        }
        return result;
      } catch (error) {
        if (attempt < 5 && retryableSqlStates.has(sqlStateOf(error) ?? '')) continue;
        throw error;
      }
    }
  };
}

export interface OpenDatabaseOptions {
  /** PostgreSQL server URL; without it the embedded PGlite engine is used. */
  databaseUrl?: string;
  /** Folder for the embedded database; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
}

// Any fixed number, the same in every instance: the key of the migration lock.
const migrationLockKey = 7_211_000_001;

/**
 * Drizzle's migrator reads the last applied migration and then applies the newer ones: two
 * instances starting together on one database would both apply them and one would fail. The
 * first to take this session lock migrates; the others wait, then find nothing left to do.
 * The lock goes with its connection, so an instance killed mid-migration releases it.
 */
async function migrateExclusively(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLockKey]);
    try {
      await migratePg(drizzlePg(client), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [migrationLockKey]).catch(() => (broken = true));
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection whose state is in doubt is closed rather than handed back to the pool.
    client.release(broken);
  }
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = drizzlePg(pool) as unknown as Db;
    await migrateExclusively(pool);
    return { db, kind: 'postgres', transaction: withRetry(db), close: () => pool.end() };
  }

  let dataDir = options.dataDir;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    dataDir = path.resolve(dataDir, 'pglite');
  }
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  return { db, kind: 'pglite', pglite: client, transaction: withRetry(db), close: () => client.close() };
}

/**
 * True when the database answers a trivial query within `timeoutMs` (readiness probe): an
 * unreachable server must make the probe fail fast, not wait for the driver's own timeouts.
 */
export async function pingDatabase(database: Database, timeoutMs: number): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      database.db.execute(sql`select 1`).then(() => true),
      sleep(timeoutMs, false, { signal: timeout.signal }),
    ]);
  } catch {
    return false;
  } finally {
    timeout.abort();
  }
}

/** Rows of a raw `db.execute(sql...)`: node-postgres and PGlite both return `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** The SQLSTATE of a database error; Drizzle wraps the driver's error as `cause`. */
function sqlStateOf(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

/** True when PostgreSQL (or PGlite) refused a row for a unique constraint (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}
