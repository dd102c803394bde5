import type { Database } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { AccountsService } from '../accounts/accounts.service.ts';
import type { Activation, ActivationsService } from '../activations/activations.service.ts';
import * as repo from './support.repo.ts';
import type { SupportMessage, SupportService } from './support.service.ts';

/** One row of the agents' inbox. */
export interface ConversationSummary {
  id: number;
  status: 'open' | 'closed';
  account: { id: number; email: string; companyId: number; companyName: string } | null;
  assignedTo: { id: number; email: string } | null;
  page: string | null;
  unread: number;
  messages: number;
  lastMessage: { author: 'visitor' | 'support'; text: string; createdAt: Date } | null;
  lastMessageAt: Date | null;
  createdAt: Date;
  closedAt: Date | null;
}

export interface InboxMessage extends SupportMessage {
  staff: { id: number; email: string } | null;
}

export interface UnreadTotals {
  totalUnread: number;
  unreadConversations: number;
}

/** What the agent sees beside a conversation: who is writing, from where, and what they bought lately. */
export interface VisitorContext {
  conversationId: number;
  page: string | null;
  account: { id: number; email: string; role: 'owner' | 'member'; createdAt: Date } | null;
  company: { id: number; name: string; balance: number; blocked: boolean; blockedReason: string | null } | null;
  recentActivations: Activation[];
}

export interface SupportInboxService {
  list(staffId: number, filter: Omit<repo.InboxFilter, 'staffId'>, page: { limit: number; offset: number }): Promise<{ conversations: ConversationSummary[]; total: number } & UnreadTotals>;
  /** One conversation's row; 404 when it does not exist. */
  summary(conversationId: number): Promise<ConversationSummary>;
  unreadTotals(): Promise<UnreadTotals>;
  /** The conversation's messages after `afterId`, oldest first; marks the conversation read. */
  read(conversationId: number, afterId: number): Promise<{ conversation: ConversationSummary; messages: InboxMessage[] }>;
  withStaff(messages: SupportMessage[]): Promise<InboxMessage[]>;
  context(conversationId: number): Promise<VisitorContext>;
}

const recentActivationsShown = 10;

/** The console's reads of the support chat: the inbox, a thread, the visitor's context. */
export function createSupportInboxService(deps: { database: Database; support: SupportService; accounts: AccountsService; activations: ActivationsService }): SupportInboxService {
  const { database, support, accounts, activations } = deps;
  const db = database.db;

  async function summariesOf(rows: repo.ConversationSummaryRow[]): Promise<ConversationSummary[]> {
    const lastIds = rows.flatMap((row) => (row.lastMessageId ? [row.lastMessageId] : []));
    const last = new Map((await repo.messagesByIds(db, lastIds)).map((m) => [m.id, m]));
    return rows.map((row) => {
      const message = row.lastMessageId ? last.get(row.lastMessageId) : undefined;
      return {
        id: row.id,
        status: row.closedAt ? 'closed' : 'open',
        account:
          row.accountId !== null && row.accountEmail !== null && row.companyId !== null
            ? { id: row.accountId, email: row.accountEmail, companyId: row.companyId, companyName: row.companyName ?? '' }
            : null,
        assignedTo: row.assignedStaffId !== null ? { id: row.assignedStaffId, email: row.assignedEmail ?? '' } : null,
        page: row.page,
        unread: row.unread,
        messages: row.messages,
        lastMessage: message ? { author: message.author, text: message.text, createdAt: message.createdAt } : null,
        lastMessageAt: row.lastMessageAt,
        createdAt: row.createdAt,
        closedAt: row.closedAt,
      };
    });
  }

  const service: SupportInboxService = {
    async list(staffId, filter, page) {
      const full = { ...filter, staffId };
      const [rows, total, totals] = await Promise.all([repo.listSummaries(db, full, page), repo.countSummaries(db, full), repo.unreadTotals(db)]);
      return { conversations: await summariesOf(rows), total, ...totals };
    },
    async summary(conversationId) {
      const row = await repo.findSummary(db, conversationId);
      if (!row) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
      return (await summariesOf([row]))[0];
    },
    unreadTotals() {
      return repo.unreadTotals(db);
    },
    async read(conversationId, afterId) {
      await support.markRead(conversationId);
      const [conversation, messages] = await Promise.all([service.summary(conversationId), support.messages(conversationId, afterId)]);
      return { conversation, messages: await service.withStaff(messages) };
    },
    async withStaff(messages) {
      const ids = [...new Set(messages.flatMap((m) => (m.staffId === null ? [] : [m.staffId])))];
      const emails = await repo.staffEmails(db, ids);
      return messages.map((m) => ({ ...m, staff: m.staffId === null ? null : { id: m.staffId, email: emails.get(m.staffId) ?? '' } }));
    },
    async context(conversationId) {
      const conversation = await repo.findConversation(db, conversationId);
      if (!conversation) throw new AppError('not_found', `Conversation ${conversationId} does not exist`);
      // A removed account shows as none: there is nobody signed in to talk to any more.
      const account = conversation.accountId === null ? null : await accounts.account(conversation.accountId);
      if (!account) return { conversationId, page: conversation.page, account: null, company: null, recentActivations: [] };
      const [[company], principal] = await Promise.all([accounts.companySummaries([account.companyId]), accounts.principalOfAccount(account.id)]);
      // What the customer sees in their own list: the company's for an owner, their own for a member.
      const recent = principal ? await activations.list(principal, { limit: recentActivationsShown, offset: 0 }) : { activations: [] };
      return {
        conversationId,
        page: conversation.page,
        account: { id: account.id, email: account.email, role: account.role, createdAt: account.createdAt },
        company: company
          ? { id: company.id, name: company.name, balance: company.balance, blocked: company.blockedAt !== null, blockedReason: company.blockedReason }
          : null,
        recentActivations: recent.activations,
      };
    },
  };
  return service;
}
