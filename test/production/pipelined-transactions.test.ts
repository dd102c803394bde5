import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { commitSent, type Database, type Db, isRefusedStatement, lastStatementOf, openDatabase, preparedStatement, rowsOf, sendAhead } from '../../src/db/database.ts';
import { createScratchDatabase, testTarget } from '../support/test-target.ts';

/**
 * On PostgreSQL a transaction's BEGIN goes out with its first statement and, after
 * lastStatementOf(tx), its COMMIT with its last (node-postgres pipeline mode): the round trips
 * are counted on the connection's own socket, as the times it writes after having heard the
 * server. Statements a transaction sends in one tick share one write (one system call, one wake-up
 * of the server). The last statement's lock is then held only while the server runs it and commits; a
 * refusal there must still roll back everything before it.
 */
describe('pipelined transactions', { skip: testTarget === 'postgres' ? false : 'needs PostgreSQL (NOVA_TEST_TARGET=postgres)' }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let database: Database;
  // The pool's one connection, watched: how many turns (writes after something was heard) it
  // took, and how many writes (system calls: each wakes the server).
  let turns = 0;
  let writes = 0;
  let heardSinceWrite = true;

  before(async () => {
    scratch = await createScratchDatabase({ empty: true });
    database = await openDatabase({ databaseUrl: scratch.url, dataDir: 'memory://', poolSize: 1 });
    await database.db.execute(sql`create table pipeline_probe (id int primary key, note text not null)`);
    await database.transaction(async (tx) => {
      const socket = (tx._.session as unknown as { client: { connection: { stream: Socket } } }).client.connection.stream;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      const writev = (socket as unknown as { _writev: (...args: unknown[]) => void })._writev.bind(socket);
      // A corked socket hands its buffered messages to _writev at once; single ones go to _write.
      (socket as unknown as { _writev: unknown })._writev = (...args: unknown[]) => {
        writes++;
        return writev(...args);
      };
      const writeOne = (socket as unknown as { _write: (...args: unknown[]) => void })._write.bind(socket);
      (socket as unknown as { _write: unknown })._write = (...args: unknown[]) => {
        writes++;
        return writeOne(...args);
      };
      socket.write = ((...args: unknown[]) => {
        if (heardSinceWrite) turns++;
        heardSinceWrite = false;
        return write(...args);
      }) as typeof socket.write;
      socket.on('data', () => (heardSinceWrite = true));
    });
  });

  after(async () => {
    await database?.close();
    await scratch?.drop();
  });

  // A prepared statement goes out during the call (Drizzle's query builders only once awaited).
  const insertPrepared = preparedStatement('pipeline_probe_insert', sql`insert into pipeline_probe (id, note) values (${sql.placeholder('id')}, ${sql.placeholder('note')})`);
  const insert = (tx: Db, id: number, note: string) => tx.execute(sql`insert into pipeline_probe (id, note) values (${id}, ${note})`);
  const notes = async () => rowsOf<{ note: string }>(await database.db.execute(sql`select note from pipeline_probe order by id`)).map((row) => row.note);

  async function count(work: () => Promise<unknown>): Promise<{ turns: number; writes: number }> {
    turns = 0;
    writes = 0;
    heardSinceWrite = true;
    await work().catch(() => {});
    return { turns, writes };
  }

  it('takes one round trip and one write per statement: BEGIN travels with the first, COMMIT with the last when marked', async () => {
    const marked = await count(() =>
      database.transaction(async (tx) => {
        await insert(tx, 1, 'one');
        await insert(tx, 2, 'two');
        await insert(lastStatementOf(tx), 3, 'three');
      }),
    );
    assert.deepEqual(marked, { turns: 3, writes: 3 }, 'three statements, three round trips, three writes');
    const unmarked = await count(() =>
      database.transaction(async (tx) => {
        await insert(tx, 4, 'four');
        await insert(tx, 5, 'five');
      }),
    );
    assert.deepEqual(unmarked, { turns: 3, writes: 3 }, 'two statements and the COMMIT on its own');
    const empty = await count(() => database.transaction(async () => 'nothing to write'));
    assert.deepEqual(empty, { turns: 0, writes: 0 }, 'a transaction without a statement sends nothing');
    assert.deepEqual(await notes(), ['one', 'two', 'three', 'four', 'five']);
    await database.db.execute(sql`delete from pipeline_probe`);
  });

  it('sends a statement without waiting for its answer: the next one goes out behind it, in the same round trip', async () => {
    const both = await count(() =>
      database.transaction(async (tx) => {
        await sendAhead(
          tx,
          () => insertPrepared(tx, { id: 40, note: 'sent ahead' }),
          () => insert(lastStatementOf(tx), 41, 'behind it, with the COMMIT'),
        );
      }),
    );
    assert.deepEqual(both, { turns: 1, writes: 1 }, 'BEGIN, the first statement, the second and COMMIT: one write, one round trip');
    // A call that sends nothing at once (a query builder runs only when awaited) is waited for: the order holds.
    const lazy = await count(() =>
      database.transaction(async (tx) => {
        await sendAhead(
          tx,
          () => insert(tx, 42, 'lazy, so waited for') as Promise<unknown>,
          () => insert(lastStatementOf(tx), 43, 'after it'),
        );
      }),
    );
    assert.deepEqual(lazy, { turns: 2, writes: 2 });
    assert.deepEqual(await notes(), ['sent ahead', 'behind it, with the COMMIT', 'lazy, so waited for', 'after it']);
    await database.db.execute(sql`delete from pipeline_probe`);
  });

  it('gives the error of a statement sent ahead, not the one it caused behind it, and commits nothing', async () => {
    const failure = await database
      .transaction(async (tx) => {
        await insert(tx, 50, 'before');
        await sendAhead(
          tx,
          () => insertPrepared(tx, { id: 51, note: null }),
          () => insert(lastStatementOf(tx), 52, 'behind the broken one'),
        );
      })
      .then(
        () => null,
        (error: Error & { cause?: { code?: string } }) => error,
      );
    assert.equal(failure?.cause?.code, '23502', `the not-null violation itself (got ${String(failure)})`);
    assert.deepEqual(await notes(), [], 'the transaction rolled back');
  });

  it('rolls everything back when the last statement fails, and the connection serves the next transaction', async () => {
    const refused = await database
      .transaction(async (tx) => {
        await insert(tx, 10, 'kept only if the last statement succeeds');
        await lastStatementOf(tx).execute(sql`select nova_refuse('refused on purpose')`);
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.ok(isRefusedStatement(refused), `the refusal reaches the caller (got ${String(refused)})`);
    assert.deepEqual(await notes(), [], 'nothing of the transaction was committed');

    await database.transaction(async (tx) => insert(lastStatementOf(tx), 11, 'next'));
    assert.deepEqual(await notes(), ['next']);
    await database.db.execute(sql`delete from pipeline_probe`);
  });

  it('refuses a statement after the last one and says that the transaction committed', async () => {
    let sent: boolean | undefined;
    const failure = await database
      .transaction(async (tx) => {
        await insert(lastStatementOf(tx), 20, 'committed with its COMMIT');
        sent = commitSent(tx);
        await insert(tx, 21, 'never written');
      })
      .then(
        () => null,
        (error: Error) => error,
      );
    assert.equal(sent, true);
    assert.match(String(failure?.message), /committed, but the work after its last statement failed/);
    // Drizzle wraps the refusal ("Failed query: …"); the reason is down its causes.
    const reasons: string[] = [];
    for (let cause = failure?.cause as Error | undefined; cause; cause = cause.cause as Error | undefined) reasons.push(cause.message);
    assert.ok(reasons.some((reason) => /after the last statement of a transaction/.test(reason)), reasons.join(' / '));
    assert.deepEqual(await notes(), ['committed with its COMMIT']);
    await database.db.execute(sql`delete from pipeline_probe`);
  });

  it('rolls back a transaction whose first statement fails right behind its BEGIN', async () => {
    const failure = await database
      .transaction(async (tx) => {
        await tx.execute(sql`insert into pipeline_probe (id, note) values (30, null)`);
      })
      .then(
        () => null,
        (error: Error) => error,
      );
    assert.ok(failure, 'the not-null violation reaches the caller');
    await database.transaction(async (tx) => insert(tx, 31, 'after the failure'));
    assert.deepEqual(await notes(), ['after the failure']);
  });
});
