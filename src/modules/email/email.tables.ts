import { sql } from 'drizzle-orm';
import { index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';

/** Emails to send: written in the transaction that decides to send them, sent by the email job. */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: serial('id').primaryKey(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    // While an instance sends this email, no other takes it; if that instance dies mid-send the
    // claim runs out and another one sends it.
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  },
  (t) => [index('email_outbox_pending_idx').on(t.id).where(sql`${t.sentAt} is null`)],
);
