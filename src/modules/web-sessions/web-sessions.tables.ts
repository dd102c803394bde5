import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts, apiKeys, companies } from '../accounts/accounts.tables.ts';

/** Website sign-ins: the cookie holds a random token, the database only its SHA-256. */
export const webSessions = pgTable(
  'web_sessions',
  {
    id: serial('id').primaryKey(),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Sliding: pushed forward while the session is used.
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('web_sessions_account_idx').on(t.accountId)],
);

/** Single-use password reset links (hashed token, 1 hour). */
export const passwordResets = pgTable(
  'password_resets',
  {
    id: serial('id').primaryKey(),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
);

/**
 * Sign-ups waiting for their emailed confirmation link: the account (company, owner, API key) is
 * created only when the link is opened, so the sign-up answer is the same whether or not the
 * email already has an account. The password is kept hashed, as it will be on the account.
 */
export const pendingSignUps = pgTable(
  'pending_sign_ups',
  {
    id: serial('id').primaryKey(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    companyName: text('company_name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('pending_sign_ups_email_idx').on(t.email), index('pending_sign_ups_expires_idx').on(t.expiresAt)],
);

/** Invitations to join a company; accepting creates the invitee's account and API key. */
export const invites = pgTable(
  'invites',
  {
    id: serial('id').primaryKey(),
    companyId: integer('company_id')
      .notNull()
      .references(() => companies.id),
    email: text('email').notNull(),
    role: text('role', { enum: ['owner', 'member'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: integer('invited_by')
      .notNull()
      .references(() => accounts.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
  },
  (t) => [index('invites_company_idx').on(t.companyId), check('invites_role_known', sql`${t.role} in ('owner', 'member')`)],
);

/**
 * The website shows an account its API key in full (Profile → API access), but api_keys keeps
 * only hashes: keys issued through the website are kept here sealed (AES-256-GCM, NOVA_SECRET).
 */
export const sealedApiKeys = pgTable('sealed_api_keys', {
  keyId: integer('key_id')
    .primaryKey()
    .references(() => apiKeys.id),
  sealed: text('sealed').notNull(),
});
