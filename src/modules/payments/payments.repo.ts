import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { payments } from './payments.tables.ts';

export type NewPayment = typeof payments.$inferInsert;

export async function insertPayment(db: Db, payment: NewPayment): Promise<void> {
  await db.insert(payments).values(payment);
}

/** Marks a pending payment credited; null when it is unknown or was credited already (a replay). */
export async function markPendingPaymentCredited(tx: Db, externalId: string, at: Date) {
  const rows = await tx
    .update(payments)
    .set({ status: 'credited', creditedAt: at })
    .where(and(eq(payments.externalId, externalId), eq(payments.status, 'pending')))
    .returning();
  return rows[0] ?? null;
}
