import { and, asc, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { type Db, preparedQuery, preparedStatement, rowsOf } from '../../db/database.ts';
import { numberRentals, numberServiceUses, phoneNumbers, providers, remoteLeases, smsMessages, webhookReceipts } from './supply.tables.ts';

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
// The hot statements of this module are compiled once and prepared (see preparedStatement,
// preparedQuery): their values go in by name.
const placeholder = sql.placeholder;

// Every SMS a provider pushes runs these (see storeSms): prepared once per connection, values by
// name. Built by Drizzle per call, they cost an SMS push more of the server's time than anything else.
const findProviderBySecretHashStatement = preparedQuery((db) =>
  db.select().from(providers).where(eq(providers.secretHash, placeholder('secretHash'))).prepare('supply_find_provider_by_secret_hash'),
);

export async function findProviderBySecretHash(db: Db, secretHash: string) {
  const rows = await findProviderBySecretHashStatement(db, { secretHash });
  return rows[0] ?? null;
}

/** The provider's last sign of life; never moved back (instances write theirs independently). */
export async function touchProvider(db: Db, providerId: number, at: Date) {
  await db
    .update(providers)
    .set({ lastSeenAt: at })
    .where(and(eq(providers.id, providerId), or(isNull(providers.lastSeenAt), lt(providers.lastSeenAt, at))));
}

export async function insertNumbers(
  db: Db,
  numbers: { e164: string; countryId: number; operator: string; providerId: number; deviceId?: string | null; simSlot?: number | null; rentable?: boolean }[],
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

const findNumberByE164Statement = preparedQuery((db) =>
  db.select().from(phoneNumbers).where(eq(phoneNumbers.e164, placeholder('e164'))).prepare('supply_find_number_by_e164'),
);

export async function findNumberByE164(db: Db, e164: string) {
  const rows = await findNumberByE164Statement(db, { e164 });
  return rows[0] ?? null;
}

/**
 * Where a number stands in the walk buyers make through the free pool: a multiplicative hash of
 * its id (Knuth's 2654435761, mod 2^32), which spreads numbers evenly over [0, 2^32) whatever
 * order they were added in. The sellable indexes (migration 0004) are built on this very
 * expression: the two must stay identical, or the walk becomes a scan.
 */
const pickOrder = sql`((n.id::bigint * 2654435761) % 4294967296)`;


/** Where a walk through the free pool starts: a random point of [0, 2^32). */
export function randomPickStart(): number {
  return Math.floor(Math.random() * 4294967296);
}

/**
 * Locks one free number for the service: in the country (and on the operator when asked), on
 * sale (enabled, not retired, its provider enabled), not busy, not cooling down, and never sold
 * for this service. SKIP LOCKED lets concurrent buyers take different numbers instead of queueing
 * on (or double-selling) the same one.
 *
 * Cost: the walk follows phone_numbers_sellable_idx (or its operator twin) from a random `start`
 * and wraps around once, so buyers start at different places (no queue on the first rows) and
 * each candidate costs a few index probes: the walk is as long as the free numbers it must pass
 * (used for this service already, cooling down, locked by another buyer) before a sellable one,
 * about (free numbers) / (free numbers sellable for this service), whatever the size of the pool
 * and of the sales history. Only a pair that is (nearly) sold out, or whose free numbers are
 * nearly all cooling down or at disabled providers, walks the whole free pool of the country.
 * The two sub-queries carry OFFSET 0 so the planner keeps them as per-row probes of their primary
 * keys; as joins it may hash or merge all of the service's history first (the old plan did).
 */
export async function lockFreeNumber(
  tx: Db,
  input: { countryId: number; serviceCode: string; operator?: string; now: Date; start: number },
): Promise<{ id: number; e164: string; operator: string; providerId: number } | null> {
  const statement = input.operator === undefined ? lockFreeNumberStatements.anyOperator : lockFreeNumberStatements.onOperator;
  const result = await statement(tx, { ...input, now: input.now.toISOString() });
  const row = rowsOf<{ id: number; e164: string; operator: string; providerId: number }>(result)[0];
  return row ? { id: Number(row.id), e164: row.e164, operator: row.operator, providerId: Number(row.providerId) } : null;
}

function lockFreeNumberStatement(onOperator: boolean) {
  const sellable = sql`n.country_id = ${placeholder('countryId')} ${onOperator ? sql`and n.operator = ${placeholder('operator')}` : sql``}
    and n.busy_activation_id is null and n.busy_rental_id is null and n.enabled and n.retired_at is null
    and (n.cooldown_until is null or n.cooldown_until <= ${placeholder('now')}::timestamptz)
    and exists (select 1 from ${providers} p where p.id = n.provider_id and p.enabled offset 0)
    and not exists (select 1 from ${numberServiceUses} u where u.number_id = n.id and u.service_code = ${placeholder('serviceCode')} offset 0)`;
  return preparedStatement(
    onOperator ? 'supply_lock_free_number_on_operator' : 'supply_lock_free_number',
    sql`
    with from_start as (
      select n.id, n.e164, n.operator, n.provider_id from ${phoneNumbers} n
      where ${sellable} and ${pickOrder} >= ${placeholder('start')}
      order by ${pickOrder} limit 1
      for update of n skip locked
    ), wrapped as (
      select n.id, n.e164, n.operator, n.provider_id from ${phoneNumbers} n
      where not exists (select 1 from from_start) and ${sellable} and ${pickOrder} < ${placeholder('start')}
      order by ${pickOrder} limit 1
      for update of n skip locked
    )
    select id, e164, operator, provider_id as "providerId" from from_start
    union all
    select id, e164, operator, provider_id as "providerId" from wrapped`,
  );
}

const lockFreeNumberStatements = { anyOperator: lockFreeNumberStatement(false), onOperator: lockFreeNumberStatement(true) };

/**
 * Sells a locked number to an activation, in one statement: the number becomes busy, its use for
 * the service is recorded (the primary key refuses a second sale for one service), its rental
 * starts with what it costs us, and a lease on it (a number a remote source handed out) is bound
 * to the activation. The rental's cost: `supplyCost` when the source set it (a lease: the
 * upstream's cost or the agent's payout, null when unknown); otherwise, for a number of our own,
 * the provider's configured cost per number (settings.costPerNumber, default 0).
 */
export async function markNumberSold(
  tx: Db,
  input: { numberId: number; activationId: number; serviceCode: string; at: Date; supplyCost?: number | null },
) {
  const values = { numberId: input.numberId, activationId: input.activationId, serviceCode: input.serviceCode, at: input.at.toISOString() };
  if (input.supplyCost === undefined) await markNumberSoldStatements.ownNumber(tx, values);
  else await markNumberSoldStatements.leased(tx, { ...values, supplyCost: input.supplyCost });
}

function markNumberSoldStatement(leased: boolean) {
  const cost = leased ? sql`${placeholder('supplyCost')}::bigint` : sql`coalesce((p.settings->>'costPerNumber')::bigint, 0)`;
  return preparedStatement(
    leased ? 'supply_mark_leased_number_sold' : 'supply_mark_own_number_sold',
    sql`
    with sold as (
      update ${phoneNumbers} set busy_activation_id = ${placeholder('activationId')}, busy_since = ${placeholder('at')}::timestamptz, busy_service_code = ${placeholder('serviceCode')}
      where id = ${placeholder('numberId')}
      returning id, provider_id
    ), used as (
      insert into ${numberServiceUses} (number_id, service_code, used_at) values (${placeholder('numberId')}, ${placeholder('serviceCode')}, ${placeholder('at')}::timestamptz)
    ), rental as (
      insert into ${numberRentals} (activation_id, number_id, provider_id, rented_at, supply_cost)
      select ${placeholder('activationId')}::bigint, sold.id, sold.provider_id, ${placeholder('at')}::timestamptz, ${cost}
      from sold join ${providers} p on p.id = sold.provider_id
    ), lease as (
      update ${remoteLeases} set activation_id = ${placeholder('activationId')}
      where number_id = ${placeholder('numberId')} and activation_id is null and finish_status is null
    )
    select 1 as done`,
  );
}

const markNumberSoldStatements = { ownNumber: markNumberSoldStatement(false), leased: markNumberSoldStatement(true) };

/**
 * Gives a number back to stock once its activation finished, in one statement: the rental ends
 * with its outcome; the number's failures in a row start again after a rental with an SMS, or
 * count one more without (at `maxFailures` the number is disabled, in this same change, so it is
 * never sold once more in between); a cancelled number rests until `cooldownUntil`; a lease on it
 * records the finish (its source is told after commit, and retried by a job); and the number is
 * free again if this activation still held it. Returns whether the rental had any SMS (a rental
 * sold before rentals were recorded asks the SMS table), the number's provider, and whether the
 * number was leased (its source is to be told).
 */
export async function releaseSoldNumber(
  tx: Db,
  input: { numberId: number; activationId: number; outcome: string; at: Date; cooldownUntil: Date | null; maxFailures: number },
): Promise<{ hadSms: boolean; providerId: number | null; leased: boolean }> {
  const result = await releaseSoldNumberStatement(tx, {
    ...input,
    at: input.at.toISOString(),
    cooldownUntil: input.cooldownUntil?.toISOString() ?? null,
  });
  const row = rowsOf<{ hadSms: boolean; providerId: number | null; leased: boolean }>(result)[0];
  return { hadSms: row.hadSms === true, providerId: row.providerId === null ? null : Number(row.providerId), leased: row.leased === true };
}

const held = sql`n.busy_activation_id = ${placeholder('activationId')}`;
const releaseSoldNumberStatement = preparedStatement(
  'supply_release_sold_number',
  sql`
    with rental as (
      update ${numberRentals} set outcome = ${placeholder('outcome')}, ended_at = ${placeholder('at')}::timestamptz
      where activation_id = ${placeholder('activationId')}
      returning first_sms_at
    ), ended as (
      select coalesce(
        (select r.first_sms_at is not null from rental r),
        exists (select 1 from ${smsMessages} s where s.activation_id = ${placeholder('activationId')})
      ) as had_sms
    ), lease as (
      update ${remoteLeases} set finish_status = ${placeholder('outcome')}
      where activation_id = ${placeholder('activationId')} and finish_status is null
      returning id
    ), released as (
      update ${phoneNumbers} n set
        consecutive_failures = case when e.had_sms then 0 else n.consecutive_failures + 1 end,
        enabled = n.enabled and (e.had_sms or n.consecutive_failures + 1 < ${placeholder('maxFailures')}),
        cooldown_until = coalesce(${placeholder('cooldownUntil')}::timestamptz, n.cooldown_until),
        busy_since = case when ${held} then null else n.busy_since end,
        busy_service_code = case when ${held} then null else n.busy_service_code end,
        busy_activation_id = case when ${held} then null else n.busy_activation_id end
      from ended e
      where n.id = ${placeholder('numberId')}
      returning n.provider_id
    )
    select e.had_sms as "hadSms", (select provider_id from released) as "providerId", exists (select 1 from lease) as "leased"
    from ended e`,
);

/** Frees a number its activation held (no outcome to record). */
export async function markNumberFree(tx: Db, numberId: number, activationId: number) {
  await tx
    .update(phoneNumbers)
    .set({ busyActivationId: null, busySince: null, busyServiceCode: null })
    .where(and(eq(phoneNumbers.id, numberId), eq(phoneNumbers.busyActivationId, activationId)));
}

/**
 * Free numbers per (service, country) pair, in one query: the free pool of each country counted
 * once, minus those of its free numbers already sold for the service. Asking for every pair (the
 * price list) walks each country's pool once, not once per service (measured on PostgreSQL with
 * 14,000 numbers and 30 pairs: ~300 ms before, ~60 ms this way; one pair about the same, ~20 ms).
 */
export async function countFreeNumbers(db: Db, pairs: { serviceCode: string; countryId: number }[], now: Date) {
  if (pairs.length === 0) return [];
  const serviceCodes = pairs.map((p) => p.serviceCode);
  const countryIds = pairs.map((p) => p.countryId);
  const result = await db.execute(sql`
    with pair as (
      select * from unnest(${sql.param(serviceCodes)}::text[], ${sql.param(countryIds)}::int[]) as pair(service_code, country_id)
    ), free as materialized (
      select n.id, n.country_id from phone_numbers n
      where n.country_id = any(${sql.param(countryIds)}::int[]) and n.enabled and n.busy_activation_id is null and n.busy_rental_id is null and n.retired_at is null
        and (n.cooldown_until is null or n.cooldown_until <= ${now.toISOString()})
        and exists (select 1 from providers p where p.id = n.provider_id and p.enabled)
    ), pool as (
      select country_id, count(*) as free from free group by country_id
    ), used as (
      select f.country_id, u.service_code, count(*) as used
      from free f join number_service_uses u on u.number_id = f.id
      where u.service_code = any(${sql.param(serviceCodes)}::text[])
      group by f.country_id, u.service_code
    )
    select pair.service_code as "serviceCode", pair.country_id as "countryId", (coalesce(pool.free, 0) - coalesce(used.used, 0))::int as available
    from pair
    left join pool on pool.country_id = pair.country_id
    left join used on used.country_id = pair.country_id and used.service_code = pair.service_code`);
  return rowsOf<{ serviceCode: string; countryId: number; available: number }>(result);
}

const insertSmsStatement = preparedQuery((db) =>
  db
    .insert(smsMessages)
    // As raw parameters, typed by their columns (see activations_insert).
    .values({
      providerId: sql`${placeholder('providerId')}`,
      numberId: sql`${placeholder('numberId')}`,
      toNumber: sql`${placeholder('toNumber')}`,
      sender: sql`${placeholder('sender')}`,
      text: sql`${placeholder('text')}`,
      code: sql`${placeholder('code')}`,
      receivedAt: sql`${placeholder('receivedAt')}::timestamptz`,
    } as unknown as typeof smsMessages.$inferInsert)
    .returning()
    .prepare('supply_insert_sms'),
);

export async function insertSms(
  tx: Db,
  input: { providerId: number; numberId: number | null; toNumber: string; sender: string; text: string; code: string | null; receivedAt: Date },
) {
  const rows = await insertSmsStatement(tx, { ...input, receivedAt: input.receivedAt.toISOString() });
  return rows[0];
}

const setSmsActivationStatement = preparedStatement(
  'supply_set_sms_activation',
  sql`update ${smsMessages} set activation_id = ${placeholder('activationId')} where id = ${placeholder('smsId')}`,
);

export async function setSmsActivation(tx: Db, smsId: number, activationId: number) {
  await setSmsActivationStatement(tx, { smsId, activationId });
}

const smsOfActivationStatement = preparedQuery((db) =>
  db
    .select()
    .from(smsMessages)
    .where(eq(smsMessages.activationId, placeholder('activationId')))
    .orderBy(asc(smsMessages.id))
    .prepare('supply_sms_of_activation'),
);

export function listSmsOfActivation(db: Db, activationId: number) {
  return smsOfActivationStatement(db, { activationId });
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
const lockRecipientStatement = preparedStatement('supply_lock_recipient', sql`select pg_advisory_xact_lock(hashtext(${placeholder('key')}))`);

export async function lockRecipient(tx: Db, providerId: number, toNumber: string) {
  await lockRecipientStatement(tx, { key: recipientLockKey(providerId, toNumber) });
}

/** An SMS with the same text to the same number from the same provider, received within the window. */
export async function findDuplicateSms(
  tx: Db,
  input: { providerId: number; toNumber: string; text: string; receivedAt: Date; windowSeconds: number },
) {
  const from = new Date(input.receivedAt.getTime() - input.windowSeconds * 1000).toISOString();
  const to = new Date(input.receivedAt.getTime() + input.windowSeconds * 1000).toISOString();
  const rows = await findDuplicateSmsStatement(tx, { providerId: input.providerId, toNumber: input.toNumber, text: input.text, from, to });
  return rows[0] ?? null;
}

const findDuplicateSmsStatement = preparedQuery((db) =>
  db
    .select()
    .from(smsMessages)
    .where(
      and(
        eq(smsMessages.providerId, placeholder('providerId')),
        eq(smsMessages.toNumber, placeholder('toNumber')),
        eq(smsMessages.text, placeholder('text')),
        sql`${smsMessages.receivedAt} between ${placeholder('from')}::timestamptz and ${placeholder('to')}::timestamptz`,
      ),
    )
    .orderBy(asc(smsMessages.id))
    .limit(1)
    .prepare('supply_find_duplicate_sms'),
);

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

const markRentalSmsStatement = preparedStatement(
  'supply_mark_rental_sms',
  sql`update ${numberRentals} set
    first_sms_at = coalesce(first_sms_at, ${placeholder('at')}::timestamptz),
    first_code_at = case when ${placeholder('hasCode')}::boolean then coalesce(first_code_at, ${placeholder('at')}::timestamptz) else first_code_at end
  where activation_id = ${placeholder('activationId')}`,
);

export async function markRentalSms(tx: Db, activationId: number, at: Date, hasCode: boolean) {
  await markRentalSmsStatement(tx, { activationId, at: at.toISOString(), hasCode });
}

export async function hasSmsForActivation(tx: Db, activationId: number) {
  const rows = await tx.select({ id: smsMessages.id }).from(smsMessages).where(eq(smsMessages.activationId, activationId)).limit(1);
  return rows.length > 0;
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
    // Unmatched: reached neither an activation nor a rental.
    .where(and(isNull(smsMessages.activationId), isNull(smsMessages.rentalId)))
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
      -- Customers' reports of its numbers (POST /activations/{id}/report; the activations module's table, read by name).
      (select count(*)::int from activation_reports x where x.provider_id = p.id) as "reports",
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
    reports: number;
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

/**
 * Takes a provider of its own numbers off sale, with `reason`, when its last `window` finished
 * rentals since it was last enabled all got no SMS; returns it when this call disabled it.
 *
 * One statement, run after a finish has committed (never inside a purchase or a finish, so they
 * never touch the provider's row): the decision and the change are one step, and a provider an
 * operator enables meanwhile is judged by its new reset point. The cost is bounded by `window`,
 * not by the provider's history: a probe of the rentals' primary key first rules it out while
 * fewer than `window` rentals can exist since the reset (activation ids are unique: at most
 * max(id) - reset of them); then its latest finished rentals are read newest first through
 * number_rentals_finished_idx (the same order, NULLS LAST included), stopping at the first with
 * an SMS, and at most `window` are counted.
 */
export async function disableProviderIfRentalsFailing(
  db: Db,
  input: { providerId: number; window: number; reason: string; at: Date; remoteKinds: string[] },
): Promise<{ id: number; name: string; kind: string } | null> {
  const result = await disableProviderIfRentalsFailingStatement(db, { ...input, at: input.at.toISOString() });
  const row = rowsOf<{ id: number; name: string; kind: string }>(result)[0];
  return row ? { id: Number(row.id), name: row.name, kind: row.kind } : null;
}

const resetAfter = sql`coalesce((p.settings->>'healthResetAfterActivation')::bigint, 0)`;
const latestFinished = sql`select r.first_sms_at from ${numberRentals} r
  where r.provider_id = p.id and r.outcome is not null and r.activation_id > ${resetAfter}
  order by r.ended_at desc nulls last, r.activation_id desc nulls last
  limit ${placeholder('window')}`;
const disableProviderIfRentalsFailingStatement = preparedStatement(
  'supply_disable_provider_if_rentals_failing',
  sql`
    update ${providers} p set
      enabled = false,
      settings = p.settings || jsonb_build_object('disabledReason', ${placeholder('reason')}::text, 'disabledAt', ${placeholder('at')}::text)
    where p.id = ${placeholder('providerId')} and p.enabled and not (p.kind = any(${placeholder('remoteKinds')}::text[]))
      and case
        when (select coalesce(max(activation_id), 0) from ${numberRentals}) - ${resetAfter} < ${placeholder('window')} then false
        when exists (select 1 from (${latestFinished}) recent where recent.first_sms_at is not null) then false
        else (select count(*) from (${latestFinished}) recent) >= ${placeholder('window')}
      end
    returning p.id, p.name, p.kind`,
);

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

/** A number as a reuse sees it (see lockNumberForReuse). */
export interface NumberForReuse {
  id: number;
  e164: string;
  operator: string;
  providerId: number;
  providerKind: string;
  providerEnabled: boolean;
  enabled: boolean;
  retiredAt: Date | null;
  busyActivationId: number | null;
  busyRentalId: number | null;
  cooldownUntil: Date | null;
}

/**
 * Locks one particular number for a reuse (POST /activations/{id}/reuse), with what decides
 * whether it may be sold again. SKIP LOCKED: a buyer (or another reuse) holding the number right
 * now is not waited for; null then, as for a number that does not exist.
 */
export async function lockNumberForReuse(tx: Db, numberId: number): Promise<NumberForReuse | null> {
  const result = await tx.execute(sql`
    select n.id, n.e164, n.operator, n.provider_id as "providerId", p.kind as "providerKind", p.enabled as "providerEnabled",
      n.enabled, n.retired_at as "retiredAt", n.busy_activation_id as "busyActivationId", n.busy_rental_id as "busyRentalId",
      n.cooldown_until as "cooldownUntil"
    from ${phoneNumbers} n join ${providers} p on p.id = n.provider_id
    where n.id = ${numberId}
    for update of n skip locked`);
  const row = rowsOf<Record<string, unknown>>(result)[0];
  if (!row) return null;
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string | Date));
  const id = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    id: Number(row.id),
    e164: row.e164 as string,
    operator: row.operator as string,
    providerId: Number(row.providerId),
    providerKind: row.providerKind as string,
    providerEnabled: row.providerEnabled === true,
    enabled: row.enabled === true,
    retiredAt: date(row.retiredAt),
    busyActivationId: id(row.busyActivationId),
    busyRentalId: id(row.busyRentalId),
    cooldownUntil: date(row.cooldownUntil),
  };
}

/**
 * Sells a number locked by lockNumberForReuse to the reuse activation, in one statement: as
 * markNumberSold for a number of our own, except that its use for the service was recorded by
 * the first sale (kept as it is: a reuse is the same customer's account again, not a new sale of
 * the number for the service). Returns false when the number was not free after all.
 */
export async function markNumberReused(tx: Db, input: { numberId: number; activationId: number; serviceCode: string; at: Date }): Promise<boolean> {
  const at = input.at.toISOString();
  const result = await tx.execute(sql`
    with sold as (
      update ${phoneNumbers} set busy_activation_id = ${input.activationId}, busy_since = ${at}::timestamptz, busy_service_code = ${input.serviceCode}
      where id = ${input.numberId} and busy_activation_id is null and busy_rental_id is null
      returning id, provider_id
    ), used as (
      insert into ${numberServiceUses} (number_id, service_code, used_at)
      select sold.id, ${input.serviceCode}, ${at}::timestamptz from sold
      on conflict do nothing
    ), rental as (
      insert into ${numberRentals} (activation_id, number_id, provider_id, rented_at, supply_cost)
      select ${input.activationId}::bigint, sold.id, sold.provider_id, ${at}::timestamptz, coalesce((p.settings->>'costPerNumber')::bigint, 0)
      from sold join ${providers} p on p.id = sold.provider_id
    )
    select count(*)::int as sold from sold`);
  return Number(rowsOf<{ sold: number }>(result)[0]?.sold ?? 0) === 1;
}

/**
 * Whether the number is now held by an activation or a rental other than the one `earlier` (an
 * SMS to it) reached: a repeat of that text is then the new holder's SMS. A number nobody holds
 * has not changed hands (a late retry of the earlier SMS stays a duplicate).
 */
export async function numberHolderChangedSince(tx: Db, numberId: number, earlier: { activationId: number | null; rentalId: number | null }): Promise<boolean> {
  const rows = await tx
    .select({ activationId: phoneNumbers.busyActivationId, rentalId: phoneNumbers.busyRentalId })
    .from(phoneNumbers)
    .where(eq(phoneNumbers.id, numberId));
  const holder = rows[0];
  if (!holder) return false;
  if (holder.activationId !== null) return holder.activationId !== earlier.activationId;
  if (holder.rentalId !== null) return holder.rentalId !== earlier.rentalId;
  return false;
}
