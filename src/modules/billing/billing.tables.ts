import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { companies } from '../accounts/accounts.tables.ts';

export const ledgerEntryKinds = ['topup', 'purchase', 'refund', 'adjustment'] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    kind: text('kind', { enum: ledgerEntryKinds }).notNull(),
    // Signed amount in 1/10000 USD: credits positive, debits negative.
    amount: bigint('amount', { mode: 'number' }).notNull(),
    balanceAfter: bigint('balance_after', { mode: 'number' }).notNull(),
    activationId: bigint('activation_id', { mode: 'number' }),
    // A rental's charges (the first period and each extension) and its refund carry its id.
    rentalId: bigint('rental_id', { mode: 'number' }),
    reason: text('reason').notNull(),
    // The audit entry of a staff adjustment (audit_log.id): who made it and why.
    auditId: bigint('audit_id', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('ledger_company_idx').on(t.companyId, t.id),
    check('ledger_kind_known', sql`${t.kind} in ('topup', 'purchase', 'refund', 'adjustment')`),
    // The database itself refuses a second charge or a second refund of one activation.
    uniqueIndex('ledger_one_purchase_per_activation').on(t.activationId).where(sql`${t.kind} = 'purchase'`),
    uniqueIndex('ledger_one_refund_per_activation').on(t.activationId).where(sql`${t.kind} = 'refund'`),
    uniqueIndex('ledger_one_refund_per_rental').on(t.rentalId).where(sql`${t.kind} = 'refund'`),
  ],
);
