import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.tables.ts';
import { staff } from '../staff/staff.tables.ts';

/** "Chat with us": one conversation per visitor token (kept in the browser; stored hashed). */
export const supportConversations = pgTable('support_conversations', {
  id: serial('id').primaryKey(),
  visitorTokenHash: text('visitor_token_hash').notNull().unique(),
  accountId: integer('account_id').references(() => accounts.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
  // The agent handling it; null while unassigned.
  assignedStaffId: integer('assigned_staff_id').references(() => staff.id),
  closedAt: timestamp('closed_at', { withTimezone: true }),
  // Visitor messages with a greater id are unread by support.
  staffReadMessageId: integer('staff_read_message_id').notNull().default(0),
  // The website page the visitor was on when they last wrote (path only).
  page: text('page'),
});

export const supportMessages = pgTable(
  'support_messages',
  {
    id: serial('id').primaryKey(),
    conversationId: integer('conversation_id')
      .notNull()
      .references(() => supportConversations.id),
    author: text('author', { enum: ['visitor', 'support'] }).notNull(),
    // Plain text, shown as text; never rendered as HTML.
    text: text('text').notNull(),
    // The agent who wrote a support message (null for visitors and CLI replies).
    staffId: integer('staff_id').references(() => staff.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('support_messages_conversation_idx').on(t.conversationId, t.id),
    check('support_messages_author_known', sql`${t.author} in ('visitor', 'support')`),
  ],
);

/** "How was your experience?" answers. */
export const feedback = pgTable(
  'feedback',
  {
    id: serial('id').primaryKey(),
    rating: integer('rating').notNull(),
    comment: text('comment'),
    context: text('context', { enum: ['activation', 'chat', 'general'] }).notNull(),
    reference: text('reference'),
    accountId: integer('account_id').references(() => accounts.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('feedback_rating_range', sql`${t.rating} between 1 and 5`),
    check('feedback_context_known', sql`${t.context} in ('activation', 'chat', 'general')`),
  ],
);
