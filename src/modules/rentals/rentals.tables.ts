import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { accounts, companies } from '../accounts/accounts.tables.ts';
import { countries } from '../catalog/catalog.tables.ts';
import { phoneNumbers } from '../supply/supply.tables.ts';

export const rentalStatuses = ['active', 'finished', 'cancelled', 'expired'] as const;
export type RentalStatus = (typeof rentalStatuses)[number];

/** What renting a number costs per country (and operator; 'any' is the country's default), per hour and per day. */
export const rentalPrices = pgTable(
  'rental_prices',
  {
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    operator: text('operator').notNull().default('any'),
    // 1/10000 USD.
    pricePerHour: bigint('price_per_hour', { mode: 'number' }).notNull(),
    pricePerDay: bigint('price_per_day', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.countryId, t.operator] }),
    check('rental_prices_positive', sql`${t.pricePerHour} > 0 and ${t.pricePerDay} > 0`),
  ],
);

/**
 * A number rented by the hour: it receives every SMS, for every service, until `expires_at`, and
 * is sold to nobody else meanwhile (the number's `busy_rental_id` points here while active).
 */
export const rentals = pgTable(
  'rentals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    countryId: integer('country_id').notNull(),
    operator: text('operator').notNull(),
    numberId: integer('number_id')
      .notNull()
      .references(() => phoneNumbers.id),
    number: text('number').notNull(),
    // Everything charged for this rental so far (the first period and every extension), 1/10000 USD.
    price: bigint('price', { mode: 'number' }).notNull(),
    // Hours paid for so far.
    hours: integer('hours').notNull(),
    status: text('status', { enum: rentalStatuses }).notNull(),
    idempotencyKey: text('idempotency_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    // The first SMS that reached it: a rental that got one can no longer be cancelled for a refund.
    firstSmsAt: timestamp('first_sms_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('rentals_company_idx').on(t.companyId, t.id),
    index('rentals_account_idx').on(t.accountId, t.id),
    index('rentals_active_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'active'`),
    uniqueIndex('rentals_idempotency_key').on(t.accountId, t.idempotencyKey),
    // A number serves at most one active rental: the last line of defence against renting it twice.
    uniqueIndex('rentals_one_active_per_number').on(t.numberId).where(sql`${t.status} = 'active'`),
    check('rentals_status_known', sql`${t.status} in ('active', 'finished', 'cancelled', 'expired')`),
    check('rentals_hours_positive', sql`${t.hours} > 0`),
  ],
);
