import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
    // A reuse (POST /activations/{id}/reuse): the earlier activation on the same number and service.
    reusedFrom: bigint('reused_from', { mode: 'number' }),
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

export const reportReasons = ['used', 'blocked', 'no_sms', 'other'] as const;
export type ReportReason = (typeof reportReasons)[number];

/**
 * A customer's report of a bad number on a waiting activation (POST /activations/{id}/report):
 * it feeds provider health and the back office; `refunded` says whether it cancelled with an
 * immediate refund (used/blocked, unless the company's reports exceed the abuse guard's share).
 */
export const activationReports = pgTable(
  'activation_reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    activationId: bigint('activation_id', { mode: 'number' }).notNull(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    numberId: integer('number_id').notNull(),
    providerId: integer('provider_id'),
    serviceCode: text('service_code').notNull(),
    reason: text('reason', { enum: reportReasons }).notNull(),
    note: text('note'),
    refunded: boolean('refunded').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('activation_reports_one_per_activation').on(t.activationId),
    index('activation_reports_company_idx').on(t.companyId, t.createdAt),
    index('activation_reports_created_idx').on(t.createdAt),
    index('activation_reports_provider_idx').on(t.providerId, t.createdAt),
    check('activation_reports_reason_known', sql`${t.reason} in ('used', 'blocked', 'no_sms', 'other')`),
  ],
);
