import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { companies } from '../accounts/accounts.tables.ts';

export const webhookEventTypes = ['activation.sms_received', 'activation.expired', 'activation.cancelled', 'activation.reported', 'balance.low', 'rental.message_received', 'rental.expired'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export const webhookDeliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: serial('id').primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    // Kept in clear: every delivery is signed with it (HMAC), so it cannot be stored as a hash.
    secret: text('secret').notNull(),
    // balance.low fires when the balance falls below this (1/10000 USD), once per crossing.
    balanceLowThreshold: bigint('balance_low_threshold', { mode: 'number' }).notNull(),
    // True while the balance stays below the threshold after balance.low fired; a rise above re-arms it.
    balanceLowNotified: boolean('balance_low_notified').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [index('webhook_endpoints_company_idx').on(t.companyId)],
);

/**
 * The outbox: one row per event per endpoint, written in the transaction of the change it
 * reports, so a committed change always gets its delivery and a rolled-back one never does.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id),
    companyId: integer('company_id').notNull(),
    // The event's id (Nova-Event-Id): the same on a resend, so receivers can drop duplicates.
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    // The exact JSON body sent (and signed), fixed when the event happened.
    payload: text('payload').notNull(),
    status: text('status', { enum: webhookDeliveryStatuses }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastResponseCode: integer('last_response_code'),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    resendOf: bigint('resend_of', { mode: 'number' }),
  },
  (t) => [
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    // Finished deliveries by age, for the retention job (src/jobs/retention-purge.job.ts).
    index('webhook_deliveries_finished_idx').on(t.createdAt).where(sql`${t.status} <> 'pending'`),
    check('webhook_deliveries_status_known', sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);
