import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { type Database, afterCommit } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import * as repo from './support.repo.ts';

export const maxMessageLength = 2000;
export const maxCommentLength = 2000;
export const maxPageLength = 300;

/** The pub/sub channel carrying a conversation's new messages (JSON SupportMessage). */
export const supportChannel = (conversationId: number) => `support:${conversationId}`;
/** The pub/sub channel of every inbox change, for the console's live stream (JSON InboxChange). */
export const supportInboxChannel = 'support-inbox';

export interface SupportMessage {
  id: number;
  conversationId: number;
  author: 'visitor' | 'support';
  text: string;
  /** The agent who wrote a support message; null for visitors and CLI replies. */
  staffId: number | null;
  createdAt: Date;
}

/** Something an agent's inbox must show: a new message, or a conversation read/assigned/closed/reopened. */
export interface InboxChange {
  conversationId: number;
  kind: 'message' | 'read' | 'assigned' | 'closed' | 'reopened';
  message?: SupportMessage;
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

export type FeedbackContext = repo.FeedbackContext;

export interface SupportService {
  startConversation(accountId: number | null, page?: string | null): Promise<{ conversationId: number; visitorToken: string }>;
  /** The conversation of a visitor token, or null. */
  conversationOf(visitorToken: string): Promise<{ id: number; accountId: number | null } | null>;
  /** Ties an anonymous conversation to the account that signed in. */
  attachAccount(conversationId: number, accountId: number): Promise<void>;
  messages(conversationId: number, afterId?: number): Promise<SupportMessage[]>;
  /**
   * A new message. A visitor's records the page they wrote from; an agent's (`staffId`) marks the
   * conversation read. Either reopens a closed conversation: someone is talking in it again.
   */
  post(conversationId: number, author: 'visitor' | 'support', text: string, options?: { staffId?: number | null; page?: string | null }): Promise<SupportMessage>;
  /** Support has read everything in the conversation so far. */
  markRead(conversationId: number): Promise<void>;
  /** Hands the conversation to an agent (null: back to unassigned). Audited. */
  assign(actor: Actor, conversationId: number, staffId: number | null): Promise<void>;
  close(actor: Actor, conversationId: number): Promise<void>;
  reopen(actor: Actor, conversationId: number): Promise<void>;
  /** Deletes closed anonymous conversations closed more than `retentionDays` ago; returns how many. */
  deleteExpired(retentionDays: number, batchSize?: number): Promise<number>;
  inbox(): Promise<InboxEntry[]>;
  leaveFeedback(input: { rating: number; comment?: string; context: FeedbackContext; reference?: string; accountId: number | null }): Promise<number>;
  /** Called after each committed message (the web layer publishes it to live subscribers). */
  onMessage(listener: (message: SupportMessage) => void): void;
  /** Called after each committed inbox change (the console publishes it to agents' live streams). */
  onInboxChange(listener: (change: InboxChange) => void): void;
  /** How many live listeners are registered (none in a standalone CLI process). */
  listenerCount(): number;
}

export const hashVisitorToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Plain text only: control characters (except newline and tab) dropped, trimmed. */
function cleanText(text: string): string {
  // biome-ignore lint: control characters are what this removes
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
}

/** A website path for the agent's context ("/prices"); anything else (a full URL, a query) is cut to the path. */
export function cleanPage(page: string | null | undefined): string | null {
  if (!page) return null;
  const path = cleanText(page).split(/[?#]/)[0];
  if (!path.startsWith('/') || path.startsWith('//')) return null;
  return path.slice(0, maxPageLength);
}

export function createSupportService(deps: { database: Database; clock: Clock; audit: AuditService }): SupportService {
  const { database, clock, audit } = deps;
  const db = database.db;
  const messageListeners: ((message: SupportMessage) => void)[] = [];
  const changeListeners: ((change: InboxChange) => void)[] = [];
  const announce = (change: InboxChange) => {
    for (const listener of changeListeners) listener(change);
  };

  /** Changes the conversation's status in one transaction with its audit entry. */
  async function changeConversation(
    actor: Actor,
    conversationId: number,
    kind: 'assigned' | 'closed' | 'reopened',
    decide: (row: repo.ConversationRow) => Parameters<typeof repo.updateConversation>[2] | null,
  ) {
    await database.transaction(async (tx) => {
      const row = await repo.lockConversation(tx, conversationId);
      if (!row) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
      const set = decide(row);
      // Already in the asked state: nothing to change, nothing to audit.
      if (!set) return;
      await repo.updateConversation(tx, conversationId, set);
      const before = { assigned_staff_id: row.assignedStaffId, closed: row.closedAt !== null };
      const after = { assigned_staff_id: set.assignedStaffId !== undefined ? set.assignedStaffId : row.assignedStaffId, closed: set.closedAt !== undefined ? set.closedAt !== null : before.closed };
      const action = kind === 'assigned' ? 'support.assign' : kind === 'closed' ? 'support.close' : 'support.reopen';
      await audit.record(tx, actor, { action, targetType: 'support_conversation', targetId: conversationId, before, after });
      afterCommit(tx, () => announce({ conversationId, kind }));
    });
  }

  return {
    async startConversation(accountId, page) {
      const visitorToken = `nv_${randomBytes(24).toString('base64url')}`;
      const conversationId = await repo.insertConversation(db, { visitorTokenHash: hashVisitorToken(visitorToken), accountId, page: cleanPage(page), createdAt: clock.now() });
      return { conversationId, visitorToken };
    },
    async conversationOf(visitorToken) {
      if (!visitorToken) return null;
      return repo.findConversationByTokenHash(db, hashVisitorToken(visitorToken));
    },
    attachAccount(conversationId, accountId) {
      return repo.attachAccount(db, conversationId, accountId);
    },
    messages(conversationId, afterId = 0) {
      return repo.listMessages(db, conversationId, afterId, 500);
    },
    async post(conversationId, author, text, options = {}) {
      const clean = cleanText(text);
      if (!clean) throw new AppError('invalid_request', 'The message is empty');
      if (clean.length > maxMessageLength) throw new AppError('invalid_request', `A message has at most ${maxMessageLength} characters`);
      return database.transaction(async (tx) => {
        const now = clock.now();
        const row = await repo.lockConversation(tx, conversationId);
        if (!row) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
        const message = await repo.insertMessage(tx, { conversationId, author, text: clean, staffId: author === 'support' ? (options.staffId ?? null) : null, createdAt: now });
        const page = author === 'visitor' ? cleanPage(options.page) : null;
        await repo.updateConversation(tx, conversationId, {
          lastMessageAt: now,
          closedAt: null,
          ...(page ? { page } : {}),
          // An agent answering has read what came before (a CLI reply has no agent and reads nothing).
          ...(author === 'support' && options.staffId ? { staffReadMessageId: message.id } : {}),
        });
        afterCommit(tx, () => {
          for (const listener of messageListeners) listener(message);
          announce({ conversationId, kind: 'message', message });
        });
        return message;
      });
    },
    async markRead(conversationId) {
      const before = await repo.findConversation(db, conversationId);
      if (!before) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
      // Only a real change goes out: agents' screens re-read on events, and must not ping-pong.
      if (await repo.markRead(db, conversationId)) announce({ conversationId, kind: 'read' });
    },
    async assign(actor, conversationId, staffId) {
      if (staffId !== null && !(await repo.staffEmails(db, [staffId])).has(staffId)) {
        throw new AppError('not_found', `Staff member ${staffId} does not exist`);
      }
      await changeConversation(actor, conversationId, 'assigned', (row) => (row.assignedStaffId === staffId ? null : { assignedStaffId: staffId }));
    },
    async close(actor, conversationId) {
      await changeConversation(actor, conversationId, 'closed', (row) => (row.closedAt ? null : { closedAt: clock.now() }));
    },
    async reopen(actor, conversationId) {
      await changeConversation(actor, conversationId, 'reopened', (row) => (row.closedAt ? { closedAt: null } : null));
    },
    async deleteExpired(retentionDays, batchSize = 100) {
      const closedBefore = new Date(clock.now().getTime() - retentionDays * 24 * 3600 * 1000);
      let total = 0;
      // In batches, so a backlog after downtime clears without one huge transaction.
      for (;;) {
        const count = await database.transaction((tx) => repo.deleteClosedAnonymous(tx, closedBefore, batchSize));
        total += count;
        if (count < batchSize) return total;
      }
    },
    async inbox() {
      const rows = await repo.cliInbox(db);
      const last = new Map((await repo.messagesByIds(db, rows.flatMap((r) => (r.lastMessageId ? [r.lastMessageId] : [])))).map((m) => [m.id, m]));
      return rows.map((row) => {
        const message = row.lastMessageId ? last.get(row.lastMessageId) : undefined;
        return {
          conversationId: row.id,
          accountId: row.accountId,
          email: row.accountEmail,
          messages: row.messages,
          lastAuthor: message?.author ?? null,
          lastText: message?.text ?? null,
          lastMessageAt: row.lastMessageAt,
        };
      });
    },
    async leaveFeedback(input) {
      if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
        throw new AppError('invalid_request', 'The rating is a whole number from 1 to 5');
      }
      const comment = input.comment === undefined ? null : cleanText(input.comment) || null;
      if (comment && comment.length > maxCommentLength) throw new AppError('invalid_request', `A comment has at most ${maxCommentLength} characters`);
      return repo.insertFeedback(db, { rating: input.rating, comment, context: input.context, reference: input.reference ?? null, accountId: input.accountId, createdAt: clock.now() });
    },
    onMessage(listener) {
      messageListeners.push(listener);
    },
    onInboxChange(listener) {
      changeListeners.push(listener);
    },
    listenerCount() {
      return messageListeners.length;
    },
  };
}
