import { and, eq, isNull, sql } from 'drizzle-orm';
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
