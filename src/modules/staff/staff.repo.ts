import { and, asc, eq, gt, isNull, lt, or } from 'drizzle-orm';
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

/**
 * Records that a code of time step `step` was accepted, unless one of that step or a later one
 * was already: false then (a replay, or two sign-ins racing with one code: only one wins).
 */
export async function useTotpStep(db: Db, staffId: number, step: number): Promise<boolean> {
  const rows = await db
    .update(staff)
    .set({ totpLastStep: step })
    .where(and(eq(staff.id, staffId), or(isNull(staff.totpLastStep), lt(staff.totpLastStep, step))))
    .returning({ id: staff.id });
  return rows.length > 0;
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

/** Locks a staff row for a change, so two admins editing one member never interleave. */
export async function lockStaff(db: Db, id: number): Promise<StaffRow | null> {
  const rows = await db.select().from(staff).where(eq(staff.id, id)).for('update');
  return rows[0] ?? null;
}

export async function updateStaff(
  db: Db,
  id: number,
  set: { role?: StaffRole; disabledAt?: Date | null; totpSecretSealed?: string | null; totpEnabledAt?: Date | null; totpLastStep?: number | null },
) {
  await db.update(staff).set(set).where(eq(staff.id, id));
}

/** Admins who can still sign in (the last one may not be demoted or disabled). */
export async function countActiveAdmins(db: Db): Promise<number> {
  const rows = await db.select({ id: staff.id }).from(staff).where(and(eq(staff.role, 'admin'), isNull(staff.disabledAt)));
  return rows.length;
}

export async function deleteSessionsOf(db: Db, staffId: number) {
  await db.delete(staffSessions).where(eq(staffSessions.staffId, staffId));
}
