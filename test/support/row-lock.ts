import type { SQL } from 'drizzle-orm';
import type { Database } from '../../src/db/database.ts';

/**
 * Runs `lockingQuery` (a `select … for update` or the like) in a transaction of its own and keeps
 * that transaction open, so the lock stays held, until `release()`; resolves once the lock is taken.
 * For tests that show a request does not wait on a row (PostgreSQL: a second connection).
 */
export async function holdRowLock(database: Database, lockingQuery: SQL): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = database.transaction(async (tx) => {
    await tx.execute(lockingQuery);
    locked();
    await released;
  });
  await Promise.race([isLocked, holder]);
  return {
    async release() {
      release();
      await holder;
    },
  };
}

/** `work`, or 'blocked' when it has not settled within `ms`. */
export function unlessBlocked<T>(work: Promise<T>, ms = 10_000): Promise<T | 'blocked'> {
  return Promise.race([work, new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), ms).unref())]);
}
