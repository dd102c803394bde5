import { and, count, desc, eq, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { type Db, preparedQuery, preparedStatement, rowsOf } from '../../db/database.ts';
import { activations, type ActivationStatus } from './activations.tables.ts';

export type ActivationRow = typeof activations.$inferSelect;
export type NewActivation = typeof activations.$inferInsert;

const openStatuses: ActivationStatus[] = ['waiting', 'sms_received'];

// The statements every purchase, poll (on a cache miss) and finish runs: prepared once per
// connection (see preparedQuery), values by name.
const placeholder = sql.placeholder;
const byId = eq(activations.id, placeholder('id'));
const insertColumns = [
  'companyId', 'accountId', 'serviceCode', 'countryId', 'operator', 'numberId', 'number', 'price', 'status',
  'code', 'text', 'idempotencyKey', 'createdAt', 'expiresAt', 'smsReceivedAt', 'finishedAt', 'reusedFrom',
] as const satisfies readonly (keyof NewActivation)[];
const insertStatement = preparedQuery((db) =>
  db
    .insert(activations)
    // As raw parameters (PostgreSQL types them by their columns): Drizzle's own mapping of a
    // placeholder fails on a null timestamp.
    .values(Object.fromEntries(insertColumns.map((column) => [column, sql`${placeholder(column)}`])) as unknown as NewActivation)
    .returning()
    .prepare('activations_insert'),
);
const findStatement = preparedQuery((db) => db.select().from(activations).where(byId).prepare('activations_find'));
const lockStatement = preparedQuery((db) => db.select().from(activations).where(byId).for('update').prepare('activations_lock'));
const finishStatement = preparedQuery((db) =>
  db
    .update(activations)
    .set({ status: sql`${placeholder('status')}`, finishedAt: sql`${placeholder('finishedAt')}::timestamptz` })
    .where(byId)
    .returning()
    .prepare('activations_finish'),
);

export async function insertActivation(tx: Db, input: NewActivation): Promise<ActivationRow> {
  const values: Record<string, unknown> = {};
  for (const column of insertColumns) {
    const value = input[column] ?? null;
    values[column] = value instanceof Date ? value.toISOString() : value;
  }
  const rows = await insertStatement(tx, values);
  return rows[0];
}

export async function findActivation(db: Db, id: number): Promise<ActivationRow | null> {
  const rows = await findStatement(db, { id });
  return rows[0] ?? null;
}

export async function lockActivation(tx: Db, id: number): Promise<ActivationRow | null> {
  const rows = await lockStatement(tx, { id });
  return rows[0] ?? null;
}

// What a customer's cancel requires, in both forms below: the key may see the activation, it is
// waiting, and it was bought no later than `boughtBefore`.
const cancellable = and(
  byId,
  eq(activations.status, 'waiting'),
  eq(activations.companyId, sql`${placeholder('companyId')}::int`),
  sql`(${placeholder('accountId')}::int is null or ${activations.accountId} = ${placeholder('accountId')}::int)`,
  sql`${activations.createdAt} <= ${placeholder('boughtBefore')}::timestamptz`,
)!;
const cancelIfAllowedStatement = preparedQuery((db) =>
  db
    .update(activations)
    .set({ status: 'cancelled', finishedAt: sql`${placeholder('at')}::timestamptz` })
    .where(cancellable)
    .returning()
    .prepare('activations_cancel_if_allowed'),
);

/**
 * Cancels a waiting activation of the company (of the account, when given) bought no later than
 * `boughtBefore`, in one statement that takes its row lock; null when any of that does not hold
 * (nothing written: the caller finds out why).
 */
export async function cancelIfAllowed(
  tx: Db,
  id: number,
  input: { companyId: number; accountId: number | null; boughtBefore: Date; at: Date },
): Promise<ActivationRow | null> {
  const rows = await cancelIfAllowedStatement(tx, {
    id,
    companyId: input.companyId,
    accountId: input.accountId,
    boughtBefore: input.boughtBefore.toISOString(),
    at: input.at.toISOString(),
  });
  return rows[0] ?? null;
}

// The same cancel as a statement that fails (nova_refuse, SQLSTATE NV001) when it writes nothing:
// sent ahead of the release and the refund (sendAhead), its failure rolls them back with it.
const cancelOrRefuseStatement = preparedStatement(
  'activations_cancel_or_refuse',
  sql`
    with cancelled as (
      update ${activations} set status = 'cancelled', finished_at = ${placeholder('at')}::timestamptz
      where ${cancellable}
      returning id
    )
    select id from cancelled
    union all
    select nova_refuse('activation not cancellable') where not exists (select 1 from cancelled)`,
);

/**
 * cancelIfAllowed for a caller that knows the activation already and sends the rest of the finish
 * behind it without waiting: writes the same, answers nothing, and fails (isRefusedStatement)
 * instead of writing nothing, so that the whole transaction rolls back.
 */
export async function cancelOrRefuse(tx: Db, id: number, input: { companyId: number; accountId: number | null; boughtBefore: Date; at: Date }): Promise<void> {
  await cancelOrRefuseStatement(tx, {
    id,
    companyId: input.companyId,
    accountId: input.accountId,
    boughtBefore: input.boughtBefore.toISOString(),
    at: input.at.toISOString(),
  });
}

/** An activation's end: its final status and when. */
export async function finishActivation(tx: Db, id: number, status: ActivationStatus, finishedAt: Date): Promise<ActivationRow> {
  const rows = await finishStatement(tx, { id, status, finishedAt: finishedAt.toISOString() });
  return rows[0];
}

export async function findByIdempotencyKey(db: Db, accountId: number, key: string): Promise<ActivationRow | null> {
  const rows = await db
    .select()
    .from(activations)
    .where(and(eq(activations.accountId, accountId), eq(activations.idempotencyKey, key)));
  return rows[0] ?? null;
}

// The first key of the two-key advisory locks that serialise retries of one purchase (any fixed
// number: two-key locks do not share a key space with one-key locks such as the SMS recipient's).
const idempotencyLockSpace = 7_211_000;

/**
 * Holds, until the transaction ends, the purchase an account makes with this Idempotency-Key:
 * concurrent retries of it wait here, then find the activation the first one made.
 */
export async function lockIdempotencyKey(tx: Db, accountId: number, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${idempotencyLockSpace}, hashtext(${`${accountId}:${key}`}))`);
}

const lockOpenOnNumberStatement = preparedQuery((db) =>
  db
    .select()
    .from(activations)
    // The statuses as literals, not values: planned without its values, the statement must still
    // match the predicate of the one-open-per-number index, or it scans every activation.
    .where(and(eq(activations.numberId, placeholder('numberId')), sql`${activations.status} in ('waiting', 'sms_received')`))
    .for('update')
    .prepare('activations_lock_open_on_number'),
);

/** The open activation on a number (an SMS to it is its SMS), locked. */
export async function lockOpenActivationOnNumber(tx: Db, numberId: number): Promise<ActivationRow | null> {
  const rows = await lockOpenOnNumberStatement(tx, { numberId });
  return rows[0] ?? null;
}

const recordSmsStatement = preparedQuery((db) =>
  db
    .update(activations)
    .set({
      status: 'sms_received',
      code: sql`${placeholder('code')}`,
      text: sql`${placeholder('text')}`,
      smsReceivedAt: sql`${placeholder('smsReceivedAt')}::timestamptz`,
    })
    .where(byId)
    .returning()
    .prepare('activations_record_sms'),
);

/** An SMS reached the activation: its status, code, text and the time of its first SMS. */
export async function recordSms(tx: Db, id: number, sms: { code: string | null; text: string; smsReceivedAt: Date }): Promise<ActivationRow> {
  const rows = await recordSmsStatement(tx, { id, code: sms.code, text: sms.text, smsReceivedAt: sms.smsReceivedAt.toISOString() });
  return rows[0];
}

/** Open activations past expiry, locked; rows another sweeper holds are skipped, not waited for. */
export async function lockExpiredOpenActivations(tx: Db, now: Date, limit: number): Promise<ActivationRow[]> {
  return tx
    .select()
    .from(activations)
    .where(and(inArray(activations.status, openStatuses), lte(activations.expiresAt, now)))
    .orderBy(activations.expiresAt)
    .limit(limit)
    .for('update', { skipLocked: true });
}

export interface ActivationFilter {
  companyId: number;
  /** Set for members: they see only their own activations. */
  accountId?: number;
  status?: ActivationStatus;
}

function whereOf(filter: ActivationFilter): SQL | undefined {
  const conditions = [eq(activations.companyId, filter.companyId)];
  if (filter.accountId !== undefined) conditions.push(eq(activations.accountId, filter.accountId));
  if (filter.status !== undefined) conditions.push(eq(activations.status, filter.status));
  return and(...conditions);
}

export async function listActivations(db: Db, filter: ActivationFilter, page: { limit: number; offset: number }) {
  return db
    .select()
    .from(activations)
    .where(whereOf(filter))
    .orderBy(desc(activations.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function countActivations(db: Db, filter: ActivationFilter): Promise<number> {
  const rows = await db.select({ n: count() }).from(activations).where(whereOf(filter));
  return Number(rows[0].n);
}

/** Activations per status over all companies: one grouped count (metrics scrape it). */
export async function countByStatus(db: Db): Promise<Map<ActivationStatus, number>> {
  const rows = await db.select({ status: activations.status, n: count() }).from(activations).groupBy(activations.status);
  return new Map(rows.map((row) => [row.status, Number(row.n)]));
}

export interface MemberSpending {
  activations: number;
  /** In 1/10000 USD. */
  spent: number;
}

/** Per member of a company: how many activations and how much they cost (refunded ones excluded). */
export async function memberSpending(db: Db, companyId: number): Promise<Map<number, MemberSpending>> {
  const result = await db.execute(sql`
    select account_id as "accountId", count(*)::int as n,
           coalesce(sum(price) filter (where status in ('waiting', 'sms_received', 'completed')), 0)::bigint as spent
    from activations where company_id = ${companyId} group by account_id`);
  const rows = rowsOf<{ accountId: number; n: number; spent: string | number }>(result);
  return new Map(rows.map((row) => [Number(row.accountId), { activations: Number(row.n), spent: Number(row.spent) }]));
}

/** Companies that bought a number containing these digits, with the number, latest purchase first. */
export async function findCompaniesByNumber(db: Db, digits: string, limit: number): Promise<{ companyId: number; number: string }[]> {
  const result = await db.execute(sql`
    select company_id as "companyId", number from activations
    where number like ${`%${digits}%`}
    group by company_id, number order by max(id) desc limit ${limit}`);
  return rowsOf<{ companyId: number; number: string }>(result).map((row) => ({ companyId: Number(row.companyId), number: row.number }));
}
