import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { rowsOf } from '../../db/database.ts';
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

export async function setCompanyBalance(tx: Db, companyId: number, balance: number): Promise<void> {
  await tx.update(companies).set({ balance }).where(eq(companies.id, companyId));
}

export interface NewLedgerEntry {
  companyId: number;
  kind: LedgerEntryKind;
  amount: number;
  balanceAfter: number;
  activationId?: number | null;
  reason: string;
  /** The audit entry of a staff or CLI adjustment. */
  auditId?: number | null;
  createdAt: Date;
}

export async function insertLedgerEntry(tx: Db, entry: NewLedgerEntry) {
  const rows = await tx.insert(ledgerEntries).values(entry).returning();
  return rows[0];
}

export async function hasLedgerEntry(tx: Db, activationId: number, kind: LedgerEntryKind): Promise<boolean> {
  const rows = await tx
    .select({ id: ledgerEntries.id })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.activationId, activationId), eq(ledgerEntries.kind, kind)));
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

