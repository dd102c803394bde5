import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { rowsOf } from '../../db/database.ts';
import { numberServiceUses, phoneNumbers, providers, smsMessages } from './supply.tables.ts';

export async function insertProvider(db: Db, input: { name: string; kind: string; secretHash: string | null }) {
  const rows = await db.insert(providers).values(input).returning();
  return rows[0];
}

export async function findProviderByName(db: Db, name: string) {
  const rows = await db.select().from(providers).where(eq(providers.name, name));
  return rows[0] ?? null;
}

export async function findProviderBySecretHash(db: Db, secretHash: string) {
  const rows = await db
    .select()
    .from(providers)
    .where(and(eq(providers.secretHash, secretHash), eq(providers.enabled, true)));
  return rows[0] ?? null;
}

export async function touchProvider(db: Db, providerId: number, at: Date) {
  await db.update(providers).set({ lastSeenAt: at }).where(eq(providers.id, providerId));
}

export async function insertNumbers(
  db: Db,
  numbers: { e164: string; countryId: number; operator: string; providerId: number }[],
) {
  if (numbers.length === 0) return 0;
  const rows = await db.insert(phoneNumbers).values(numbers).onConflictDoNothing().returning({ id: phoneNumbers.id });
  return rows.length;
}

export async function findNumberByE164(db: Db, e164: string) {
  const rows = await db.select().from(phoneNumbers).where(eq(phoneNumbers.e164, e164));
  return rows[0] ?? null;
}

/**
 * Locks one free number for the service. SKIP LOCKED lets concurrent buyers take different
 * numbers instead of queueing on (or double-selling) the same one.
 */
export async function lockFreeNumber(tx: Db, input: { countryId: number; serviceCode: string; operator?: string }) {
  const conditions = [
    eq(phoneNumbers.countryId, input.countryId),
    eq(phoneNumbers.enabled, true),
    isNull(phoneNumbers.busyActivationId),
    sql`not exists (select 1 from ${numberServiceUses} u where u.number_id = ${phoneNumbers.id} and u.service_code = ${input.serviceCode})`,
  ];
  if (input.operator !== undefined) conditions.push(eq(phoneNumbers.operator, input.operator));
  const rows = await tx
    .select()
    .from(phoneNumbers)
    .innerJoin(providers, eq(providers.id, phoneNumbers.providerId))
    .where(and(...conditions, eq(providers.enabled, true)))
    .orderBy(asc(phoneNumbers.id))
    .limit(1)
    .for('update', { of: phoneNumbers, skipLocked: true });
  return rows[0]?.phone_numbers ?? null;
}

export async function markNumberBusy(tx: Db, input: { numberId: number; activationId: number; serviceCode: string; at: Date }) {
  await tx
    .update(phoneNumbers)
    .set({ busyActivationId: input.activationId, busySince: input.at, busyServiceCode: input.serviceCode })
    .where(eq(phoneNumbers.id, input.numberId));
  await tx.insert(numberServiceUses).values({ numberId: input.numberId, serviceCode: input.serviceCode, usedAt: input.at });
}

export async function markNumberFree(tx: Db, numberId: number, activationId: number) {
  await tx
    .update(phoneNumbers)
    .set({ busyActivationId: null, busySince: null, busyServiceCode: null })
    .where(and(eq(phoneNumbers.id, numberId), eq(phoneNumbers.busyActivationId, activationId)));
}

/** Free numbers per (service, country) pair, in one query. */
export async function countFreeNumbers(db: Db, pairs: { serviceCode: string; countryId: number }[]) {
  if (pairs.length === 0) return [];
  const serviceCodes = pairs.map((p) => p.serviceCode);
  const countryIds = pairs.map((p) => p.countryId);
  const result = await db.execute(sql`
    select pair.service_code as "serviceCode", pair.country_id as "countryId", count(n.id)::int as available
    from unnest(${sql.param(serviceCodes)}::text[], ${sql.param(countryIds)}::int[]) as pair(service_code, country_id)
    left join phone_numbers n
      on n.country_id = pair.country_id and n.enabled and n.busy_activation_id is null
      and exists (select 1 from providers p where p.id = n.provider_id and p.enabled)
      and not exists (select 1 from number_service_uses u where u.number_id = n.id and u.service_code = pair.service_code)
    group by pair.service_code, pair.country_id`);
  return rowsOf<{ serviceCode: string; countryId: number; available: number }>(result);
}

export async function insertSms(
  tx: Db,
  input: { providerId: number; numberId: number | null; toNumber: string; sender: string; text: string; code: string | null; receivedAt: Date },
) {
  const rows = await tx.insert(smsMessages).values(input).returning();
  return rows[0];
}

export async function setSmsActivation(tx: Db, smsId: number, activationId: number) {
  await tx.update(smsMessages).set({ activationId }).where(eq(smsMessages.id, smsId));
}

export function listSmsOfActivation(db: Db, activationId: number) {
  return db.select().from(smsMessages).where(eq(smsMessages.activationId, activationId)).orderBy(asc(smsMessages.id));
}

/** Busy numbers of a provider that have had no SMS since they were taken, taken at or before `takenBefore`. */
export async function listBusyNumbersWithoutSms(db: Db, providerId: number, takenBefore: Date, limit: number) {
  return db
    .select()
    .from(phoneNumbers)
    .where(
      and(
        eq(phoneNumbers.providerId, providerId),
        sql`${phoneNumbers.busyActivationId} is not null`,
        sql`${phoneNumbers.busySince} <= ${takenBefore.toISOString()}`,
        sql`not exists (select 1 from ${smsMessages} s where s.number_id = ${phoneNumbers.id} and s.activation_id = ${phoneNumbers.busyActivationId})`,
      ),
    )
    .limit(limit);
}
