import { and, asc, desc, eq, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { emailOutbox } from './email.tables.ts';

export type OutboxRow = typeof emailOutbox.$inferSelect;

export async function insertEmail(db: Db, row: { toAddress: string; subject: string; body: string; createdAt: Date }): Promise<number> {
  const rows = await db.insert(emailOutbox).values(row).returning({ id: emailOutbox.id });
  return rows[0].id;
}

/**
 * Takes the oldest unsent email after `afterId` with attempts left that nobody is sending: locks
 * it (skipping one another instance is claiming), counts the attempt and holds it until
 * `claimUntil`. Once this commits, other instances pass it by until it is sent, fails, or the
 * claim runs out (its sender died mid-send: then it goes again, at least once rather than never).
 */
export async function claimNextEmail(
  tx: Db,
  input: { afterId: number; now: Date; claimUntil: Date; maxAttempts: number },
): Promise<OutboxRow | null> {
  const { now, claimUntil, maxAttempts } = input;
  const [row] = await tx
    .select()
    .from(emailOutbox)
    .where(
      and(
        gt(emailOutbox.id, input.afterId),
        isNull(emailOutbox.sentAt),
        lt(emailOutbox.attempts, maxAttempts),
        or(isNull(emailOutbox.claimedUntil), lte(emailOutbox.claimedUntil, now)),
      ),
    )
    .orderBy(asc(emailOutbox.id))
    .limit(1)
    .for('update', { skipLocked: true });
  if (!row) return null;
  await tx.update(emailOutbox).set({ attempts: row.attempts + 1, claimedUntil: claimUntil }).where(eq(emailOutbox.id, row.id));
  return { ...row, attempts: row.attempts + 1, claimedUntil: claimUntil };
}

export async function markSent(db: Db, id: number, sentAt: Date): Promise<void> {
  await db.update(emailOutbox).set({ sentAt, lastError: null, claimedUntil: null }).where(eq(emailOutbox.id, id));
}

/** The attempt failed: the error is kept and the claim let go, so the next pass tries again. */
export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db.update(emailOutbox).set({ lastError: error, claimedUntil: null }).where(eq(emailOutbox.id, id));
}

/** Unsent emails queued after `afterId`, oldest first. */
export function listUnsentAfter(db: Db, afterId: number, limit: number): Promise<OutboxRow[]> {
  return db
    .select()
    .from(emailOutbox)
    .where(and(isNull(emailOutbox.sentAt), gt(emailOutbox.id, afterId)))
    .orderBy(asc(emailOutbox.id))
    .limit(limit);
}

/** The outbox newest first, optionally to one address (case-insensitive). */
export function listOutbox(db: Db, filter: { to?: string; limit: number }): Promise<OutboxRow[]> {
  return db
    .select()
    .from(emailOutbox)
    .where(filter.to === undefined ? undefined : sql`lower(${emailOutbox.toAddress}) = ${filter.to.trim().toLowerCase()}`)
    .orderBy(desc(emailOutbox.id))
    .limit(filter.limit);
}
