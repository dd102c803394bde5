import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { countries } from '../catalog/catalog.tables.ts';
import { numberServiceUses, phoneNumbers, providers, remoteLeases, remoteStock } from './supply.tables.ts';

export function listRemoteProviders(db: Db, kinds: string[]) {
  return db
    .select()
    .from(providers)
    .where(and(inArray(providers.kind, kinds), eq(providers.enabled, true)))
    .orderBy(asc(providers.id));
}

/** Sold leases still waiting for their code, on sources we must poll (sms-activate getStatus). */
export function leasesAwaitingCode(db: Db, kinds: string[], limit: number) {
  return db
    .select({ lease: remoteLeases, provider: providers })
    .from(remoteLeases)
    .innerJoin(providers, eq(providers.id, remoteLeases.providerId))
    .where(and(inArray(providers.kind, kinds), sql`${remoteLeases.activationId} is not null`, isNull(remoteLeases.finishStatus)))
    .orderBy(asc(remoteLeases.id))
    .limit(limit);
}

/**
 * Claims a remote source's stock poll until `claimUntil`, unless another instance is polling it
 * (its claim has not run out); false then. A conditional UPDATE: of two instances racing, the
 * second waits for the first's row lock, re-reads the row and finds it claimed.
 */
export async function claimStockPoll(db: Db, providerId: number, now: Date, claimUntil: Date): Promise<boolean> {
  const rows = await db
    .update(providers)
    .set({ stockClaimedUntil: claimUntil })
    .where(and(eq(providers.id, providerId), or(isNull(providers.stockClaimedUntil), lte(providers.stockClaimedUntil, now))))
    .returning({ id: providers.id });
  return rows.length === 1;
}

/** Lets go of this instance's stock-poll claim (and only its own: one that ran out may be another's now). */
export async function releaseStockPoll(db: Db, providerId: number, claimUntil: Date): Promise<void> {
  await db
    .update(providers)
    .set({ stockClaimedUntil: null })
    .where(and(eq(providers.id, providerId), eq(providers.stockClaimedUntil, claimUntil)));
}

/** Replaces a source's stock report in one transaction (pass one): a reader never sees it empty in between. */
export async function replaceRemoteStock(
  db: Db,
  providerId: number,
  rows: { countryId: number; operator: string; serviceCode: string; available: number; cost: number | null }[],
  at: Date,
) {
  await db.delete(remoteStock).where(eq(remoteStock.providerId, providerId));
  if (rows.length > 0) await db.insert(remoteStock).values(rows.map((row) => ({ ...row, providerId, updatedAt: at }))).onConflictDoNothing();
}

/** Remote sources that reported stock for the pair recently, most stock first. */
export function remoteCandidates(db: Db, input: { countryId: number; serviceCode: string; operator?: string; freshSince: Date }) {
  const conditions = [
    eq(remoteStock.countryId, input.countryId),
    eq(remoteStock.serviceCode, input.serviceCode),
    gt(remoteStock.available, 0),
    sql`${remoteStock.updatedAt} >= ${input.freshSince.toISOString()}`,
    eq(providers.enabled, true),
  ];
  if (input.operator !== undefined) conditions.push(eq(remoteStock.operator, input.operator));
  return db
    .select({ provider: providers, operator: remoteStock.operator, available: remoteStock.available, cost: remoteStock.cost, countryName: countries.name })
    .from(remoteStock)
    .innerJoin(providers, eq(providers.id, remoteStock.providerId))
    .innerJoin(countries, eq(countries.id, remoteStock.countryId))
    .where(and(...conditions))
    // Cheapest first (upstreams report their cost); then the source with most stock.
    .orderBy(sql`${remoteStock.cost} asc nulls last`, sql`${remoteStock.available} desc`, asc(providers.id));
}

/** Remote stock per (service, country), fresh rows only. */
export async function countRemoteStock(db: Db, pairs: { serviceCode: string; countryId: number }[], freshSince: Date) {
  if (pairs.length === 0) return [];
  const rows = await db
    .select({ serviceCode: remoteStock.serviceCode, countryId: remoteStock.countryId, available: sql<number>`sum(${remoteStock.available})::int` })
    .from(remoteStock)
    .innerJoin(providers, eq(providers.id, remoteStock.providerId))
    .where(and(eq(providers.enabled, true), sql`${remoteStock.updatedAt} >= ${freshSince.toISOString()}`))
    .groupBy(remoteStock.serviceCode, remoteStock.countryId);
  const wanted = new Set(pairs.map((p) => `${p.serviceCode}:${p.countryId}`));
  return rows.filter((row) => wanted.has(`${row.serviceCode}:${row.countryId}`));
}

/**
 * What one number costs us per (service, country): the cheapest fresh report of a source that
 * has stock and says its cost (sms-activate getPrices; SMSHub agents report none).
 */
export async function cheapestRemoteCosts(db: Db, pairs: { serviceCode: string; countryId: number }[] | undefined, freshSince: Date) {
  const rows = await db
    .select({ serviceCode: remoteStock.serviceCode, countryId: remoteStock.countryId, cost: sql<number>`min(${remoteStock.cost})`.mapWith(Number) })
    .from(remoteStock)
    .innerJoin(providers, eq(providers.id, remoteStock.providerId))
    .where(
      and(
        eq(providers.enabled, true),
        gt(remoteStock.available, 0),
        sql`${remoteStock.cost} is not null`,
        sql`${remoteStock.updatedAt} >= ${freshSince.toISOString()}`,
      ),
    )
    .groupBy(remoteStock.serviceCode, remoteStock.countryId);
  if (!pairs) return rows;
  const wanted = new Set(pairs.map((p) => `${p.serviceCode}:${p.countryId}`));
  return rows.filter((row) => wanted.has(`${row.serviceCode}:${row.countryId}`));
}

/** The number row a remote source handed out; created off sale (enabled = false): it is sold only through its lease. */
export async function findOrCreateRemoteNumber(db: Db, input: { e164: string; countryId: number; operator: string; providerId: number }) {
  await db.insert(phoneNumbers).values({ ...input, enabled: false }).onConflictDoNothing();
  const rows = await db.select().from(phoneNumbers).where(eq(phoneNumbers.e164, input.e164));
  return rows[0] ?? null;
}

export async function insertLease(db: Db, input: { providerId: number; numberId: number; remoteId: string; createdAt: Date }) {
  const rows = await db.insert(remoteLeases).values(input).returning();
  return rows[0];
}

/** Locks a leased number for this purchase: free, and never sold for this service before. */
export async function lockLeasedNumber(tx: Db, numberId: number, serviceCode: string) {
  const rows = await tx
    .select()
    .from(phoneNumbers)
    .where(
      and(
        eq(phoneNumbers.id, numberId),
        isNull(phoneNumbers.busyActivationId),
        isNull(phoneNumbers.busyRentalId),
        isNull(phoneNumbers.retiredAt),
        sql`not exists (select 1 from ${numberServiceUses} u where u.number_id = ${phoneNumbers.id} and u.service_code = ${serviceCode})`,
      ),
    )
    .for('update');
  return rows[0] ?? null;
}

export async function setLeaseFinishById(db: Db, leaseId: number, finishStatus: string) {
  await db.update(remoteLeases).set({ finishStatus }).where(and(eq(remoteLeases.id, leaseId), isNull(remoteLeases.activationId), isNull(remoteLeases.finishStatus)));
}

/** Finished leases the agent has not acknowledged yet (optionally only one activation's). */
export function pendingFinishes(db: Db, limit: number, activationId?: number) {
  const conditions = [sql`${remoteLeases.finishStatus} is not null`, isNull(remoteLeases.notifiedAt)];
  if (activationId !== undefined) conditions.push(eq(remoteLeases.activationId, activationId));
  return db
    .select({ lease: remoteLeases, provider: providers })
    .from(remoteLeases)
    .innerJoin(providers, eq(providers.id, remoteLeases.providerId))
    .where(and(...conditions))
    .orderBy(asc(remoteLeases.id))
    .limit(limit);
}

/**
 * Claims a lease for one call to its source until `claimUntil`: telling it the finish (`finish`:
 * the finish is recorded and not yet acknowledged) or asking for its code (`status`: sold and not
 * finished). False when that no longer applies or another instance holds the claim. A conditional
 * UPDATE: of two instances racing, the second re-reads the row after the first's commit and finds
 * it claimed, so the source hears one call, never two at once.
 */
export async function claimLease(db: Db, leaseId: number, purpose: 'finish' | 'status', now: Date, claimUntil: Date): Promise<boolean> {
  const applies =
    purpose === 'finish'
      ? and(sql`${remoteLeases.finishStatus} is not null`, isNull(remoteLeases.notifiedAt))
      : and(sql`${remoteLeases.activationId} is not null`, isNull(remoteLeases.finishStatus));
  const rows = await db
    .update(remoteLeases)
    .set({ claimedUntil: claimUntil })
    .where(and(eq(remoteLeases.id, leaseId), applies, or(isNull(remoteLeases.claimedUntil), lte(remoteLeases.claimedUntil, now))))
    .returning({ id: remoteLeases.id });
  return rows.length === 1;
}

/** Lets go of this instance's claim on a lease (only its own: one that ran out may be another's now). */
export async function releaseLeaseClaim(db: Db, leaseId: number, claimUntil: Date) {
  await db
    .update(remoteLeases)
    .set({ claimedUntil: null })
    .where(and(eq(remoteLeases.id, leaseId), eq(remoteLeases.claimedUntil, claimUntil)));
}

export async function markLeaseNotified(db: Db, leaseId: number, at: Date) {
  await db.update(remoteLeases).set({ notifiedAt: at, claimedUntil: null }).where(eq(remoteLeases.id, leaseId));
}

export async function countLeaseAttempt(db: Db, leaseId: number) {
  await db.update(remoteLeases).set({ attempts: sql`${remoteLeases.attempts} + 1`, claimedUntil: null }).where(eq(remoteLeases.id, leaseId));
}

export function findLease(db: Db, leaseId: number) {
  return db.select().from(remoteLeases).where(eq(remoteLeases.id, leaseId));
}

/** Leases never sold nor released (the process died between leasing and selling): give them back. */
export async function releaseStrandedLeases(db: Db, leasedBefore: Date) {
  await db
    .update(remoteLeases)
    .set({ finishStatus: 'released' })
    // A rental's lease (remote_id "rent:…") has no activation: upstream-rentals.repo.ts finds its stranded ones.
    .where(
      and(
        isNull(remoteLeases.activationId),
        isNull(remoteLeases.finishStatus),
        sql`${remoteLeases.remoteId} not like 'rent:%'`,
        sql`${remoteLeases.createdAt} < ${leasedBefore.toISOString()}`,
      ),
    );
}
