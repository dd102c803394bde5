import { and, desc, eq, sql } from 'drizzle-orm';
import { type Db, preparedStatement, rowsOf } from '../../db/database.ts';
import { companies } from '../accounts/accounts.tables.ts';
import { ledgerEntries, type LedgerEntryKind } from './billing.tables.ts';

export async function lockCompanyBalance(tx: Db, companyId: number): Promise<number | null> {
  const rows = await tx
    .select({ balance: companies.balance })
    .from(companies)
    .where(eq(companies.id, companyId))
    .for('update');
  return rows[0]?.balance ?? null;
}

export async function readCompanyBalance(db: Db, companyId: number): Promise<number | null> {
  const rows = await db.select({ balance: companies.balance }).from(companies).where(eq(companies.id, companyId));
  return rows[0]?.balance ?? null;
}

export interface NewLedgerEntry {
  companyId: number;
  kind: LedgerEntryKind;
  amount: number;
  balanceAfter: number;
  activationId?: number | null;
  /** A rental's charge (its first period or an extension) or refund. */
  rentalId?: number | null;
  reason: string;
  /** The audit entry of a staff or CLI adjustment. */
  auditId?: number | null;
  createdAt: Date;
}

export type LedgerEntryRow = typeof ledgerEntries.$inferSelect;

/**
 * Moves a company's balance by `amount` (signed) and writes its ledger row with the balance
 * after, in one statement, so the balance always equals the sum of its ledger. The conditional
 * UPDATE is where the company's row lock is taken (or waited for); once granted, PostgreSQL
 * re-checks `balance + amount >= 0` against the latest balance, so concurrent postings never
 * spend the same money twice. With `oncePer` (refunds only), nothing is written either when the activation (or
 * rental) the entry names already has a refund (the unique indexes on
 * ledger_entries refuse a second refund in any case). Null when the company does not exist, the
 * balance would go below zero, or (oncePer) the entry exists already: then nothing was written.
 * With `failIfRefused`, the statement fails (isRefusedStatement) instead of answering nothing,
 * except for an entry that exists already (oncePer), which stays a null: the form for the last
 * statement of a transaction whose COMMIT goes out right behind it (lastStatementOf).
 */
export async function postLedgerEntry(
  tx: Db,
  entry: Omit<NewLedgerEntry, 'balanceAfter'>,
  options: { oncePer?: 'activation' | 'rental'; failIfRefused?: boolean } = {},
): Promise<LedgerEntryRow | null> {
  if (options.oncePer && entry.kind !== 'refund') throw new Error(`Only refunds are posted once per ${options.oncePer}, not ${entry.kind}`);
  const statements = options.failIfRefused ? failingPostLedgerEntryStatements : postLedgerEntryStatements;
  const result = await statements[options.oncePer ?? 'always'](tx, {
    ...entry,
    activationId: entry.activationId ?? null,
    rentalId: entry.rentalId ?? null,
    auditId: entry.auditId ?? null,
    createdAt: entry.createdAt.toISOString(),
  });
  // bigint columns arrive as strings from node-postgres; the rest of the row is what was written.
  const row = rowsOf<{ id: number | string; balanceAfter: number | string }>(result)[0];
  if (!row) return null;
  return {
    id: Number(row.id),
    companyId: entry.companyId,
    kind: entry.kind,
    amount: entry.amount,
    balanceAfter: Number(row.balanceAfter),
    activationId: entry.activationId ?? null,
    rentalId: entry.rentalId ?? null,
    reason: entry.reason,
    auditId: entry.auditId ?? null,
    createdAt: entry.createdAt,
  };
}

const placeholder = sql.placeholder;

function postLedgerEntryStatement(oncePer: 'activation' | 'rental' | 'always', failIfRefused: boolean) {
  // The kind written out, not a placeholder: only a constant matches the partial unique indexes
  // (`where kind = 'refund'`), and a prepared statement's generic plan, made without the values,
  // scanned the whole ledger otherwise (test/db/statement-plans.test.ts).
  const existing =
    oncePer === 'activation'
      ? sql`exists (select 1 from ${ledgerEntries} l where l.activation_id = ${placeholder('activationId')}::bigint and l.kind = 'refund')`
      : oncePer === 'rental'
        ? sql`exists (select 1 from ${ledgerEntries} l where l.rental_id = ${placeholder('rentalId')}::bigint and l.kind = 'refund')`
        : null;
  const posted = sql`
    moved as (
      update ${companies} set balance = balance + ${placeholder('amount')}::bigint
      where id = ${placeholder('companyId')} and balance + ${placeholder('amount')}::bigint >= 0 ${existing ? sql`and not ${existing}` : sql``}
      returning balance
    ), posted as (
      insert into ${ledgerEntries} (company_id, kind, amount, balance_after, activation_id, rental_id, reason, audit_id, created_at)
      select ${placeholder('companyId')}::int, ${placeholder('kind')}::text, ${placeholder('amount')}::bigint, moved.balance,
        ${placeholder('activationId')}::bigint, ${placeholder('rentalId')}::bigint, ${placeholder('reason')}::text, ${placeholder('auditId')}::bigint,
        ${placeholder('createdAt')}::timestamptz
      from moved
      returning id, balance_after
    )`;
  const name = oncePer === 'always' ? 'billing_post_ledger_entry' : `billing_post_ledger_entry_once_per_${oncePer}`;
  if (!failIfRefused) return preparedStatement(name, sql`with ${posted} select id, balance_after as "balanceAfter" from posted`);
  // The refusal as an error (migration 0006's nova_refuse): the row that calls it exists only when
  // nothing was posted. Its message carries the balance (read by refusalOf), so that the caller
  // need not read it on a second connection while the transaction's is still held.
  return preparedStatement(
    `${name}_or_fail`,
    sql`with ${posted}
    select id, balance_after as "balanceAfter" from posted
    union all
    select null, nova_refuse(coalesce('balance ' || (select c.balance from ${companies} c where c.id = ${placeholder('companyId')}), 'no company'))
    where not exists (select 1 from posted) ${existing ? sql`and not ${existing}` : sql``}`,
  );
}

const postLedgerEntryStatements = {
  always: postLedgerEntryStatement('always', false),
  activation: postLedgerEntryStatement('activation', false),
  rental: postLedgerEntryStatement('rental', false),
};
const failingPostLedgerEntryStatements = {
  always: postLedgerEntryStatement('always', true),
  activation: postLedgerEntryStatement('activation', true),
  rental: postLedgerEntryStatement('rental', true),
};

/** What a refused posting of the failing form says: the company's balance then, or that it does not exist. */
export function refusalOf(error: unknown): { balance: number } | { noCompany: true } {
  const message = String((error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message);
  const balance = /^balance (-?\d+)$/.exec(message);
  return balance ? { balance: Number(balance[1]) } : { noCompany: true };
}

/** Whether the activation (or rental) already has a ledger entry of this kind. */
export async function hasLedgerEntry(tx: Db, of: { activationId: number } | { rentalId: number }, kind: LedgerEntryKind): Promise<boolean> {
  const owner = 'activationId' in of ? eq(ledgerEntries.activationId, of.activationId) : eq(ledgerEntries.rentalId, of.rentalId);
  const rows = await tx.select({ id: ledgerEntries.id }).from(ledgerEntries).where(and(owner, eq(ledgerEntries.kind, kind)));
  return rows.length > 0;
}

export async function listLedgerEntries(db: Db, companyId: number, limit: number, offset: number) {
  return db
    .select()
    .from(ledgerEntries)
    .where(eq(ledgerEntries.companyId, companyId))
    .orderBy(desc(ledgerEntries.id))
    .limit(limit)
    .offset(offset);
}

export async function countLedgerEntries(db: Db, companyId: number): Promise<number> {
  const result = await db.execute(sql`select count(*)::int as n from ledger_entries where company_id = ${companyId}`);
  return Number(rowsOf<{ n: number }>(result)[0].n);
}

export interface LedgerMismatch {
  companyId: number;
  balance: number;
  ledgerSum: number;
}

/** Companies whose cached balance differs from the sum of their ledger. */
export async function findLedgerMismatches(db: Db): Promise<LedgerMismatch[]> {
  const result = await db.execute(sql`
    select c.id as "companyId", c.balance::bigint as balance, coalesce(sum(l.amount), 0)::bigint as "ledgerSum"
    from companies c left join ledger_entries l on l.company_id = c.id
    group by c.id, c.balance
    having c.balance <> coalesce(sum(l.amount), 0)
    order by c.id`);
  return rowsOf<{ companyId: number; balance: string | number; ledgerSum: string | number }>(result).map((row) => ({
    companyId: Number(row.companyId),
    balance: Number(row.balance),
    ledgerSum: Number(row.ledgerSum),
  }));
}
