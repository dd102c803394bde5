import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
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
  /** PostgreSQL only: the connection pool's use right now (metrics). PGlite is one in-process connection, no pool. */
  poolUse?(): PoolUse;
}

export interface PoolUse {
  /** Connections open (idle or in use), and the most the pool opens. */
  total: number;
  max: number;
  idle: number;
  /** Queries waiting for a connection because all `max` are in use. */
  waiting: number;
}

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

// PostgreSQL reports a failed serialization or a deadlock with these codes; the work is safe to retry.
const retryableSqlStates = new Set(['40001', '40P01']);

// How long to wait for a new connection (or a free one in a full pool) before giving up with 503.
const connectTimeoutMs = 3_000;

// Callbacks to run once the transaction a handle belongs to has committed.
type CommitCallback = () => void | Promise<void>;
const commitCallbacks = new WeakMap<object, CommitCallback[]>();

// The longest a transaction's caller waits for its after-commit callbacks (a publish to Redis that
// does not answer): the change is committed either way, and the answer must not hang on a cache message.
const commitCallbackWaitMs = 250;

/**
 * Runs `callback` after the transaction of `tx` commits, and never if it rolls back: live
 * notifications must not announce a change that did not happen.
 */
export function afterCommit(tx: Db, callback: CommitCallback): void {
  const callbacks = commitCallbacks.get(tx);
  if (!callbacks) throw new Error('afterCommit() needs a handle from Database.transaction()');
  callbacks.push(callback);
}

/**
 * Runs the callbacks of a committed transaction and waits (briefly) for the ones that return a
 * promise: a change published to other instances' caches is on its way to them before the caller
 * answers, so a client that next asks another instance reads what it just did.
 */
async function runCommitCallbacks(callbacks: CommitCallback[]): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const callback of callbacks) {
    try {
      const outcome = callback();
      if (outcome) pending.push(outcome.catch(() => {}));
    } catch {
      // The change is committed; a failing listener must not turn it into an error answer.
    }
  }
  if (pending.length === 0) return;
  // A plain timer, cleared: an aborted timers/promises sleep would build an AbortError (a stack
  // trace) on every transaction, for nobody.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, commitCallbackWaitMs)))]);
  clearTimeout(timer);
}

type RunInTransaction = <T>(work: (tx: Db) => Promise<T>) => Promise<T>;

function withRetry(runInTransaction: RunInTransaction) {
  return async function transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const callbacks: CommitCallback[] = [];
      try {
        const result = await runInTransaction(async (tx) => {
          commitCallbacks.set(tx, callbacks);
          return work(tx);
        });
        await runCommitCallbacks(callbacks);
        return result;
      } catch (error) {
        if (attempt < 5 && retryableSqlStates.has(sqlStateOf(error) ?? '')) continue;
        throw error;
      }
    }
  };
}

/**
 * PostgreSQL: where a transaction on a pooled connection stands. The pool runs node-postgres in
 * pipeline mode: a statement goes out without waiting for the answer to the one before. So the
 * BEGIN travels with the transaction's first statement, and a COMMIT can travel right behind its
 * last one (lastStatementOf): one round trip fewer at each end, and a lock the last statement
 * takes (a company's balance row) is held only while the server runs it and commits, not while
 * the answer crosses to this process and waits its turn in a busy event loop.
 */
interface PgTransaction {
  /** Statements sent so far (sendAhead tells by it whether a call sent one at once). */
  sent: number;
  /** The BEGIN, sent with the first statement (none when the transaction ran no statement). */
  begun: Promise<pg.QueryResult> | null;
  /** lastStatementOf(tx) was called: the next statement goes out with COMMIT right behind it. */
  commitBehindNext: boolean;
  /** That COMMIT, once sent (PostgreSQL answers ROLLBACK to it when a statement before it failed). */
  commit: Promise<pg.QueryResult> | null;
}

// The transaction each pooled connection runs right now, and the one each transaction handle belongs to.
const openTransactions = new WeakMap<pg.PoolClient, PgTransaction>();
const transactionOfHandle = new WeakMap<Db, PgTransaction>();
const queriesWatched = new WeakSet<pg.PoolClient>();

/**
 * Every query of a pooled connection passes here (once per connection): the first statement of
 * a transaction goes out behind its BEGIN, and the statement that lastStatementOf marked with
 * its COMMIT behind it. The statements a transaction sends in one tick (BEGIN and the first,
 * what sendAhead sends behind a statement, the last and its COMMIT) leave in one write: the
 * socket stays corked until the next tick, so they cost one system call and one wake-up of the
 * server, not one each (on a busy 2-core machine those writes were the largest part of a
 * purchase's CPU in this process). A statement after that COMMIT is refused, since it
 * would run outside the transaction. Drizzle, prepared statements and raw queries all end in
 * `client.query`; in pipeline mode it writes at once, without waiting for earlier answers.
 */
function watchQueries(client: pg.PoolClient): void {
  if (queriesWatched.has(client)) return;
  queriesWatched.add(client);
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const socket = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
  let corked = false;
  const corkUntilNextTick = () => {
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(() => {
      corked = false;
      socket.uncork();
    });
  };
  (client as unknown as { query: (...args: unknown[]) => Promise<pg.QueryResult> }).query = (...args) => {
    const transaction = openTransactions.get(client);
    if (!transaction) return query(...args);
    if (transaction.commit) throw new Error('A statement after the last statement of a transaction (its COMMIT is already sent)');
    corkUntilNextTick();
    if (!transaction.begun) {
      transaction.begun = query('begin');
      // Awaited by the transaction; a BEGIN that fails (a dead connection) fails this statement too.
      transaction.begun.catch(() => {});
    }
    const result = query(...args);
    transaction.sent++;
    if (transaction.commitBehindNext) {
      transaction.commitBehindNext = false;
      transaction.commit = query('commit');
      // Awaited by the transaction itself; a failure here also fails the statement before it.
      transaction.commit.catch(() => {});
    }
    return result;
  };
}

/**
 * Marks the next statement on `tx` as the transaction's last: on PostgreSQL its COMMIT goes out
 * right behind it, in the same round trip. Use it only where nothing can follow that statement
 * in the transaction (a later statement throws), and only with a statement that fails, not
 * returns nothing, when the transaction must not commit: the COMMIT is already on its way, and
 * only an error before it turns it into a ROLLBACK. On PGlite (one in-process connection, no
 * round trip to save) it changes nothing. Returns `tx`.
 */
export function lastStatementOf(tx: Db): Db {
  const transaction = transactionOfHandle.get(tx);
  if (transaction && !transaction.commit) transaction.commitBehindNext = true;
  return tx;
}

/**
 * Calls `first`, which sends one statement on `tx`, then runs `rest` without waiting for that
 * statement's answer when it went out during the call (PostgreSQL: the pipeline sends at once, so
 * every statement `rest` sends runs after it, in order, in the same round trip). Otherwise
 * (PGlite, or a `first` that awaits something before its statement) it waits for the answer
 * first, so the order holds either way. Resolves with what `rest` resolves to, once both are
 * done. When `rest` fails, a failure of `first` wins: a failed statement fails every later one of
 * its transaction ("current transaction is aborted"), and its own error is the one that says why.
 */
export async function sendAhead<R>(tx: Db, first: () => Promise<unknown>, rest: () => Promise<R>): Promise<R> {
  const transaction = transactionOfHandle.get(tx);
  const before = transaction?.sent;
  const answer = first();
  if (!transaction || transaction.sent === before) await answer;
  // Awaited below; this only keeps a failure from counting as unhandled while `rest` runs.
  else answer.catch(() => {});
  let result: R;
  try {
    result = await rest();
  } catch (error) {
    await answer;
    throw error;
  }
  await answer;
  return result;
}

/** True when lastStatementOf(tx) would send the COMMIT with the next statement: a PostgreSQL transaction whose COMMIT has not gone out yet. */
export function canCommitWithNextStatement(tx: Db): boolean {
  const transaction = transactionOfHandle.get(tx);
  return transaction !== undefined && !transaction.commit;
}

/** True once the COMMIT of `tx`'s transaction went out behind its last statement (nothing more may run in it). */
export function commitSent(tx: Db): boolean {
  return transactionOfHandle.get(tx)?.commit != null;
}

/**
 * A transaction on a connection of the pool, given back whatever happens. Not Drizzle's own
 * `transaction()`: it sends BEGIN before its try block, so a connection found dead at BEGIN (the
 * server just restarted) was never released, and each one held a pool slot for good until the
 * pool ran dry. A connection whose ROLLBACK fails is closed rather than reused, and the error the
 * caller sees is the one that ended the work, not the failed ROLLBACK's.
 */
function pgTransactions(pool: pg.Pool): RunInTransaction {
  // One Drizzle handle per pooled connection, made once (building it is not free, and the pool
  // hands out the same few connections again and again); each transaction gets an object of its
  // own on top of it, because code keys per-transaction state by the handle (afterCommit, the
  // catalog's announce-once).
  const handles = new WeakMap<pg.PoolClient, Db>();
  const drizzleOn = (client: pg.PoolClient): Db => {
    let handle = handles.get(client);
    if (!handle) handles.set(client, (handle = drizzlePg(client) as unknown as Db));
    return Object.create(handle) as Db;
  };
  return async (work) => {
    const client = await pool.connect();
    watchQueries(client);
    // BEGIN goes out with the first statement (watchQueries): a transaction that runs none sends nothing.
    const transaction: PgTransaction = { sent: 0, begun: null, commitBehindNext: false, commit: null };
    openTransactions.set(client, transaction);
    let broken = false;
    try {
      const tx = drizzleOn(client);
      transactionOfHandle.set(tx, transaction);
      const result = await work(tx);
      if (!transaction.begun) return result;
      await transaction.begun;
      if (!transaction.commit) await client.query('commit');
      else if ((await transaction.commit).command !== 'COMMIT') {
        // Only when `work` swallowed the error of a statement: PostgreSQL rolled the transaction back.
        throw new Error('The transaction was rolled back: a statement in it failed');
      }
      return result;
    } catch (error) {
      if (!transaction.commit) {
        if (transaction.begun) await client.query('rollback').catch(() => (broken = true));
        throw error;
      }
      // The COMMIT went out behind the last statement: there is nothing left to roll back.
      const ended = await transaction.commit.catch(() => {
        broken = true;
        return null;
      });
      if (ended?.command === 'COMMIT') {
        // Something failed after the last statement (a bug: see lastStatementOf), yet the change is committed.
        throw new Error('The transaction committed, but the work after its last statement failed', { cause: error });
      }
      throw error;
    } finally {
      openTransactions.delete(client);
      client.release(broken);
    }
  };
}

export interface OpenDatabaseOptions {
  /** PostgreSQL server URL; without it the embedded PGlite engine is used. */
  databaseUrl?: string;
  /** Folder for the embedded database; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
  /**
   * Embedded engine only: start from this snapshot of a data folder (PGlite `dumpDataDir`) instead
   * of an empty one, and with the engine's WebAssembly already compiled. The test suite starts
   * hundreds of servers; each would otherwise run initdb and every migration again (most of a
   * test server's start-up). Migrations newer than the snapshot still run.
   */
  pgliteStart?: { snapshot: Blob; wasmModule?: WebAssembly.Module; fsBundle?: Blob };
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
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // A database that does not answer (host gone, packets dropped) fails the request within
      // this long as 503 instead of holding it; a refused connection fails at once anyway.
      connectionTimeoutMillis: connectTimeoutMs,
      // Notices a connection that died without a word (a network cut) instead of trusting it for hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Statements go out without waiting for the answer to the one before (see PgTransaction).
      pipeline: true,
    } as pg.PoolConfig);
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // Nor may one that is checked out between two queries (a transaction awaiting other work when
    // the server restarts): pg emits 'error' on the client, which the pool only listens to while
    // it is idle. Its next query fails instead, and the pool drops the client on release.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = drizzlePg(pool) as unknown as Db;
    await migrateExclusively(pool);
    return {
      db,
      kind: 'postgres',
      transaction: withRetry(pgTransactions(pool)),
      close: () => pool.end(),
      poolUse: () => ({ total: pool.totalCount, max: pool.options.max ?? 10, idle: pool.idleCount, waiting: pool.waitingCount }),
    };
  }

  let dataDir = options.dataDir;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    dataDir = path.resolve(dataDir, 'pglite');
  }
  // Loaded only for the embedded engine: a server on PostgreSQL does not carry PGlite's code in memory.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const start = options.pgliteStart;
  const client = start
    ? await PGlite.create({ dataDir, loadDataDir: start.snapshot, pgliteWasmModule: start.wasmModule, fsBundle: start.fsBundle })
    : await PGlite.create(dataDir);
  const db = drizzlePglite(client) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  const pgliteTransactions: RunInTransaction = (work) => db.transaction((tx) => work(tx as unknown as Db));
  return { db, kind: 'pglite', pglite: client, transaction: withRetry(pgliteTransactions), close: () => client.close() };
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

const dialect = new PgDialect();

// The SQL of every prepared statement the modules define (at import), for the test that plans
// each one as PostgreSQL will after a few runs: generically, with its values unknown.
const preparedTexts: ((db: Db) => string)[] = [];

/** The SQL text of each statement made by preparedStatement or preparedQuery in the modules loaded so far. */
export function preparedStatementTexts(db: Db): string[] {
  return preparedTexts.map((text) => text(db));
}

/**
 * A hot statement, compiled once and run as a named prepared statement: on PostgreSQL each pooled
 * connection parses and plans it once, then only binds and runs it (the statements of purchases
 * and finishes spent about as long being planned as being run, and building their SQL text was
 * a good part of the server's own time). Values go in through `sql.placeholder(name)`, so each
 * `name` always carries the same text: an optional clause makes a second statement. PGlite runs
 * it like `db.execute()`. Drizzle's execute() takes no name; its session's prepareQuery does.
 */
export function preparedStatement(name: string, query: SQL): (db: Db, values: Record<string, unknown>) => Promise<unknown> {
  const compiled = dialect.sqlToQuery(query);
  preparedTexts.push(() => compiled.sql);
  return (db, values) => db._.session.prepareQuery(compiled, undefined, name, false).execute(values);
}

/**
 * A Drizzle query built and prepared once per database handle, then executed with `values` by
 * placeholder name (`sql.placeholder`), its rows mapped as Drizzle maps them. Building a query is
 * most of Drizzle's cost on a hot path. Kept per session, that is per pooled connection (see
 * pgTransactions), so a statement is built a few times in the life of the process; on PostgreSQL
 * the name makes it a server-side prepared statement of that connection.
 */
export function preparedQuery<T>(build: (db: Db) => { execute(values?: Record<string, unknown>): Promise<T>; getQuery(): { sql: string } }) {
  preparedTexts.push((db) => build(db).getQuery().sql);
  // By session: a transaction's handle is new each time, its connection's session is not.
  const prepared = new WeakMap<object, { execute(values?: Record<string, unknown>): Promise<T> }>();
  return (db: Db, values: Record<string, unknown>): Promise<T> => {
    const session = db._.session as object;
    let query = prepared.get(session);
    if (!query) prepared.set(session, (query = build(db)));
    return query.execute(values);
  };
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

/** True when a statement refused its change through nova_refuse (SQLSTATE NV001, migration 0006). */
export function isRefusedStatement(error: unknown): boolean {
  return sqlStateOf(error) === 'NV001';
}

/** True when PostgreSQL (or PGlite) refused a row for a unique constraint (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}

// PostgreSQL's own words for "not now": connection exceptions (class 08), the server shutting
// down or crashed (57P01, 57P02), starting up (57P03), and no connection slot left (53300).
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres and its pool say so in messages without a code.
const unavailableDriverMessages = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
];
// The socket to the server failed: refused, reset, unreachable, or its name did not resolve.
const unavailableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when `error` means the database server cannot be reached right now (down, restarting,
 * out of connections), as opposed to a query it refused: the request may succeed if retried
 * in a moment, so it is answered 503, not 500. Looks through Drizzle's wrapper (`cause`) and
 * the several attempts of one connect (`AggregateError`).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const pending: unknown[] = [error];
  for (let depth = 0; pending.length > 0 && depth < 10; depth++) {
    const e = pending.shift() as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null;
    if (!e || typeof e !== 'object') continue;
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    const attempts = Array.isArray(e.errors) ? (e.errors as unknown[]) : [];
    if (unavailableSqlStates.has(code) || /^08[0-9A-Z]{3}$/.test(code) || unavailableSocketCodes.has(code)) return true;
    if (unavailableDriverMessages.some((text) => message.startsWith(text))) return true;
    // fetch() failures carry a socket error as their cause too; those are another server's, not ours.
    if (e instanceof TypeError && message === 'fetch failed') continue;
    pending.push(e.cause, ...attempts);
  }
  return false;
}
