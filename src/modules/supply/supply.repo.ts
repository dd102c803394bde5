import { and, asc, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { rowsOf } from '../../db/database.ts';
import { numberRentals, numberServiceUses, phoneNumbers, providers, smsMessages, webhookReceipts } from './supply.tables.ts';

export async function insertProvider(
  db: Db,
  input: { name: string; kind: string; secretHash: string | null; settings?: Record<string, unknown> },
) {
  const rows = await db.insert(providers).values(input).returning();
  return rows[0];
}

/** Inserts a provider unless one of that name exists (then nothing happens). */
export async function insertProviderIfAbsent(db: Db, input: { name: string; kind: string; secretHash: string | null }) {
  await db.insert(providers).values(input).onConflictDoNothing({ target: providers.name });
}

export async function findProviderByName(db: Db, name: string) {
  const rows = await db.select().from(providers).where(eq(providers.name, name));
  return rows[0] ?? null;
}

/**
 * Also a disabled provider: disabling (for repeated failures) takes its numbers off sale, but an
 * SMS it still pushes — for an activation still open, or late — is kept, never refused.
 */
export async function findProviderBySecretHash(db: Db, secretHash: string) {
  const rows = await db.select().from(providers).where(eq(providers.secretHash, secretHash));
  return rows[0] ?? null;
}

export async function touchProvider(db: Db, providerId: number, at: Date) {
  await db.update(providers).set({ lastSeenAt: at }).where(eq(providers.id, providerId));
}

export async function insertNumbers(
  db: Db,
  numbers: { e164: string; countryId: number; operator: string; providerId: number; deviceId?: string | null; simSlot?: number | null }[],
) {
  if (numbers.length === 0) return 0;
  const rows = await db.insert(phoneNumbers).values(numbers).onConflictDoNothing().returning({ id: phoneNumbers.id });
  return rows.length;
}

/** The numbers (E.164) a provider has, retired ones included. */
export async function listProviderNumberE164s(db: Db, providerId: number): Promise<string[]> {
  const rows = await db.select({ e164: phoneNumbers.e164 }).from(phoneNumbers).where(eq(phoneNumbers.providerId, providerId));
  return rows.map((row) => row.e164);
}

export async function findNumberByE164(db: Db, e164: string) {
  const rows = await db.select().from(phoneNumbers).where(eq(phoneNumbers.e164, e164));
  return rows[0] ?? null;
}

/**
 * Locks one free number for the service. SKIP LOCKED lets concurrent buyers take different
 * numbers instead of queueing on (or double-selling) the same one.
 */
export async function lockFreeNumber(tx: Db, input: { countryId: number; serviceCode: string; operator?: string; now: Date }) {
  const conditions = [
    eq(phoneNumbers.countryId, input.countryId),
    eq(phoneNumbers.enabled, true),
    isNull(phoneNumbers.busyActivationId),
    isNull(phoneNumbers.retiredAt),
    or(isNull(phoneNumbers.cooldownUntil), sql`${phoneNumbers.cooldownUntil} <= ${input.now.toISOString()}`),
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
export async function countFreeNumbers(db: Db, pairs: { serviceCode: string; countryId: number }[], now: Date) {
  if (pairs.length === 0) return [];
  const serviceCodes = pairs.map((p) => p.serviceCode);
  const countryIds = pairs.map((p) => p.countryId);
  const result = await db.execute(sql`
    select pair.service_code as "serviceCode", pair.country_id as "countryId", count(n.id)::int as available
    from unnest(${sql.param(serviceCodes)}::text[], ${sql.param(countryIds)}::int[]) as pair(service_code, country_id)
    left join phone_numbers n
      on n.country_id = pair.country_id and n.enabled and n.busy_activation_id is null and n.retired_at is null
      and (n.cooldown_until is null or n.cooldown_until <= ${now.toISOString()})
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

const recipientLockKey = (providerId: number, toNumber: string) => `sms:${providerId}:${toNumber}`;

/**
 * Claims a due demo number for this pass: takes the recipient lock every ingestion takes (see
 * lockRecipient), without waiting when another transaction holds it, then checks afresh that the
 * number is still busy with `activationId` and that the activation has no SMS yet. The checks
 * come after the lock: an instance that stored the SMS committed before letting it go. Not a row
 * lock on the number: expiry and cancel lock the activation and then the number, while
 * ingestion locks the activation after this, so the two orders would deadlock.
 */
export async function claimNumberAwaitingSms(tx: Db, providerId: number, e164: string, activationId: number): Promise<boolean> {
  const result = await tx.execute(sql`select pg_try_advisory_xact_lock(hashtext(${recipientLockKey(providerId, e164)})) as claimed`);
  if (!rowsOf<{ claimed: boolean }>(result)[0]?.claimed) return false;
  const number = await findNumberByE164(tx, e164);
  if (number?.busyActivationId !== activationId) return false;
  return !(await hasSmsForActivation(tx, activationId));
}

export async function findProvider(db: Db, providerId: number) {
  const rows = await db.select().from(providers).where(eq(providers.id, providerId));
  return rows[0] ?? null;
}

/** The number living in a gateway phone's SIM slot; with no slot given, the phone's only number. */
export async function findNumberOnDevice(db: Db, providerId: number, deviceId: string, simSlot: number | null) {
  const onDevice = and(eq(phoneNumbers.providerId, providerId), eq(phoneNumbers.deviceId, deviceId));
  if (simSlot !== null) {
    const rows = await db.select().from(phoneNumbers).where(and(onDevice, eq(phoneNumbers.simSlot, simSlot)));
    return rows[0] ?? null;
  }
  const rows = await db.select().from(phoneNumbers).where(onDevice).limit(2);
  return rows.length === 1 ? rows[0] : null;
}

/** Serialises ingestion per recipient, so two copies of one SMS arriving together are stored once. */
export async function lockRecipient(tx: Db, providerId: number, toNumber: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${recipientLockKey(providerId, toNumber)}))`);
}

/** An SMS with the same text to the same number from the same provider, received within the window. */
export async function findDuplicateSms(
  tx: Db,
  input: { providerId: number; toNumber: string; text: string; receivedAt: Date; windowSeconds: number },
) {
  const from = new Date(input.receivedAt.getTime() - input.windowSeconds * 1000).toISOString();
  const to = new Date(input.receivedAt.getTime() + input.windowSeconds * 1000).toISOString();
  const rows = await tx
    .select()
    .from(smsMessages)
    .where(
      and(
        eq(smsMessages.providerId, input.providerId),
        eq(smsMessages.toNumber, input.toNumber),
        eq(smsMessages.text, input.text),
        sql`${smsMessages.receivedAt} between ${from} and ${to}`,
      ),
    )
    .orderBy(asc(smsMessages.id))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Deletes up to `limit` webhook receipts: replay records (`sig:` keys) received before
 * `signaturesBefore`, any other key received before `othersBefore`.
 */
export async function deleteOldWebhookReceipts(db: Db, cutoffs: { signaturesBefore: Date; othersBefore: Date }, limit: number): Promise<number> {
  const { signaturesBefore, othersBefore } = cutoffs;
  // The outer bound lets supply_webhook_receipts_received_idx narrow the scan.
  const latest = new Date(Math.max(signaturesBefore.getTime(), othersBefore.getTime()));
  const result = await db.execute(sql`
    delete from supply_webhook_receipts
    where (provider_id, receipt_key) in (
      select provider_id, receipt_key from supply_webhook_receipts
      where received_at < ${latest.toISOString()}
        and ((receipt_key like 'sig:%' and received_at < ${signaturesBefore.toISOString()}) or received_at < ${othersBefore.toISOString()})
      limit ${limit})
    returning 1 as gone`);
  return rowsOf(result).length;
}

/** Records a webhook receipt key; false when it was already there (a replay or a retry). */
export async function insertWebhookReceipt(tx: Db, input: { providerId: number; receiptKey: string; receivedAt: Date }) {
  const rows = await tx.insert(webhookReceipts).values(input).onConflictDoNothing().returning({ key: webhookReceipts.receiptKey });
  return rows.length === 1;
}

/**
 * Starts a rental with what it costs us: `supplyCost` when the source set it (a lease: the
 * upstream's cost or the agent's payout, null when unknown); otherwise, for a number of our own,
 * the provider's configured cost per number (settings.costPerNumber, default 0).
 */
export async function insertRental(tx: Db, input: { activationId: number; numberId: number; rentedAt: Date; supplyCost?: number | null }) {
  const cost =
    input.supplyCost === undefined
      ? sql`coalesce((p.settings->>'costPerNumber')::bigint, 0)`
      : sql`${input.supplyCost}::bigint`;
  await tx.execute(sql`
    insert into ${numberRentals} (activation_id, number_id, provider_id, rented_at, supply_cost)
    select ${input.activationId}, n.id, n.provider_id, ${input.rentedAt.toISOString()}::timestamptz, ${cost}
    from ${phoneNumbers} n join ${providers} p on p.id = n.provider_id where n.id = ${input.numberId}`);
}

export async function markRentalSms(tx: Db, activationId: number, at: Date, hasCode: boolean) {
  await tx
    .update(numberRentals)
    .set({
      firstSmsAt: sql`coalesce(${numberRentals.firstSmsAt}, ${at.toISOString()}::timestamptz)`,
      ...(hasCode ? { firstCodeAt: sql`coalesce(${numberRentals.firstCodeAt}, ${at.toISOString()}::timestamptz)` } : {}),
    })
    .where(eq(numberRentals.activationId, activationId));
}

/** Ends a rental; returns whether it had any SMS (null when the rental is unknown, e.g. sold before rentals were recorded). */
export async function endRental(tx: Db, activationId: number, outcome: string, at: Date) {
  const rows = await tx
    .update(numberRentals)
    .set({ outcome, endedAt: at })
    .where(eq(numberRentals.activationId, activationId))
    .returning({ firstSmsAt: numberRentals.firstSmsAt });
  return rows.length === 0 ? null : rows[0].firstSmsAt !== null;
}

export async function hasSmsForActivation(tx: Db, activationId: number) {
  const rows = await tx.select({ id: smsMessages.id }).from(smsMessages).where(eq(smsMessages.activationId, activationId)).limit(1);
  return rows.length > 0;
}

/** Counts a rental without SMS against the number, disabling it at `maxFailures`; returns whether it was disabled. */
export async function recordNumberFailure(tx: Db, numberId: number, maxFailures: number) {
  const rows = await tx
    .update(phoneNumbers)
    .set({
      consecutiveFailures: sql`${phoneNumbers.consecutiveFailures} + 1`,
      enabled: sql`${phoneNumbers.enabled} and ${phoneNumbers.consecutiveFailures} + 1 < ${maxFailures}`,
    })
    .where(eq(phoneNumbers.id, numberId))
    .returning({ enabled: phoneNumbers.enabled });
  return rows[0] ? !rows[0].enabled : false;
}

export async function resetNumberFailures(tx: Db, numberId: number) {
  await tx.update(phoneNumbers).set({ consecutiveFailures: 0 }).where(eq(phoneNumbers.id, numberId));
}

export async function setNumberCooldown(tx: Db, numberId: number, until: Date) {
  await tx.update(phoneNumbers).set({ cooldownUntil: until }).where(eq(phoneNumbers.id, numberId));
}

export async function enableNumber(db: Db, e164: string) {
  const rows = await db
    .update(phoneNumbers)
    .set({ enabled: true, consecutiveFailures: 0 })
    .where(eq(phoneNumbers.e164, e164))
    .returning({ id: phoneNumbers.id, e164: phoneNumbers.e164 });
  return rows[0] ?? null;
}

export function listUnmatchedSms(db: Db, limit: number) {
  return db
    .select({
      id: smsMessages.id,
      providerId: smsMessages.providerId,
      toNumber: smsMessages.toNumber,
      sender: smsMessages.sender,
      text: smsMessages.text,
      code: smsMessages.code,
      receivedAt: smsMessages.receivedAt,
    })
    .from(smsMessages)
    .where(isNull(smsMessages.activationId))
    .orderBy(desc(smsMessages.id))
    .limit(limit);
}

/** Per provider: SMS received, rentals sold and answered, median seconds from purchase to first code. */
export async function providerHealthRows(db: Db, providerId?: number) {
  const result = await db.execute(sql`
    select p.id, p.name, p.kind, p.enabled, p.last_seen_at as "lastSeenAt",
      p.settings->>'disabledReason' as "disabledReason", p.settings->>'disabledAt' as "disabledAt",
      (select count(*)::int from sms_messages s where s.provider_id = p.id) as "smsReceived",
      (select count(*)::int from number_rentals r where r.provider_id = p.id) as "rentals",
      (select count(*)::int from number_rentals r where r.provider_id = p.id and r.first_sms_at is not null) as "rentalsWithSms",
      (select percentile_cont(0.5) within group (order by extract(epoch from r.first_code_at - r.rented_at))
         from number_rentals r where r.provider_id = p.id and r.first_code_at is not null) as "medianSecondsToCode",
      (select count(*)::int from phone_numbers n where n.provider_id = p.id) as "numbers",
      (select count(*)::int from phone_numbers n where n.provider_id = p.id and not n.enabled) as "numbersDisabled",
      (select count(*)::int from phone_numbers n where n.provider_id = p.id and n.retired_at is not null) as "numbersRetired",
      (p.settings->>'costPerNumber')::bigint as "costPerNumber"
    from providers p
    ${providerId === undefined ? sql`` : sql`where p.id = ${providerId}`}
    order by p.id`);
  return rowsOf<{
    id: number;
    name: string;
    kind: string;
    enabled: boolean;
    lastSeenAt: string | Date | null;
    disabledReason: string | null;
    disabledAt: string | null;
    smsReceived: number;
    rentals: number;
    rentalsWithSms: number;
    medianSecondsToCode: number | string | null;
    numbers: number;
    numbersDisabled: number;
    numbersRetired: number;
    costPerNumber: number | string | null;
  }>(result);
}

/**
 * Per provider, what its automatic disabling counts (metrics scrape it): `callFailures`, the
 * calls in a row that failed (remote sources); `rentalsWithoutSms`, how many of its last
 * `window` finished rentals (since it was last re-enabled) got no SMS (own-number providers).
 * Reads at most `window` rows per provider through number_rentals_finished_idx.
 */
export async function providerFailureRows(db: Db, window: number) {
  const result = await db.execute(sql`
    select p.id, p.name, p.kind, p.enabled,
      coalesce((p.settings->>'callFailures')::int, 0) as "callFailures",
      (select count(*)::int from (
         select r.first_sms_at from number_rentals r
         where r.provider_id = p.id and r.outcome is not null
           and r.activation_id > coalesce((p.settings->>'healthResetAfterActivation')::bigint, 0)
         -- NULLS LAST as in number_rentals_finished_idx: with the default (NULLS FIRST for
         -- DESC) the index cannot give this order and every rental of the provider is sorted.
         order by r.ended_at desc nulls last, r.activation_id desc nulls last limit ${window}) recent
       where recent.first_sms_at is null) as "rentalsWithoutSms"
    from providers p order by p.id`);
  return rowsOf<{ id: number; name: string; kind: string; enabled: boolean; callFailures: number; rentalsWithoutSms: number }>(result);
}

export async function findNumberById(db: Db, numberId: number) {
  const rows = await db.select().from(phoneNumbers).where(eq(phoneNumbers.id, numberId));
  return rows[0] ?? null;
}

/*
 * Automatic provider disabling. Its state lives in `providers.settings` (no columns of its own):
 * `callFailures` (remote sources: calls in a row that failed), `disabledReason` / `disabledAt`
 * (why and when it was switched off), `healthResetAfterActivation` (rentals up to this activation
 * id were judged before the operator re-enabled it and no longer count).
 */

/** The last `limit` finished rentals of a provider that count for its health, newest first. */
export async function lastFinishedRentals(tx: Db, providerId: number, afterActivationId: number, limit: number) {
  return tx
    .select({ activationId: numberRentals.activationId, firstSmsAt: numberRentals.firstSmsAt })
    .from(numberRentals)
    .where(
      and(
        eq(numberRentals.providerId, providerId),
        sql`${numberRentals.outcome} is not null`,
        sql`${numberRentals.activationId} > ${afterActivationId}`,
      ),
    )
    .orderBy(desc(numberRentals.endedAt), desc(numberRentals.activationId))
    .limit(limit);
}

/** Takes an enabled provider off sale with its reason; false when it was already disabled. */
export async function disableProvider(tx: Db, providerId: number, reason: string, at: Date) {
  const rows = await tx
    .update(providers)
    .set({
      enabled: false,
      settings: sql`${providers.settings} || jsonb_build_object('disabledReason', ${reason}::text, 'disabledAt', ${at.toISOString()}::text)`,
    })
    .where(and(eq(providers.id, providerId), eq(providers.enabled, true)))
    .returning({ id: providers.id });
  return rows.length === 1;
}

/**
 * Counts one failed call to a remote source; at `maxFailures` in a row the source is disabled.
 * Returns true when this failure disabled it.
 */
export async function recordProviderCallFailure(db: Db, providerId: number, maxFailures: number, reason: string, at: Date) {
  const failures = sql`coalesce((${providers.settings}->>'callFailures')::int, 0) + 1`;
  const disabling = sql`(${providers.enabled} and ${failures} >= ${maxFailures})`;
  const rows = await db
    .update(providers)
    .set({
      settings: sql`${providers.settings} || jsonb_build_object('callFailures', ${failures})
        || case when ${disabling} then jsonb_build_object('disabledReason', ${reason}::text, 'disabledAt', ${at.toISOString()}::text) else '{}'::jsonb end`,
      enabled: sql`${providers.enabled} and not ${disabling}`,
    })
    .where(eq(providers.id, providerId))
    .returning({ enabled: providers.enabled, failures: sql<number>`(${providers.settings}->>'callFailures')::int` });
  return rows[0] !== undefined && !rows[0].enabled && Number(rows[0].failures) === maxFailures;
}

/** A remote source answered properly: its failures in a row start again from zero. */
export async function resetProviderCallFailures(db: Db, providerId: number) {
  await db
    .update(providers)
    .set({ settings: sql`${providers.settings} - 'callFailures'` })
    .where(and(eq(providers.id, providerId), sql`${providers.settings} -> 'callFailures' is not null`));
}

/** Puts a provider back on sale; the failures that disabled it no longer count. */
export async function enableProvider(db: Db, providerId: number) {
  const rows = await db
    .update(providers)
    .set({
      enabled: true,
      settings: sql`(${providers.settings} - 'callFailures' - 'disabledReason' - 'disabledAt')
        || jsonb_build_object('healthResetAfterActivation',
             (select coalesce(max(r.activation_id), 0) from ${numberRentals} r where r.provider_id = ${providerId}))`,
    })
    .where(eq(providers.id, providerId))
    .returning({ id: providers.id, name: providers.name, kind: providers.kind });
  return rows[0] ?? null;
}
