import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { countries } from '../catalog/catalog.tables.ts';

export const providers = pgTable('providers', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  // 'demo' (built-in fake SIMs) or 'http' (generic push ingestion); later issues add more kinds.
  kind: text('kind').notNull(),
  // SHA-256 of the secret the provider authenticates with when it pushes SMS to us.
  secretHash: text('secret_hash').unique(),
  enabled: boolean('enabled').notNull().default(true),
  settings: jsonb('settings').notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  // Remote sources: an instance polling this source's stock holds it until then, so several
  // instances do not poll one source at the same moment; a claim left by a dead instance runs out.
  stockClaimedUntil: timestamp('stock_claimed_until', { withTimezone: true }),
});

export const phoneNumbers = pgTable(
  'phone_numbers',
  {
    id: serial('id').primaryKey(),
    e164: text('e164').notNull().unique(),
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    operator: text('operator').notNull().default('any'),
    providerId: integer('provider_id')
      .notNull()
      .references(() => providers.id),
    enabled: boolean('enabled').notNull().default(true),
    // The activation currently holding this number; null while it is free.
    busyActivationId: bigint('busy_activation_id', { mode: 'number' }).unique(),
    busySince: timestamp('busy_since', { withTimezone: true }),
    busyServiceCode: text('busy_service_code'),
    // The rental currently holding this number (issue 11); a rented number is out of activation stock.
    busyRentalId: bigint('busy_rental_id', { mode: 'number' }).unique(),
    // The operator lets customers rent this number by the hour (numbers:add --rentable).
    rentable: boolean('rentable').notNull().default(false),
    // SMS Gateway for Android: the phone (its deviceId) and SIM slot (simNumber) this number lives in.
    deviceId: text('device_id'),
    simSlot: integer('sim_slot'),
    // After a cancel the number rests until then, so the next buyer does not get the cancelled
    // customer's late SMS.
    cooldownUntil: timestamp('cooldown_until', { withTimezone: true }),
    // Rentals in a row that ended without any SMS; past NOVA_NUMBER_MAX_FAILURES the number is disabled.
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    // Retired numbers are never sold again but keep their history (rentals, SMS).
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The walks of buyers through the free pool (see lockFreeNumber in supply.repo.ts): sellable
    // numbers of a country (and operator) in their pick order, a hash of the id that the query
    // repeats word for word. Stock counts read them too.
    index('phone_numbers_sellable_idx')
      .on(t.countryId, sql`((${t.id}::bigint * 2654435761) % 4294967296)`)
      .where(sql`${t.busyActivationId} is null and ${t.busyRentalId} is null and ${t.enabled} and ${t.retiredAt} is null`),
    index('phone_numbers_sellable_operator_idx')
      .on(t.countryId, t.operator, sql`((${t.id}::bigint * 2654435761) % 4294967296)`)
      .where(sql`${t.busyActivationId} is null and ${t.busyRentalId} is null and ${t.enabled} and ${t.retiredAt} is null`),
    // Rentals pick among the free rentable numbers of a country (see the rentals module).
    index('phone_numbers_rentable_idx')
      .on(t.countryId, t.operator)
      .where(sql`${t.rentable} and ${t.busyActivationId} is null and ${t.busyRentalId} is null and ${t.enabled} and ${t.retiredAt} is null`),
    index('phone_numbers_provider_idx').on(t.providerId),
    uniqueIndex('phone_numbers_device_sim_idx').on(t.providerId, t.deviceId, t.simSlot),
  ],
);

/** A number is sold at most once per service: a customer must never get a number already registered there. */
export const numberServiceUses = pgTable(
  'number_service_uses',
  {
    numberId: integer('number_id')
      .notNull()
      .references(() => phoneNumbers.id),
    serviceCode: text('service_code').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.numberId, t.serviceCode] })],
);

/** Every SMS we receive, matched or not: nothing a provider pushes is dropped. */
export const smsMessages = pgTable(
  'sms_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    providerId: integer('provider_id')
      .notNull()
      .references(() => providers.id),
    numberId: integer('number_id').references(() => phoneNumbers.id),
    toNumber: text('to_number').notNull(),
    sender: text('sender').notNull(),
    text: text('text').notNull(),
    code: text('code'),
    activationId: bigint('activation_id', { mode: 'number' }),
    // The rental the SMS reached (a rented number gets every SMS); null otherwise.
    rentalId: bigint('rental_id', { mode: 'number' }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('sms_messages_activation_idx').on(t.activationId, t.id),
    index('sms_messages_rental_idx').on(t.rentalId, t.id),
    index('sms_messages_number_idx').on(t.numberId, t.receivedAt),
    // Duplicate detection: the same text to the same number from one provider within minutes.
    index('sms_messages_duplicate_idx').on(t.providerId, t.toNumber, t.receivedAt),
  ],
);

/**
 * One sale of a number (an activation holding it), from the supply side: when it was bought,
 * when its first SMS and code came, how it ended. Provider health is computed from these rows.
 */
export const numberRentals = pgTable(
  'number_rentals',
  {
    activationId: bigint('activation_id', { mode: 'number' }).primaryKey(),
    numberId: integer('number_id')
      .notNull()
      .references(() => phoneNumbers.id),
    providerId: integer('provider_id').notNull(),
    rentedAt: timestamp('rented_at', { withTimezone: true }).notNull(),
    firstSmsAt: timestamp('first_sms_at', { withTimezone: true }),
    firstCodeAt: timestamp('first_code_at', { withTimezone: true }),
    // completed | cancelled | expired; null while the activation is open.
    outcome: text('outcome'),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    // What this sale cost us (1/10000 USD): the upstream's price, the agent's payout, or the
    // provider's configured cost per number; null when unknown.
    supplyCost: bigint('supply_cost', { mode: 'number' }),
  },
  (t) => [
    index('number_rentals_provider_idx').on(t.providerId, t.rentedAt),
    // The provider health check reads a provider's latest finished rentals after every finish
    // without SMS; without this index (and an ORDER BY with the same NULLS LAST) that is a scan
    // and sort of its whole history.
    index('number_rentals_finished_idx')
      .on(t.providerId, t.endedAt.desc(), t.activationId.desc())
      .where(sql`${t.outcome} is not null`),
  ],
);

/**
 * Signed webhook deliveries already processed (event ids and signatures), so a replayed or
 * retried delivery is never ingested twice.
 */
export const webhookReceipts = pgTable(
  'supply_webhook_receipts',
  {
    providerId: integer('provider_id')
      .notNull()
      .references(() => providers.id),
    receiptKey: text('receipt_key').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
  },
  // received_at: the retention job deletes old receipts by age (src/jobs/retention-purge.job.ts).
  (t) => [primaryKey({ columns: [t.providerId, t.receiptKey] }), index('supply_webhook_receipts_received_idx').on(t.receivedAt)],
);

/**
 * A number leased from a remote source (a SIM-bank agent speaking the SMSHub protocol) for one
 * purchase: requested outside any transaction, then sold (activation_id set) or given back.
 * `finish_status` is written in the transaction that ends the activation and `notified_at` once
 * the agent acknowledged it, so the agent hears about every finish even across restarts.
 */
export const remoteLeases = pgTable(
  'remote_leases',
  {
    id: serial('id').primaryKey(),
    providerId: integer('provider_id')
      .notNull()
      .references(() => providers.id),
    numberId: integer('number_id')
      .notNull()
      .references(() => phoneNumbers.id),
    // The agent's activationId.
    remoteId: text('remote_id').notNull(),
    activationId: bigint('activation_id', { mode: 'number' }).unique(),
    // completed | cancelled | expired | released (never sold)
    finishStatus: text('finish_status'),
    notifiedAt: timestamp('notified_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    // An instance calling the source about this lease (its status or its finish) holds it until
    // then: no other instance makes the same call at once; a dead instance's claim runs out.
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('remote_leases_pending_idx').on(t.id).where(sql`${t.finishStatus} is not null and ${t.notifiedAt} is null`),
    index('remote_leases_number_idx').on(t.numberId),
  ],
);

/** What each remote source last reported it can sell (SMSHub GET_SERVICES, sms-activate getPrices), per country, operator and service. */
export const remoteStock = pgTable(
  'remote_stock',
  {
    providerId: integer('provider_id')
      .notNull()
      .references(() => providers.id),
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    operator: text('operator').notNull(),
    serviceCode: text('service_code').notNull(),
    available: integer('available').notNull(),
    // What one number costs us there (1/10000 USD), when the source says (sms-activate getPrices).
    cost: bigint('cost', { mode: 'number' }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.countryId, t.operator, t.serviceCode] })],
);
