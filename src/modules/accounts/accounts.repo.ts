import { and, asc, eq, isNull, sql } from 'drizzle-orm';
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
    })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
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
    .select({ id: accounts.id, email: accounts.email, role: accounts.role, companyId: accounts.companyId, companyName: companies.name, createdAt: accounts.createdAt })
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
