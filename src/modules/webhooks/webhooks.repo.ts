import { and, arrayContains, desc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';
import { webhookDeliveries, webhookEndpoints, type WebhookDeliveryStatus } from './webhooks.tables.ts';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type NewEndpoint = typeof webhookEndpoints.$inferInsert;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewDelivery = typeof webhookDeliveries.$inferInsert;

export async function insertEndpoint(db: Db, input: NewEndpoint): Promise<EndpointRow> {
  const rows = await db.insert(webhookEndpoints).values(input).returning();
  return rows[0];
}

export async function listEndpoints(db: Db, companyId: number): Promise<EndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.companyId, companyId), isNull(webhookEndpoints.deletedAt)))
    .orderBy(webhookEndpoints.id);
}

export async function findEndpoint(db: Db, id: number): Promise<EndpointRow | null> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.deletedAt)));
  return rows[0] ?? null;
}

/** Live endpoints of a company that asked for `eventType`. */
/** Whether the company has any live (not deleted) endpoint, whatever its events. */
export async function companyHasLiveEndpoint(db: Db, companyId: number): Promise<boolean> {
  const rows = await db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.companyId, companyId), isNull(webhookEndpoints.deletedAt)))
    .limit(1);
  return rows.length > 0;
}

export async function listSubscribedEndpoints(db: Db, companyId: number, eventType: string): Promise<EndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.companyId, companyId),
        isNull(webhookEndpoints.deletedAt),
        arrayContains(webhookEndpoints.events, [eventType]),
      ),
    )
    .orderBy(webhookEndpoints.id);
}

export async function setBalanceLowNotified(db: Db, endpointId: number, notified: boolean): Promise<void> {
  await db.update(webhookEndpoints).set({ balanceLowNotified: notified }).where(eq(webhookEndpoints.id, endpointId));
}

/** Soft delete (the delivery log stays readable in the database) and stop its pending deliveries. */
export async function deleteEndpoint(db: Db, id: number, now: Date): Promise<void> {
  await db.update(webhookEndpoints).set({ deletedAt: now }).where(eq(webhookEndpoints.id, id));
  await db
    .update(webhookDeliveries)
    .set({ status: 'failed', nextAttemptAt: null, lastError: 'endpoint deleted' })
    .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, 'pending')));
}

export async function insertDelivery(db: Db, input: NewDelivery): Promise<DeliveryRow> {
  const rows = await db.insert(webhookDeliveries).values(input).returning();
  return rows[0];
}

export async function findDelivery(db: Db, id: number): Promise<DeliveryRow | null> {
  const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return rows[0] ?? null;
}

export async function listDeliveries(db: Db, endpointId: number, page: { limit: number; offset: number }): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.id))
    .limit(page.limit)
    .offset(page.offset);
}

export interface ClaimedDelivery {
  delivery: DeliveryRow;
  url: string;
  secret: string;
}

/**
 * Takes up to `limit` due deliveries for this worker: locks them (rows another worker holds are
 * skipped, not waited for), counts the attempt and pushes `next_attempt_at` to `leaseUntil`, so
 * once this transaction commits no other instance sees them as due while we send. Only a crash
 * mid-send lets the lease run out and the delivery go again (at least once, never in parallel).
 */
export async function claimDueDeliveries(tx: Db, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const rows = await tx
    .select({ delivery: webhookDeliveries, url: webhookEndpoints.url, secret: webhookEndpoints.secret })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now), isNull(webhookEndpoints.deletedAt)))
    .orderBy(webhookDeliveries.nextAttemptAt)
    .limit(limit)
    .for('update', { of: webhookDeliveries, skipLocked: true });
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.delivery.id);
  await tx
    .update(webhookDeliveries)
    .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: leaseUntil })
    .where(inArray(webhookDeliveries.id, ids));
  return rows.map((row) => ({ ...row, delivery: { ...row.delivery, attempts: row.delivery.attempts + 1 } }));
}

export async function recordAttempt(
  db: Db,
  id: number,
  result: {
    status: WebhookDeliveryStatus;
    lastResponseCode: number | null;
    lastError: string | null;
    nextAttemptAt: Date | null;
    deliveredAt: Date | null;
  },
): Promise<void> {
  // Only a delivery still pending is updated: an endpoint deleted mid-send keeps its "failed".
  await db
    .update(webhookDeliveries)
    .set(result)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
}

/** Deletes up to `limit` finished (delivered or failed) deliveries queued before `before`. */
export async function deleteFinishedDeliveries(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db.execute(sql`
    delete from webhook_deliveries
    where id in (
      select id from webhook_deliveries
      where status <> 'pending' and created_at < ${before.toISOString()}
      limit ${limit})
    returning 1 as gone`);
  return rowsOf(result).length;
}
