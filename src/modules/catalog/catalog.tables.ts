import { sql } from 'drizzle-orm';
import { bigint, boolean, check, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const services = pgTable('services', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  enabled: boolean('enabled').notNull().default(true),
});

export const countries = pgTable('countries', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  iso: text('iso').notNull().unique(),
  // Dialing prefix without the plus sign, e.g. '1' for the United States.
  dialPrefix: text('dial_prefix').notNull(),
  enabled: boolean('enabled').notNull().default(true),
});

export const prices = pgTable(
  'prices',
  {
    serviceCode: text('service_code')
      .notNull()
      .references(() => services.code),
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    // Price of one activation in 1/10000 USD.
    price: bigint('price', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceCode, t.countryId] }), check('prices_positive', sql`${t.price} > 0`)],
);

/** Mobile operators known per country (numbers carry the operator code; 'any' means no preference). */
export const operators = pgTable(
  'operators',
  {
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    code: text('code').notNull(),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.countryId, t.code] })],
);

/** A price for one operator that overrides the service × country price when a buyer asks for that operator. */
export const operatorPrices = pgTable(
  'operator_prices',
  {
    serviceCode: text('service_code')
      .notNull()
      .references(() => services.code),
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    operator: text('operator').notNull(),
    price: bigint('price', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceCode, t.countryId, t.operator] }), check('operator_prices_positive', sql`${t.price} > 0`)],
);

/**
 * How the price of a service × country is set: 'markup' follows the supply cost (cost × (1 +
 * percent) but at least cost + min margin) whenever that cost changes; 'manual' keeps the price
 * an operator typed in, whatever the cost does.
 */
export const pricingRules = pgTable(
  'pricing_rules',
  {
    serviceCode: text('service_code')
      .notNull()
      .references(() => services.code),
    countryId: integer('country_id')
      .notNull()
      .references(() => countries.id),
    mode: text('mode', { enum: ['markup', 'manual'] }).notNull(),
    // Markup in basis points of the cost (2500 = 25 %).
    markupBasisPoints: integer('markup_basis_points').notNull().default(0),
    // Smallest margin over cost, in 1/10000 USD.
    minMargin: bigint('min_margin', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.serviceCode, t.countryId] }),
    check('pricing_rules_mode_known', sql`${t.mode} in ('markup', 'manual')`),
    check('pricing_rules_not_negative', sql`${t.markupBasisPoints} >= 0 and ${t.minMargin} >= 0`),
  ],
);
