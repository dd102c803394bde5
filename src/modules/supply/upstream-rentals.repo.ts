import { and, desc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { phoneNumbers, providers, remoteLeases } from './supply.tables.ts';

/*
 * Numbers rented from upstream providers (issue 11) are remote_leases rows like an activation's
 * lease, told apart by their remote_id "rent:<upstream rental id>" (activation_id stays null).
 * While sold, their number's busy_rental_id names the rental; the rental's end writes the lease's
 * finish_status in its transaction (completed = finished, cancelled, expired; released = never sold).
 */
const rentPrefix = 'rent:';

export const isRentLease = (remoteId: string) => remoteId.startsWith(rentPrefix);
export const upstreamRentId = (remoteId: string) => remoteId.slice(rentPrefix.length);
export const rentLeaseRemoteId = (upstreamId: string) => `${rentPrefix}${upstreamId}`;

const isRent = sql`${remoteLeases.remoteId} like 'rent:%'`;

/** Enabled upstream providers of a kind (their settings say whether they rent), oldest first. */
export function listEnabledProviders(db: Db, kind: string) {
  return db
    .select()
    .from(providers)
    .where(and(eq(providers.kind, kind), eq(providers.enabled, true)))
    .orderBy(providers.id);
}

/** Locks the number an upstream rented us for the sale: free of activations and rentals. */
export async function lockRentedNumber(tx: Db, numberId: number) {
  const rows = await tx
    .select()
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.id, numberId), isNull(phoneNumbers.busyActivationId), isNull(phoneNumbers.busyRentalId), isNull(phoneNumbers.retiredAt)))
    .for('update');
  return rows[0] ?? null;
}

/** The open rental lease on a number (at most one: the number is held by one rental at a time). */
export async function findOpenRentLease(db: Db, numberId: number) {
  const rows = await db
    .select({ lease: remoteLeases, provider: providers })
    .from(remoteLeases)
    .innerJoin(providers, eq(providers.id, remoteLeases.providerId))
    .where(and(eq(remoteLeases.numberId, numberId), isRent, isNull(remoteLeases.finishStatus)))
    .orderBy(desc(remoteLeases.id))
    .limit(1);
  return rows[0] ?? null;
}

/** Records how the rental on a number ended on its open lease; false when the number has none (a local number). */
export async function finishRentLeaseOfNumber(tx: Db, numberId: number, finishStatus: string): Promise<boolean> {
  const rows = await tx
    .update(remoteLeases)
    .set({ finishStatus })
    .where(and(eq(remoteLeases.numberId, numberId), isRent, isNull(remoteLeases.finishStatus)))
    .returning({ id: remoteLeases.id });
  return rows.length > 0;
}

/** A lease never sold (the sale failed): give it back. */
export async function releaseRentLease(db: Db, leaseId: number) {
  await db
    .update(remoteLeases)
    .set({ finishStatus: 'released' })
    .where(and(eq(remoteLeases.id, leaseId), isRent, isNull(remoteLeases.finishStatus)));
}

/** Sold rental leases (their number held by a rental) still open: polled for messages. */
export function activeRentLeases(db: Db, limit: number) {
  return db
    .select({ lease: remoteLeases, provider: providers, e164: phoneNumbers.e164 })
    .from(remoteLeases)
    .innerJoin(providers, eq(providers.id, remoteLeases.providerId))
    .innerJoin(phoneNumbers, eq(phoneNumbers.id, remoteLeases.numberId))
    .where(and(isRent, isNull(remoteLeases.finishStatus), sql`${phoneNumbers.busyRentalId} is not null`))
    .orderBy(remoteLeases.id)
    .limit(limit);
}

/** Claims an open rental lease for one status call (as claimLease does for activations' leases). */
export async function claimRentLease(db: Db, leaseId: number, now: Date, claimUntil: Date): Promise<boolean> {
  const rows = await db
    .update(remoteLeases)
    .set({ claimedUntil: claimUntil })
    .where(
      and(
        eq(remoteLeases.id, leaseId),
        isRent,
        isNull(remoteLeases.finishStatus),
        or(isNull(remoteLeases.claimedUntil), lte(remoteLeases.claimedUntil, now)),
      ),
    )
    .returning({ id: remoteLeases.id });
  return rows.length === 1;
}

export async function releaseRentLeaseClaim(db: Db, leaseId: number, claimUntil: Date) {
  await db
    .update(remoteLeases)
    .set({ claimedUntil: null })
    .where(and(eq(remoteLeases.id, leaseId), eq(remoteLeases.claimedUntil, claimUntil)));
}

/** Rental leases never sold (the process died between renting and selling): give them back. */
export async function releaseStrandedRentLeases(db: Db, leasedBefore: Date) {
  await db
    .update(remoteLeases)
    .set({ finishStatus: 'released' })
    .where(
      and(
        isRent,
        isNull(remoteLeases.finishStatus),
        sql`${remoteLeases.createdAt} < ${leasedBefore.toISOString()}`,
        sql`not exists (select 1 from ${phoneNumbers} n where n.id = ${remoteLeases.numberId} and n.busy_rental_id is not null)`,
      ),
    );
}
