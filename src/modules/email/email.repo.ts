import { and, asc, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { emailOutbox } from './email.tables.ts';

export type OutboxRow = typeof emailOutbox.$inferSelect;

export async function insertEmail(db: Db, row: { toAddress: string; subject: string; body: string; createdAt: Date }): Promise<number> {
  const rows = await db.insert(emailOutbox).values(row).returning({ id: emailOutbox.id });
  return rows[0].id;
}

/** Unsent emails with attempts left, oldest first. */
export function listSendable(db: Db, maxAttempts: number, limit: number): Promise<OutboxRow[]> {
  return db
    .select()
    .from(emailOutbox)
    .where(and(isNull(emailOutbox.sentAt), lt(emailOutbox.attempts, maxAttempts)))
    .orderBy(asc(emailOutbox.id))
    .limit(limit);
}

/** Counts one attempt if nobody else did since `attempts` was read; false when another sender claimed it. */
export async function claimAttempt(db: Db, id: number, attempts: number): Promise<boolean> {
  const claimed = await db
    .update(emailOutbox)
    .set({ attempts: attempts + 1 })
    .where(and(eq(emailOutbox.id, id), eq(emailOutbox.attempts, attempts), isNull(emailOutbox.sentAt)))
    .returning({ id: emailOutbox.id });
  return claimed.length > 0;
}

export async function markSent(db: Db, id: number, sentAt: Date): Promise<void> {
  await db.update(emailOutbox).set({ sentAt, lastError: null }).where(eq(emailOutbox.id, id));
}

export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db.update(emailOutbox).set({ lastError: error }).where(eq(emailOutbox.id, id));
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
