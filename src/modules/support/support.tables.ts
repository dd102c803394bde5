import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts.tables.ts';

/** "Chat with us": one conversation per visitor token (kept in the browser; stored hashed). */
export const supportConversations = pgTable('support_conversations', {
  id: serial('id').primaryKey(),
  visitorTokenHash: text('visitor_token_hash').notNull().unique(),
  accountId: integer('account_id').references(() => accounts.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
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
