import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts, companies } from '../accounts/accounts.tables.ts';

export const activationStatuses = ['waiting', 'sms_received', 'completed', 'cancelled', 'expired'] as const;
export type ActivationStatus = (typeof activationStatuses)[number];

export const activations = pgTable(
  'activations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    serviceCode: text('service_code').notNull(),
    countryId: integer('country_id').notNull(),
    operator: text('operator').notNull(),
    numberId: integer('number_id').notNull(),
    number: text('number').notNull(),
    price: bigint('price', { mode: 'number' }).notNull(),
    status: text('status', { enum: activationStatuses }).notNull(),
    code: text('code'),
    text: text('text'),
    idempotencyKey: text('idempotency_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    smsReceivedAt: timestamp('sms_received_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('activations_company_idx').on(t.companyId, t.id),
    index('activations_account_idx').on(t.accountId, t.id),
    index('activations_open_expiry_idx').on(t.expiresAt).where(sql`${t.status} in ('waiting', 'sms_received')`),
    uniqueIndex('activations_idempotency_key').on(t.accountId, t.idempotencyKey),
    // A number serves at most one open activation: the last line of defence against selling it twice.
    uniqueIndex('activations_one_open_per_number').on(t.numberId).where(sql`${t.status} in ('waiting', 'sms_received')`),
    check('activations_status_known', sql`${t.status} in ('waiting', 'sms_received', 'completed', 'cancelled', 'expired')`),
  ],
);
