import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { staff, staffSessions, type StaffRole } from './staff.tables.ts';

export type StaffRow = typeof staff.$inferSelect;

export async function insertStaff(db: Db, row: { email: string; passwordHash: string; role: StaffRole; createdAt: Date }): Promise<StaffRow> {
  const rows = await db.insert(staff).values(row).returning();
  return rows[0];
}

export async function findStaffByEmail(db: Db, email: string): Promise<StaffRow | null> {
  const rows = await db.select().from(staff).where(eq(staff.email, email));
  return rows[0] ?? null;
}

export async function findStaff(db: Db, id: number): Promise<StaffRow | null> {
  const rows = await db.select().from(staff).where(eq(staff.id, id));
  return rows[0] ?? null;
}

export function listStaff(db: Db) {
  return db.select().from(staff).orderBy(asc(staff.id));
}

export async function setTotpSecret(db: Db, staffId: number, sealed: string | null, enabledAt: Date | null) {
  await db.update(staff).set({ totpSecretSealed: sealed, totpEnabledAt: enabledAt }).where(eq(staff.id, staffId));
}

export async function insertSession(db: Db, row: { tokenHash: string; staffId: number; stage: 'password' | 'complete'; createdAt: Date; expiresAt: Date }) {
  await db.insert(staffSessions).values(row);
}

export async function findLiveSession(db: Db, tokenHash: string, now: Date) {
  const rows = await db
    .select({ session: staffSessions, staff })
    .from(staffSessions)
    .innerJoin(staff, eq(staff.id, staffSessions.staffId))
    .where(and(eq(staffSessions.tokenHash, tokenHash), gt(staffSessions.expiresAt, now)));
  return rows[0] ?? null;
}

export async function updateSession(db: Db, id: number, set: { stage?: 'password' | 'complete'; pendingTotpSealed?: string | null; expiresAt?: Date }) {
  await db.update(staffSessions).set(set).where(eq(staffSessions.id, id));
}

export async function deleteSession(db: Db, tokenHash: string) {
  await db.delete(staffSessions).where(eq(staffSessions.tokenHash, tokenHash));
}
