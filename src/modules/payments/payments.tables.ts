import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { companies } from '../accounts/accounts.tables.ts';

/**
 * Top-ups through a payment provider. `external_id` (the Stripe Checkout Session id, or a demo
 * id) is unique: a replayed webhook finds the row already credited and credits nothing.
 */
export const payments = pgTable(
  'payments',
  {
    id: serial('id').primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    accountId: integer('account_id'),
    provider: text('provider', { enum: ['stripe', 'demo'] }).notNull(),
    externalId: text('external_id').notNull().unique(),
    // 1/10000 USD.
    amount: bigint('amount', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['pending', 'credited'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    creditedAt: timestamp('credited_at', { withTimezone: true }),
  },
  (t) => [
    index('payments_company_idx').on(t.companyId),
    check('payments_status_known', sql`${t.status} in ('pending', 'credited')`),
    check('payments_amount_positive', sql`${t.amount} > 0`),
  ],
);
