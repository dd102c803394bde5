import { and, count, desc, eq, lte, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { rentalPrices, rentals, type RentalStatus } from './rentals.tables.ts';

export type RentalRow = typeof rentals.$inferSelect;
export type NewRental = typeof rentals.$inferInsert;
export type RentalPriceRow = typeof rentalPrices.$inferSelect;

/** Rental prices of one country, or of every country, by country then operator ('any' first). */
export async function listPrices(db: Db, countryId?: number): Promise<RentalPriceRow[]> {
  return db
    .select()
    .from(rentalPrices)
    .where(countryId === undefined ? undefined : eq(rentalPrices.countryId, countryId))
    .orderBy(rentalPrices.countryId, sql`${rentalPrices.operator} <> 'any'`, rentalPrices.operator);
}

/** The price for this operator when it has one, else the country's default ('any'); null when neither is set. */
export async function findPrice(db: Db, countryId: number, operator: string | undefined): Promise<RentalPriceRow | null> {
  const rows = await db
    .select()
    .from(rentalPrices)
    .where(
      and(
        eq(rentalPrices.countryId, countryId),
        operator === undefined || operator === 'any' ? eq(rentalPrices.operator, 'any') : sql`${rentalPrices.operator} in ('any', ${operator})`,
      ),
    )
    // The operator's own price first.
    .orderBy(sql`${rentalPrices.operator} = 'any'`);
  return rows[0] ?? null;
}

export async function upsertPrice(db: Db, row: RentalPriceRow): Promise<RentalPriceRow> {
  const rows = await db
    .insert(rentalPrices)
    .values(row)
    .onConflictDoUpdate({
      target: [rentalPrices.countryId, rentalPrices.operator],
      set: { pricePerHour: row.pricePerHour, pricePerDay: row.pricePerDay, updatedAt: row.updatedAt },
    })
    .returning();
  return rows[0];
}

export async function insertRental(tx: Db, input: NewRental): Promise<RentalRow> {
  const rows = await tx.insert(rentals).values(input).returning();
  return rows[0];
}

export async function findRental(db: Db, id: number): Promise<RentalRow | null> {
  const rows = await db.select().from(rentals).where(eq(rentals.id, id));
  return rows[0] ?? null;
}

export async function lockRental(tx: Db, id: number): Promise<RentalRow | null> {
  const rows = await tx.select().from(rentals).where(eq(rentals.id, id)).for('update');
  return rows[0] ?? null;
}

export async function findByIdempotencyKey(db: Db, accountId: number, key: string): Promise<RentalRow | null> {
  const rows = await db
    .select()
    .from(rentals)
    .where(and(eq(rentals.accountId, accountId), eq(rentals.idempotencyKey, key)));
  return rows[0] ?? null;
}

// The first key of the two-key advisory locks that serialise retries of one rental (activations
// use 7_211_000 for theirs: a key reused across a purchase and a rental names two requests).
const idempotencyLockSpace = 7_211_011;

/** Holds, until the transaction ends, the rental an account makes with this Idempotency-Key (see activations' lockIdempotencyKey). */
export async function lockIdempotencyKey(tx: Db, accountId: number, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${idempotencyLockSpace}, hashtext(${`${accountId}:${key}`}))`);
}

/** The active rental on a number, locked (at most one: rentals_one_active_per_number). */
export async function lockActiveRentalOnNumber(tx: Db, numberId: number): Promise<RentalRow | null> {
  const rows = await tx
    .select()
    .from(rentals)
    .where(and(eq(rentals.numberId, numberId), eq(rentals.status, 'active')))
    .for('update');
  return rows[0] ?? null;
}

/** Active rentals past expiry, locked; rows another sweeper (or a request) holds are skipped, not waited for. */
export async function lockExpiredActiveRentals(tx: Db, now: Date, limit: number): Promise<RentalRow[]> {
  return tx
    .select()
    .from(rentals)
    .where(and(eq(rentals.status, 'active'), lte(rentals.expiresAt, now)))
    .orderBy(rentals.expiresAt)
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function updateRental(tx: Db, id: number, changes: Partial<NewRental>): Promise<RentalRow> {
  const rows = await tx.update(rentals).set(changes).where(eq(rentals.id, id)).returning();
  return rows[0];
}

export interface RentalFilter {
  companyId: number;
  /** Set for members: they see only their own rentals. */
  accountId?: number;
  status?: RentalStatus;
}

function whereOf(filter: RentalFilter): SQL | undefined {
  const conditions = [eq(rentals.companyId, filter.companyId)];
  if (filter.accountId !== undefined) conditions.push(eq(rentals.accountId, filter.accountId));
  if (filter.status !== undefined) conditions.push(eq(rentals.status, filter.status));
  return and(...conditions);
}

export async function listRentals(db: Db, filter: RentalFilter, page: { limit: number; offset: number }): Promise<RentalRow[]> {
  return db.select().from(rentals).where(whereOf(filter)).orderBy(desc(rentals.id)).limit(page.limit).offset(page.offset);
}

export async function countRentals(db: Db, filter: RentalFilter): Promise<number> {
  const rows = await db.select({ n: count() }).from(rentals).where(whereOf(filter));
  return Number(rows[0].n);
}
