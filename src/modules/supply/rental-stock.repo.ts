import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';
import { services } from '../catalog/catalog.tables.ts';
import { numberServiceUses, phoneNumbers, providers, smsMessages } from './supply.tables.ts';

/**
 * Free rentable numbers: marked rentable by the operator, held by no activation and no rental,
 * on sale (enabled, not retired, not resting after a cancel) at an enabled provider. The same
 * conditions as phone_numbers_rentable_idx plus the two that change with time or elsewhere.
 */
function freeRentable(now: Date) {
  return sql`n.rentable and n.busy_activation_id is null and n.busy_rental_id is null and n.enabled and n.retired_at is null
    and (n.cooldown_until is null or n.cooldown_until <= ${now.toISOString()}::timestamptz)
    and exists (select 1 from ${providers} p where p.id = n.provider_id and p.enabled)`;
}

/**
 * Locks one free rentable number of the country (and operator). SKIP LOCKED: concurrent renters
 * and buyers take different numbers instead of queueing on (or double-selling) one; a number an
 * activation is taking right now is skipped, and the one it took is no longer free once it commits.
 */
export async function lockFreeRentableNumber(
  tx: Db,
  input: { countryId: number; operator?: string; now: Date },
): Promise<{ id: number; e164: string; operator: string; providerId: number } | null> {
  const onOperator = input.operator === undefined ? sql`` : sql`and n.operator = ${input.operator}`;
  const result = await tx.execute(sql`
    select n.id, n.e164, n.operator, n.provider_id as "providerId" from ${phoneNumbers} n
    where n.country_id = ${input.countryId} ${onOperator} and ${freeRentable(input.now)}
    order by n.id limit 1
    for update of n skip locked`);
  const row = rowsOf<{ id: number; e164: string; operator: string; providerId: number }>(result)[0];
  return row ? { id: Number(row.id), e164: row.e164, operator: row.operator, providerId: Number(row.providerId) } : null;
}

/** The number becomes the rental's (and leaves activation stock); false when it was not free after all. */
export async function holdNumber(tx: Db, numberId: number, rentalId: number, at: Date): Promise<boolean> {
  const rows = await tx
    .update(phoneNumbers)
    .set({ busyRentalId: rentalId, busySince: at })
    .where(and(eq(phoneNumbers.id, numberId), isNull(phoneNumbers.busyRentalId), isNull(phoneNumbers.busyActivationId)))
    .returning({ id: phoneNumbers.id });
  return rows.length === 1;
}

/** Frees a number its rental held; it rests until `cooldownUntil` when given. */
export async function releaseNumber(tx: Db, numberId: number, rentalId: number, cooldownUntil: Date | null): Promise<void> {
  // A rest already longer (a cancel's) is kept.
  const rest = cooldownUntil === null ? {} : { cooldownUntil: sql`greatest(${phoneNumbers.cooldownUntil}, ${cooldownUntil.toISOString()}::timestamptz)` };
  await tx
    .update(phoneNumbers)
    .set({ busyRentalId: null, busySince: null, ...rest })
    .where(and(eq(phoneNumbers.id, numberId), eq(phoneNumbers.busyRentalId, rentalId)));
}

/** Free rentable numbers per country and operator (of one country, or all). */
export async function countFreeRentable(db: Db, now: Date, countryId?: number) {
  const inCountry = countryId === undefined ? sql`` : sql`n.country_id = ${countryId} and`;
  const result = await db.execute(sql`
    select n.country_id as "countryId", n.operator, count(*)::int as available from ${phoneNumbers} n
    where ${inCountry} ${freeRentable(now)}
    group by n.country_id, n.operator`);
  return rowsOf<{ countryId: number; operator: string; available: number }>(result).map((row) => ({
    countryId: Number(row.countryId),
    operator: row.operator,
    available: Number(row.available),
  }));
}

export async function setSmsRental(tx: Db, smsId: number, rentalId: number): Promise<void> {
  await tx.update(smsMessages).set({ rentalId }).where(eq(smsMessages.id, smsId));
}

/** A rental's SMS, newest first. */
export function listSmsOfRental(db: Db, rentalId: number) {
  return db
    .select({ id: smsMessages.id, sender: smsMessages.sender, text: smsMessages.text, code: smsMessages.code, receivedAt: smsMessages.receivedAt })
    .from(smsMessages)
    .where(eq(smsMessages.rentalId, rentalId))
    .orderBy(desc(smsMessages.id));
}

/** Marks numbers (by E.164; of one provider when given) rentable or not; returns how many exist. */
export async function setRentable(db: Db, e164s: string[], rentable: boolean, providerId?: number): Promise<number> {
  if (e164s.length === 0) return 0;
  const ofProvider = providerId === undefined ? undefined : eq(phoneNumbers.providerId, providerId);
  const rows = await db
    .update(phoneNumbers)
    .set({ rentable })
    .where(and(inArray(phoneNumbers.e164, e164s), ofProvider))
    .returning({ id: phoneNumbers.id });
  return rows.length;
}

/**
 * Numbers of a provider rented at or before `rentedBefore` whose rental has no SMS yet (the demo
 * provider "receives" one for each).
 */
export async function listRentedNumbersWithoutSms(db: Db, providerId: number, rentedBefore: Date, limit: number) {
  const result = await db.execute(sql`
    select n.e164, n.busy_rental_id as "rentalId" from ${phoneNumbers} n
    where n.provider_id = ${providerId} and n.busy_rental_id is not null and n.busy_since <= ${rentedBefore.toISOString()}::timestamptz
      and not exists (select 1 from ${smsMessages} s where s.rental_id = n.busy_rental_id)
    limit ${limit}`);
  return rowsOf<{ e164: string; rentalId: number | string }>(result).map((row) => ({ e164: row.e164, rentalId: Number(row.rentalId) }));
}

/**
 * A rented number counts as used for every service of the catalog (enabled or not): the renter
 * may have registered it anywhere, and nobody records where. The activation walk skips numbers
 * used for the service, so after the rental the number is never sold as an activation for a
 * service that existed when it was rented; it stays rentable. Uses already recorded are kept.
 */
export async function markUsedForEveryService(tx: Db, numberId: number, at: Date): Promise<void> {
  await tx.execute(sql`
    insert into ${numberServiceUses} (number_id, service_code, used_at)
    select ${numberId}, s.code, ${at.toISOString()}::timestamptz from ${services} s
    on conflict do nothing`);
}
