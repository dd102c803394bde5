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
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('phone_numbers_free_idx').on(t.countryId, t.operator).where(sql`${t.busyActivationId} is null and ${t.enabled}`),
    index('phone_numbers_provider_idx').on(t.providerId),
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
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('sms_messages_activation_idx').on(t.activationId, t.id),
    index('sms_messages_number_idx').on(t.numberId, t.receivedAt),
  ],
);
