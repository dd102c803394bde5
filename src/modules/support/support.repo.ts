import { and, asc, count, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { accounts, companies } from '../accounts/accounts.tables.ts';
import { staff } from '../staff/staff.tables.ts';
import { feedback, supportConversations, supportMessages } from './support.tables.ts';

export type ConversationRow = typeof supportConversations.$inferSelect;
export type SupportMessageRow = typeof supportMessages.$inferSelect;
export type FeedbackContext = (typeof feedback.$inferSelect)['context'];

// ---- Visitor side ----

export async function insertConversation(db: Db, row: { visitorTokenHash: string; accountId: number | null; page: string | null; createdAt: Date }) {
  const rows = await db.insert(supportConversations).values(row).returning({ id: supportConversations.id });
  return rows[0].id;
}

export async function findConversationByTokenHash(db: Db, visitorTokenHash: string) {
  const rows = await db
    .select({ id: supportConversations.id, accountId: supportConversations.accountId })
    .from(supportConversations)
    .where(eq(supportConversations.visitorTokenHash, visitorTokenHash));
  return rows[0] ?? null;
}

/** Ties an anonymous conversation to an account; one that already has an account keeps it. */
export async function attachAccount(db: Db, conversationId: number, accountId: number) {
  await db
    .update(supportConversations)
    .set({ accountId })
    .where(and(eq(supportConversations.id, conversationId), isNull(supportConversations.accountId)));
}

export function listMessages(db: Db, conversationId: number, afterId: number, limit: number): Promise<SupportMessageRow[]> {
  return db
    .select()
    .from(supportMessages)
    .where(and(eq(supportMessages.conversationId, conversationId), gt(supportMessages.id, afterId)))
    .orderBy(asc(supportMessages.id))
    .limit(limit);
}

export async function insertMessage(
  tx: Db,
  row: { conversationId: number; author: 'visitor' | 'support'; text: string; staffId: number | null; createdAt: Date },
): Promise<SupportMessageRow> {
  const rows = await tx.insert(supportMessages).values(row).returning();
  return rows[0];
}

export async function insertFeedback(
  db: Db,
  row: { rating: number; comment: string | null; context: FeedbackContext; reference: string | null; accountId: number | null; createdAt: Date },
) {
  const rows = await db.insert(feedback).values(row).returning({ id: feedback.id });
  return rows[0].id;
}

// ---- Conversations (both sides) ----

/** The conversation row, locked until the transaction ends (status changes decide on it). */
export async function lockConversation(tx: Db, id: number): Promise<ConversationRow | null> {
  const rows = await tx.select().from(supportConversations).where(eq(supportConversations.id, id)).for('update');
  return rows[0] ?? null;
}

export async function findConversation(db: Db, id: number): Promise<ConversationRow | null> {
  const rows = await db.select().from(supportConversations).where(eq(supportConversations.id, id));
  return rows[0] ?? null;
}

export async function updateConversation(
  tx: Db,
  id: number,
  set: Partial<Pick<ConversationRow, 'lastMessageAt' | 'page' | 'closedAt' | 'assignedStaffId' | 'staffReadMessageId'>>,
): Promise<ConversationRow | null> {
  const rows = await tx.update(supportConversations).set(set).where(eq(supportConversations.id, id)).returning();
  return rows[0] ?? null;
}

/**
 * Everything in the conversation up to now counts as read by support (never moves backwards).
 * False when there was nothing new to mark, or no such conversation.
 */
export async function markRead(db: Db, id: number): Promise<boolean> {
  const latest = sql`coalesce((select max(m.id) from support_messages m where m.conversation_id = ${id}), 0)`;
  const rows = await db
    .update(supportConversations)
    .set({ staffReadMessageId: latest })
    .where(and(eq(supportConversations.id, id), lt(supportConversations.staffReadMessageId, latest)))
    .returning({ id: supportConversations.id });
  return rows.length > 0;
}

// ---- The inbox (read model for the console; names of accounts and staff are joined for display) ----

export interface InboxFilter {
  status: 'open' | 'closed' | 'all';
  assigned: 'all' | 'mine' | 'unassigned';
  /** The agent asking (for `mine`). */
  staffId: number;
}

export interface ConversationSummaryRow {
  id: number;
  accountId: number | null;
  accountEmail: string | null;
  companyId: number | null;
  companyName: string | null;
  assignedStaffId: number | null;
  assignedEmail: string | null;
  page: string | null;
  unread: number;
  messages: number;
  lastMessageId: number | null;
  lastMessageAt: Date | null;
  createdAt: Date;
  closedAt: Date | null;
}

const unreadOf = sql<number>`(select count(*) from support_messages m where m.conversation_id = ${supportConversations.id} and m.author = 'visitor' and m.id > ${supportConversations.staffReadMessageId})`;

function inboxWhere(filter: InboxFilter): SQL | undefined {
  const conditions: SQL[] = [isNotNull(supportConversations.lastMessageAt)];
  if (filter.status === 'open') conditions.push(isNull(supportConversations.closedAt));
  if (filter.status === 'closed') conditions.push(isNotNull(supportConversations.closedAt));
  if (filter.assigned === 'mine') conditions.push(eq(supportConversations.assignedStaffId, filter.staffId));
  if (filter.assigned === 'unassigned') conditions.push(isNull(supportConversations.assignedStaffId));
  return and(...conditions);
}

function summaryQuery(db: Db) {
  return db
    .select({
      id: supportConversations.id,
      accountId: supportConversations.accountId,
      accountEmail: accounts.email,
      companyId: companies.id,
      companyName: companies.name,
      assignedStaffId: supportConversations.assignedStaffId,
      assignedEmail: staff.email,
      page: supportConversations.page,
      unread: unreadOf.mapWith(Number),
      messages: sql<number>`(select count(*) from support_messages m where m.conversation_id = ${supportConversations.id})`.mapWith(Number),
      lastMessageId: sql<number | null>`(select max(m.id) from support_messages m where m.conversation_id = ${supportConversations.id})`.mapWith(Number),
      lastMessageAt: supportConversations.lastMessageAt,
      createdAt: supportConversations.createdAt,
      closedAt: supportConversations.closedAt,
    })
    .from(supportConversations)
    .leftJoin(accounts, eq(accounts.id, supportConversations.accountId))
    .leftJoin(companies, eq(companies.id, accounts.companyId))
    .leftJoin(staff, eq(staff.id, supportConversations.assignedStaffId));
}

export async function listSummaries(db: Db, filter: InboxFilter, page: { limit: number; offset: number }): Promise<ConversationSummaryRow[]> {
  return summaryQuery(db)
    .where(inboxWhere(filter))
    .orderBy(desc(supportConversations.lastMessageAt), desc(supportConversations.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function findSummary(db: Db, id: number): Promise<ConversationSummaryRow | null> {
  const rows = await summaryQuery(db).where(eq(supportConversations.id, id));
  return rows[0] ?? null;
}

export async function countSummaries(db: Db, filter: InboxFilter): Promise<number> {
  const rows = await db.select({ n: count() }).from(supportConversations).where(inboxWhere(filter));
  return rows[0].n;
}

export async function unreadTotals(db: Db): Promise<{ totalUnread: number; unreadConversations: number }> {
  const rows = await db
    .select({
      totalUnread: sql<number>`coalesce(sum(${unreadOf}), 0)`.mapWith(Number),
      unreadConversations: sql<number>`count(*) filter (where ${unreadOf} > 0)`.mapWith(Number),
    })
    .from(supportConversations)
    .where(isNotNull(supportConversations.lastMessageAt));
  return rows[0];
}

export function messagesByIds(db: Db, ids: number[]): Promise<SupportMessageRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.select().from(supportMessages).where(inArray(supportMessages.id, ids));
}

/** The email of each staff id that exists (message authors, assignees). */
export async function staffEmails(db: Db, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: staff.id, email: staff.email }).from(staff).where(inArray(staff.id, ids));
  return new Map(rows.map((row) => [row.id, row.email]));
}

// ---- Retention ----

/**
 * Deletes up to `limit` closed anonymous conversations closed before `closedBefore`, messages
 * first. The rows are locked (skipping ones another instance holds) so a visitor writing at
 * the same moment either reopens the conversation first (and it is kept) or finds it gone.
 */
export async function deleteClosedAnonymous(tx: Db, closedBefore: Date, limit: number): Promise<number> {
  const doomed = await tx
    .select({ id: supportConversations.id })
    .from(supportConversations)
    .where(and(isNull(supportConversations.accountId), isNotNull(supportConversations.closedAt), lt(supportConversations.closedAt, closedBefore)))
    .orderBy(asc(supportConversations.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  const ids = doomed.map((row) => row.id);
  if (ids.length === 0) return 0;
  await tx.delete(supportMessages).where(inArray(supportMessages.conversationId, ids));
  await tx.delete(supportConversations).where(inArray(supportConversations.id, ids));
  return ids.length;
}

// ---- The CLI's inbox (support:inbox) ----

export async function cliInbox(db: Db) {
  const rows = await summaryQuery(db)
    .where(isNotNull(supportConversations.lastMessageAt))
    .orderBy(desc(supportConversations.lastMessageAt), desc(supportConversations.id))
    .limit(100);
  return rows;
}

// ---- Feedback reports ----

export async function feedbackDistribution(db: Db, since: Date) {
  return db
    .select({ rating: feedback.rating, n: count() })
    .from(feedback)
    .where(gte(feedback.createdAt, since))
    .groupBy(feedback.rating);
}

export async function feedbackPerDay(db: Db, since: Date) {
  const day = sql<string>`to_char(${feedback.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  return db
    .select({ date: day, n: count(), sum: sql<number>`sum(${feedback.rating})`.mapWith(Number) })
    .from(feedback)
    .where(gte(feedback.createdAt, since))
    .groupBy(day);
}

const withComment = and(isNotNull(feedback.comment), sql`${feedback.comment} <> ''`);

export async function listFeedbackComments(db: Db, page: { limit: number; offset: number }) {
  return db
    .select({
      id: feedback.id,
      rating: feedback.rating,
      comment: feedback.comment,
      context: feedback.context,
      reference: feedback.reference,
      accountId: feedback.accountId,
      accountEmail: accounts.email,
      companyId: companies.id,
      companyName: companies.name,
      createdAt: feedback.createdAt,
    })
    .from(feedback)
    .leftJoin(accounts, eq(accounts.id, feedback.accountId))
    .leftJoin(companies, eq(companies.id, accounts.companyId))
    .where(withComment)
    .orderBy(desc(feedback.createdAt), desc(feedback.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function countFeedbackComments(db: Db): Promise<number> {
  const rows = await db.select({ n: count() }).from(feedback).where(withComment);
  return rows[0].n;
}
