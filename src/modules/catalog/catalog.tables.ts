import { sql } from 'drizzle-orm';
import { bigint, boolean, check, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

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
