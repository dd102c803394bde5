import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Clock } from '../../clock.ts';
import { type Database, afterCommit, rowsOf } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { feedback, supportConversations, supportMessages } from './support.tables.ts';

export const maxMessageLength = 2000;
export const maxCommentLength = 2000;

/** The pub/sub channel carrying a conversation's new messages (JSON SupportMessage). */
export const supportChannel = (conversationId: number) => `support:${conversationId}`;

export interface SupportMessage {
  id: number;
  conversationId: number;
  author: 'visitor' | 'support';
  text: string;
  createdAt: Date;
}

export interface InboxEntry {
  conversationId: number;
  accountId: number | null;
  email: string | null;
  messages: number;
  lastAuthor: 'visitor' | 'support' | null;
  lastText: string | null;
  lastMessageAt: Date | null;
}

export type FeedbackContext = 'activation' | 'chat' | 'general';

export interface SupportService {
  startConversation(accountId: number | null): Promise<{ conversationId: number; visitorToken: string }>;
  /** The conversation of a visitor token, or null. */
  conversationOf(visitorToken: string): Promise<{ id: number; accountId: number | null } | null>;
  /** Ties an anonymous conversation to the account that signed in. */
  attachAccount(conversationId: number, accountId: number): Promise<void>;
  messages(conversationId: number, afterId?: number): Promise<SupportMessage[]>;
  post(conversationId: number, author: 'visitor' | 'support', text: string): Promise<SupportMessage>;
  inbox(): Promise<InboxEntry[]>;
  leaveFeedback(input: { rating: number; comment?: string; context: FeedbackContext; reference?: string; accountId: number | null }): Promise<number>;
  /** Called after each committed message (the web layer publishes it to live subscribers). */
  onMessage(listener: (message: SupportMessage) => void): void;
  /** How many live listeners are registered (none in a standalone CLI process). */
  listenerCount(): number;
}

export const hashVisitorToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Plain text only: control characters (except newline and tab) dropped, trimmed. */
function cleanText(text: string): string {
  // biome-ignore lint: control characters are what this removes
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
}

export function createSupportService(deps: { database: Database; clock: Clock }): SupportService {
  const { database, clock } = deps;
  const listeners: ((message: SupportMessage) => void)[] = [];

  return {
    async startConversation(accountId) {
      const visitorToken = `nv_${randomBytes(24).toString('base64url')}`;
      const rows = await database.db
        .insert(supportConversations)
        .values({ visitorTokenHash: hashVisitorToken(visitorToken), accountId, createdAt: clock.now() })
        .returning({ id: supportConversations.id });
      return { conversationId: rows[0].id, visitorToken };
    },
    async conversationOf(visitorToken) {
      if (!visitorToken) return null;
      const rows = await database.db
        .select({ id: supportConversations.id, accountId: supportConversations.accountId })
        .from(supportConversations)
        .where(eq(supportConversations.visitorTokenHash, hashVisitorToken(visitorToken)));
      return rows[0] ?? null;
    },
    async attachAccount(conversationId, accountId) {
      await database.db
        .update(supportConversations)
        .set({ accountId })
        .where(and(eq(supportConversations.id, conversationId), sql`${supportConversations.accountId} is null`));
    },
    async messages(conversationId, afterId = 0) {
      return database.db
        .select()
        .from(supportMessages)
        .where(and(eq(supportMessages.conversationId, conversationId), gt(supportMessages.id, afterId)))
        .orderBy(asc(supportMessages.id))
        .limit(500);
    },
    async post(conversationId, author, text) {
      const clean = cleanText(text);
      if (!clean) throw new AppError('invalid_request', 'The message is empty');
      if (clean.length > maxMessageLength) throw new AppError('invalid_request', `A message has at most ${maxMessageLength} characters`);
      return database.transaction(async (tx) => {
        const updated = await tx
          .update(supportConversations)
          .set({ lastMessageAt: clock.now() })
          .where(eq(supportConversations.id, conversationId))
          .returning({ id: supportConversations.id });
        if (updated.length === 0) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
        const rows = await tx.insert(supportMessages).values({ conversationId, author, text: clean, createdAt: clock.now() }).returning();
        const message = rows[0];
        afterCommit(tx, () => {
          for (const listener of listeners) listener(message);
        });
        return message;
      });
    },
    async inbox() {
      const result = await database.db.execute(sql`
        select c.id as "conversationId", c.account_id as "accountId", a.email,
               (select count(*)::int from support_messages m where m.conversation_id = c.id) as messages,
               last.author as "lastAuthor", last.text as "lastText", c.last_message_at as "lastMessageAt"
        from support_conversations c
        left join accounts a on a.id = c.account_id
        left join lateral (
          select author, text from support_messages m where m.conversation_id = c.id order by m.id desc limit 1
        ) last on true
        where c.last_message_at is not null
        order by c.last_message_at desc
        limit 100`);
      return rowsOf<InboxEntry & { lastMessageAt: Date | string | null }>(result).map((row) => ({
        ...row,
        conversationId: Number(row.conversationId),
        accountId: row.accountId === null ? null : Number(row.accountId),
        lastMessageAt: row.lastMessageAt === null ? null : new Date(row.lastMessageAt),
      }));
    },
    async leaveFeedback(input) {
      if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
        throw new AppError('invalid_request', 'The rating is a whole number from 1 to 5');
      }
      const comment = input.comment === undefined ? null : cleanText(input.comment) || null;
      if (comment && comment.length > maxCommentLength) throw new AppError('invalid_request', `A comment has at most ${maxCommentLength} characters`);
      const rows = await database.db
        .insert(feedback)
        .values({ rating: input.rating, comment, context: input.context, reference: input.reference ?? null, accountId: input.accountId, createdAt: clock.now() })
        .returning({ id: feedback.id });
      return rows[0].id;
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    listenerCount() {
      return listeners.length;
    },
  };
}

