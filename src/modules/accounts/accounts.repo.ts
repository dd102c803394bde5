import { and, asc, desc, eq, ilike, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { rowsOf } from '../../db/database.ts';
import { accounts, apiKeys, companies } from './accounts.tables.ts';

export async function insertCompany(tx: Db, name: string) {
  const rows = await tx.insert(companies).values({ name }).returning();
  return rows[0];
}

export async function insertAccount(
  tx: Db,
  input: { companyId: number; email: string; passwordHash: string | null; role: 'owner' | 'member' },
) {
  const rows = await tx.insert(accounts).values(input).returning();
  return rows[0];
}

export async function findAccountByEmail(db: Db, email: string) {
  const rows = await db.select().from(accounts).where(eq(accounts.email, email));
  return rows[0] ?? null;
}

export async function findAccount(db: Db, accountId: number) {
  const rows = await db.select().from(accounts).where(eq(accounts.id, accountId));
  return rows[0] ?? null;
}

export async function findCompany(db: Db, companyId: number) {
  const rows = await db.select().from(companies).where(eq(companies.id, companyId));
  return rows[0] ?? null;
}

export async function insertApiKey(tx: Db, input: { accountId: number; keyHash: string; keyPrefix: string }) {
  const rows = await tx.insert(apiKeys).values(input).returning();
  return rows[0];
}

export async function revokeApiKeysOf(tx: Db, accountId: number, at: Date) {
  await tx
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)));
}

/** The live key with this hash, with the account and company it acts for. */
export async function findPrincipalByKeyHash(db: Db, keyHash: string) {
  const rows = await db
    .select({
      keyId: apiKeys.id,
      accountId: accounts.id,
      companyId: accounts.companyId,
      role: accounts.role,
      blockedAt: companies.blockedAt,
    })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .innerJoin(companies, eq(companies.id, accounts.companyId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt), isNull(accounts.removedAt)));
  return rows[0] ?? null;
}

export async function countCompanies(db: Db): Promise<number> {
  const result = await db.execute(sql`select count(*)::int as n from companies`);
  return Number(rowsOf<{ n: number }>(result)[0].n);
}

/** The account with its company name; removed accounts are not found. */
export async function findLiveAccount(db: Db, accountId: number) {
  const rows = await db
    .select({
      id: accounts.id,
      email: accounts.email,
      role: accounts.role,
      companyId: accounts.companyId,
      companyName: companies.name,
      createdAt: accounts.createdAt,
      companyBlockedAt: companies.blockedAt,
    })
    .from(accounts)
    .innerJoin(companies, eq(companies.id, accounts.companyId))
    .where(and(eq(accounts.id, accountId), isNull(accounts.removedAt)));
  return rows[0] ?? null;
}

export async function listLiveAccounts(db: Db, companyId: number) {
  return db
    .select({ id: accounts.id, email: accounts.email, role: accounts.role, createdAt: accounts.createdAt })
    .from(accounts)
    .where(and(eq(accounts.companyId, companyId), isNull(accounts.removedAt)))
    .orderBy(asc(accounts.id));
}

/** The account's live key id (0 when it has none). */
export async function findLiveKeyId(db: Db, accountId: number): Promise<number> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)));
  return rows[0]?.id ?? 0;
}

export async function updateAccount(tx: Db, accountId: number, changes: Partial<typeof accounts.$inferInsert>) {
  await tx.update(accounts).set(changes).where(eq(accounts.id, accountId));
}

export async function countLiveOwners(tx: Db, companyId: number): Promise<number> {
  const result = await tx.execute(
    sql`select count(*)::int as n from accounts where company_id = ${companyId} and role = 'owner' and removed_at is null`,
  );
  return Number(rowsOf<{ n: number }>(result)[0].n);
}

// ---- Staff views of customers (the console) ----

/** `%text%` for ILIKE, with the pattern characters in the text matched literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// Spelled out in full: drizzle renders a column of the outer table unqualified inside a select list,
// where the subquery's own accounts.id would capture it.
const liveMembers = sql<number>`(select count(*)::int from accounts a where a.company_id = "companies"."id" and a.removed_at is null)`;

const companySummaryColumns = {
  id: companies.id,
  name: companies.name,
  balance: companies.balance,
  createdAt: companies.createdAt,
  blockedAt: companies.blockedAt,
  blockedReason: companies.blockedReason,
  members: liveMembers.mapWith(Number),
};

export type CompanySummaryRow = {
  id: number;
  name: string;
  balance: number;
  createdAt: Date;
  blockedAt: Date | null;
  blockedReason: string | null;
  members: number;
};

/** Every company, newest first, with its live member count. */
export async function listCompanySummaries(db: Db, page: { limit: number; offset: number }): Promise<CompanySummaryRow[]> {
  return db.select(companySummaryColumns).from(companies).orderBy(desc(companies.id)).limit(page.limit).offset(page.offset);
}

/** The summaries of these companies (any order). */
export async function findCompanySummaries(db: Db, ids: number[]): Promise<CompanySummaryRow[]> {
  if (ids.length === 0) return [];
  return db.select(companySummaryColumns).from(companies).where(inArray(companies.id, ids));
}

/** Companies whose name contains `text` (case-insensitive), newest first. */
export async function findCompaniesByName(db: Db, text: string, limit: number) {
  return db
    .select({ companyId: companies.id, name: companies.name })
    .from(companies)
    .where(ilike(companies.name, containsPattern(text)))
    .orderBy(desc(companies.id))
    .limit(limit);
}

/** Accounts (removed ones too) whose email contains `text`, newest first. */
export async function findAccountsByEmail(db: Db, text: string, limit: number) {
  return db
    .select({ companyId: accounts.companyId, email: accounts.email })
    .from(accounts)
    .where(ilike(accounts.email, containsPattern(text)))
    .orderBy(desc(accounts.id))
    .limit(limit);
}

/** Every member of a company, removed ones included, with their live key (if any). */
export async function listMembersWithKeys(db: Db, companyId: number) {
  return db
    .select({
      id: accounts.id,
      email: accounts.email,
      role: accounts.role,
      createdAt: accounts.createdAt,
      removedAt: accounts.removedAt,
      keyPrefix: apiKeys.keyPrefix,
      keyCreatedAt: apiKeys.createdAt,
    })
    .from(accounts)
    .leftJoin(apiKeys, and(eq(apiKeys.accountId, accounts.id), isNull(apiKeys.revokedAt)))
    .where(eq(accounts.companyId, companyId))
    .orderBy(asc(accounts.id));
}

/** The live key's display prefix of an account, or null. */
export async function findLiveKeyPrefix(db: Db, accountId: number): Promise<string | null> {
  const rows = await db
    .select({ keyPrefix: apiKeys.keyPrefix })
    .from(apiKeys)
    .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)));
  return rows[0]?.keyPrefix ?? null;
}

/** The company row, locked for a change of its blocked state. */
export async function lockCompany(tx: Db, companyId: number) {
  const rows = await tx.select().from(companies).where(eq(companies.id, companyId)).for('update');
  return rows[0] ?? null;
}

export async function updateCompany(tx: Db, companyId: number, changes: Partial<typeof companies.$inferInsert>) {
  await tx.update(companies).set(changes).where(eq(companies.id, companyId));
}
