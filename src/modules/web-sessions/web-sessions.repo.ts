import { and, desc, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { invites, passwordResets, pendingSignUps, sealedApiKeys, webSessions } from './web-sessions.tables.ts';

// ---- Sessions ----

export async function insertSession(db: Db, input: { accountId: number; tokenHash: string; createdAt: Date; expiresAt: Date }) {
  await db.insert(webSessions).values(input);
}

export async function findSessionByTokenHash(db: Db, tokenHash: string) {
  const rows = await db.select().from(webSessions).where(eq(webSessions.tokenHash, tokenHash));
  return rows[0] ?? null;
}

export async function extendSession(db: Db, sessionId: number, expiresAt: Date) {
  await db.update(webSessions).set({ expiresAt }).where(eq(webSessions.id, sessionId));
}

export async function deleteSessionByTokenHash(db: Db, tokenHash: string) {
  await db.delete(webSessions).where(eq(webSessions.tokenHash, tokenHash));
}

export async function deleteSessionsOf(db: Db, accountId: number) {
  await db.delete(webSessions).where(eq(webSessions.accountId, accountId));
}

// ---- Sign-ups waiting for their confirmation link ----

export async function insertPendingSignUp(
  db: Db,
  input: { email: string; passwordHash: string; companyName: string; tokenHash: string; createdAt: Date; expiresAt: Date },
) {
  await db.insert(pendingSignUps).values(input);
}

/**
 * Spends a live confirmation link: deletes its sign-up and every other one for the same email
 * (they could only end in "already has an account"), and returns it; null when the link is
 * unknown, used or expired. One statement, so a link opened twice at once is spent once.
 */
export async function claimPendingSignUp(db: Db, tokenHash: string, now: Date) {
  const email = db
    .select({ email: pendingSignUps.email })
    .from(pendingSignUps)
    .where(and(eq(pendingSignUps.tokenHash, tokenHash), gt(pendingSignUps.expiresAt, now)));
  const spent = await db.delete(pendingSignUps).where(inArray(pendingSignUps.email, email)).returning();
  return spent.find((row) => row.tokenHash === tokenHash) ?? null;
}

/** Deletes sign-ups whose link expired (up to `limit`); returns how many. */
export async function deleteExpiredSignUps(db: Db, now: Date, limit: number): Promise<number> {
  const doomed = db.select({ id: pendingSignUps.id }).from(pendingSignUps).where(lte(pendingSignUps.expiresAt, now)).limit(limit);
  const deleted = await db.delete(pendingSignUps).where(inArray(pendingSignUps.id, doomed)).returning({ id: pendingSignUps.id });
  return deleted.length;
}

// ---- Password resets ----

export async function insertPasswordReset(db: Db, input: { accountId: number; tokenHash: string; createdAt: Date; expiresAt: Date }) {
  await db.insert(passwordResets).values(input);
}

/** Whether the reset token with this hash is unused and unexpired (read only; claimPasswordReset spends it). */
export async function passwordResetIsLive(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const rows = await db
    .select({ id: passwordResets.id })
    .from(passwordResets)
    .where(and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)));
  return rows.length > 0;
}

/**
 * Spends the live reset token with this hash together with every other live token of the same
 * account, in one statement: using one link voids the others, and of two links used at the same
 * moment only one finds them unspent (the second update re-checks `used_at` on the locked rows).
 * Returns the account id, or null when the token is unknown, used or expired.
 */
export async function claimPasswordReset(db: Db, tokenHash: string, now: Date): Promise<number | null> {
  const owner = db
    .select({ accountId: passwordResets.accountId })
    .from(passwordResets)
    .where(and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)));
  const spent = await db
    .update(passwordResets)
    .set({ usedAt: now })
    .where(and(inArray(passwordResets.accountId, owner), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)))
    .returning({ accountId: passwordResets.accountId, tokenHash: passwordResets.tokenHash });
  return spent.find((row) => row.tokenHash === tokenHash)?.accountId ?? null;
}

/** Marks every outstanding reset token of the account spent (no "voided" column: spent is what matters). */
export async function voidPasswordResetsOf(db: Db, accountId: number, now: Date) {
  await db
    .update(passwordResets)
    .set({ usedAt: now })
    .where(and(eq(passwordResets.accountId, accountId), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, now)));
}

// ---- Invites ----
// Revoking an invite moves its expiry to now: the link stops working exactly like an expired one,
// without a column of its own, and it leaves the pending list.

export async function insertInvite(
  db: Db,
  input: { companyId: number; email: string; role: 'owner' | 'member'; tokenHash: string; invitedBy: number; createdAt: Date; expiresAt: Date },
) {
  await db.insert(invites).values(input);
}

/** The invite with this token hash in any state (accepted, expired, revoked), or null. */
export async function findInviteByTokenHash(db: Db, tokenHash: string) {
  const rows = await db.select().from(invites).where(eq(invites.tokenHash, tokenHash));
  return rows[0] ?? null;
}

const pending = (now: Date) => and(isNull(invites.acceptedAt), gt(invites.expiresAt, now));

export async function listPendingInvites(db: Db, companyId: number, now: Date) {
  return db
    .select({ id: invites.id, email: invites.email, role: invites.role, createdAt: invites.createdAt })
    .from(invites)
    .where(and(eq(invites.companyId, companyId), pending(now)))
    .orderBy(desc(invites.id));
}

/** Marks a pending invite accepted; false when it was accepted, revoked or expired meanwhile. */
export async function claimInvite(db: Db, inviteId: number, now: Date): Promise<boolean> {
  const rows = await db
    .update(invites)
    .set({ acceptedAt: now })
    .where(and(eq(invites.id, inviteId), pending(now)))
    .returning({ id: invites.id });
  return rows.length > 0;
}

/** Undoes `claimInvite` when creating the member failed, so the link can be tried again. */
export async function releaseInvite(db: Db, inviteId: number) {
  await db.update(invites).set({ acceptedAt: null }).where(eq(invites.id, inviteId));
}

/** Revokes a pending invite of the company; false when there is none with this id. */
export async function revokePendingInvite(db: Db, input: { inviteId: number; companyId: number; now: Date }): Promise<boolean> {
  const rows = await db
    .update(invites)
    .set({ expiresAt: input.now })
    .where(and(eq(invites.id, input.inviteId), eq(invites.companyId, input.companyId), pending(input.now)))
    .returning({ id: invites.id });
  return rows.length > 0;
}

/** Revokes every pending invite the account sent. */
export async function revokeInvitesSentBy(db: Db, accountId: number, now: Date) {
  await db
    .update(invites)
    .set({ expiresAt: now })
    .where(and(eq(invites.invitedBy, accountId), pending(now)));
}

// ---- Sealed API keys ----

export async function insertSealedKey(db: Db, input: { keyId: number; sealed: string }) {
  await db.insert(sealedApiKeys).values(input);
}

export async function findSealedKey(db: Db, keyId: number) {
  const rows = await db.select().from(sealedApiKeys).where(eq(sealedApiKeys.keyId, keyId));
  return rows[0] ?? null;
}
