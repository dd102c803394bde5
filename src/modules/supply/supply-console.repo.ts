import { and, asc, count, desc, eq, ilike, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/database.ts';
import { numberRentals, phoneNumbers, providers, smsMessages } from './supply.tables.ts';

/*
 * The console's reads and writes of supply: numbers with their provider, a number's history,
 * the SMS feed. A number's history names the activation and company of each rental: that
 * read-only report joins the activations and companies tables by name (one query instead of
 * one call per rental), the only place supply reads them.
 */

export async function lockProvider(tx: Db, providerId: number) {
  const rows = await tx.select().from(providers).where(eq(providers.id, providerId)).for('update');
  return rows[0] ?? null;
}

export async function setProviderCost(tx: Db, providerId: number, costPerNumber: number) {
  await tx
    .update(providers)
    .set({ settings: sql`${providers.settings} || jsonb_build_object('costPerNumber', ${costPerNumber}::bigint)` })
    .where(eq(providers.id, providerId));
}

/** Device/SIM slots already holding a number of this provider. */
export async function providerSlots(tx: Db, providerId: number) {
  const rows = await tx
    .select({ deviceId: phoneNumbers.deviceId, simSlot: phoneNumbers.simSlot, e164: phoneNumbers.e164 })
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.providerId, providerId), isNotNull(phoneNumbers.deviceId)));
  return rows;
}

export interface NumberFilter {
  providerId?: number;
  countryId?: number;
  /** Part of the E.164 number. */
  q?: string;
  state?: 'active' | 'busy' | 'disabled' | 'retired';
}

function numberConditions(filter: NumberFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (filter.providerId !== undefined) conditions.push(eq(phoneNumbers.providerId, filter.providerId));
  if (filter.countryId !== undefined) conditions.push(eq(phoneNumbers.countryId, filter.countryId));
  if (filter.q) conditions.push(ilike(phoneNumbers.e164, `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (filter.state === 'active') conditions.push(isNull(phoneNumbers.retiredAt));
  // Busy: held by an activation or by a rental (issue 11).
  if (filter.state === 'busy') conditions.push(or(isNotNull(phoneNumbers.busyActivationId), isNotNull(phoneNumbers.busyRentalId))!);
  if (filter.state === 'disabled') conditions.push(and(eq(phoneNumbers.enabled, false), isNull(phoneNumbers.retiredAt))!);
  if (filter.state === 'retired') conditions.push(isNotNull(phoneNumbers.retiredAt));
  return conditions.length > 0 ? and(...conditions) : undefined;
}

const numberColumns = {
  number: phoneNumbers,
  provider: { id: providers.id, name: providers.name, kind: providers.kind },
};

export type NumberWithProvider = { number: typeof phoneNumbers.$inferSelect; provider: { id: number; name: string; kind: string } };

export function listNumbers(db: Db, filter: NumberFilter, page: { limit: number; offset: number }): Promise<NumberWithProvider[]> {
  return db
    .select(numberColumns)
    .from(phoneNumbers)
    .innerJoin(providers, eq(providers.id, phoneNumbers.providerId))
    .where(numberConditions(filter))
    .orderBy(desc(phoneNumbers.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function countNumbers(db: Db, filter: NumberFilter) {
  const rows = await db.select({ n: count() }).from(phoneNumbers).where(numberConditions(filter));
  return Number(rows[0].n);
}

export async function findNumber(db: Db, numberId: number): Promise<NumberWithProvider | null> {
  const rows = await db
    .select(numberColumns)
    .from(phoneNumbers)
    .innerJoin(providers, eq(providers.id, phoneNumbers.providerId))
    .where(eq(phoneNumbers.id, numberId));
  return rows[0] ?? null;
}

export async function lockNumber(tx: Db, numberId: number) {
  const rows = await tx.select().from(phoneNumbers).where(eq(phoneNumbers.id, numberId)).for('update');
  return rows[0] ?? null;
}

export async function lockNumberByE164(tx: Db, e164: string) {
  const rows = await tx.select().from(phoneNumbers).where(eq(phoneNumbers.e164, e164)).for('update');
  return rows[0] ?? null;
}

export async function retireNumber(tx: Db, numberId: number, at: Date) {
  await tx.update(phoneNumbers).set({ retiredAt: at }).where(eq(phoneNumbers.id, numberId));
}

export interface RentalHistoryRow {
  activationId: number;
  companyId: number | null;
  companyName: string | null;
  serviceCode: string | null;
  countryId: number | null;
  price: number | string | null;
  status: string | null;
  outcome: string | null;
  rentedAt: Date | string;
  firstSmsAt: Date | string | null;
  firstCodeAt: Date | string | null;
  endedAt: Date | string | null;
  supplyCost: number | string | null;
}

/** A number's rentals, newest first, with the activation and company each was sold to. */
export async function numberRentalHistory(db: Db, numberId: number, limit: number) {
  const result = await db.execute(sql`
    select r.activation_id as "activationId", a.company_id as "companyId", c.name as "companyName",
      a.service_code as "serviceCode", a.country_id as "countryId", a.price, a.status, r.outcome,
      r.rented_at as "rentedAt", r.first_sms_at as "firstSmsAt", r.first_code_at as "firstCodeAt",
      r.ended_at as "endedAt", r.supply_cost as "supplyCost"
    from ${numberRentals} r
    left join activations a on a.id = r.activation_id
    left join companies c on c.id = a.company_id
    where r.number_id = ${numberId}
    order by r.rented_at desc, r.activation_id desc
    limit ${limit}`);
  return rowsOf<RentalHistoryRow>(result);
}

/** The SMS of these activations on this number, oldest first. */
export function smsOfRentals(db: Db, numberId: number, activationIds: number[]) {
  if (activationIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(smsMessages)
    .where(and(eq(smsMessages.numberId, numberId), sql`${smsMessages.activationId} = any(${sql.param(activationIds)}::bigint[])`))
    .orderBy(asc(smsMessages.id));
}

const smsColumns = {
  sms: smsMessages,
  provider: { id: providers.id, name: providers.name },
};

export type SmsWithProvider = { sms: typeof smsMessages.$inferSelect; provider: { id: number; name: string } };

export interface SmsFilter {
  unmatched?: boolean;
  providerId?: number;
  numberId?: number;
  beforeId?: number;
}

/** SMS newest first (paging by id), with their provider. */
export function listSms(db: Db, filter: SmsFilter, limit: number): Promise<SmsWithProvider[]> {
  const conditions: SQL[] = [];
  // Unmatched: reached neither an activation nor a rental (a rented number gets every SMS).
  if (filter.unmatched === true) conditions.push(isNull(smsMessages.activationId), isNull(smsMessages.rentalId));
  if (filter.unmatched === false) conditions.push(or(isNotNull(smsMessages.activationId), isNotNull(smsMessages.rentalId))!);
  if (filter.providerId !== undefined) conditions.push(eq(smsMessages.providerId, filter.providerId));
  if (filter.numberId !== undefined) conditions.push(eq(smsMessages.numberId, filter.numberId));
  if (filter.beforeId !== undefined) conditions.push(lt(smsMessages.id, filter.beforeId));
  return db
    .select(smsColumns)
    .from(smsMessages)
    .innerJoin(providers, eq(providers.id, smsMessages.providerId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(smsMessages.id))
    .limit(limit);
}

export async function findSms(db: Db, smsId: number): Promise<SmsWithProvider | null> {
  const rows = await db.select(smsColumns).from(smsMessages).innerJoin(providers, eq(providers.id, smsMessages.providerId)).where(eq(smsMessages.id, smsId));
  return rows[0] ?? null;
}

export async function lockSms(tx: Db, smsId: number) {
  const rows = await tx.select().from(smsMessages).where(eq(smsMessages.id, smsId)).for('update');
  return rows[0] ?? null;
}
