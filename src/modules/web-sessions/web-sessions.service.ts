import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { AccountInfo, AccountsService, Principal, Role } from '../accounts/accounts.service.ts';
import { normalizeEmail } from '../accounts/accounts.service.ts';
import type { EmailService } from '../email/email.service.ts';
import { createSecretBox } from './secret-box.ts';
import * as repo from './web-sessions.repo.ts';

const day = 24 * 3600 * 1000;
export const sessionLifetimeMs = 30 * day;
const resetLifetimeMs = 3600 * 1000;
const signUpLinkLifetimeMs = day;
const inviteLifetimeMs = 7 * day;

const newToken = () => randomBytes(32).toString('base64url');
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** What an invite link answers once it was revoked, expired, or its sender is no longer an owner. */
export const inviteNoLongerValidMessage = 'This invitation is no longer valid; ask an owner for a new one';
const inviteNoLongerValid = () => new AppError('invalid_state', inviteNoLongerValidMessage);

export interface SignedIn {
  account: AccountInfo;
  /** The session cookie's value. */
  sessionToken: string;
}

export interface ResolvedSession {
  account: AccountInfo;
  principal: Principal;
  /** True when the expiry slid forward (the cookie is sent again). */
  renewed: boolean;
}

export interface WebSessionsService {
  /**
   * A sign-up: hashes the password, then emails the address either a link that creates the
   * account (a new email) or a note that someone tried to sign up with it, with sign-in and reset
   * links (an email that has an account). Answers nothing either way, in about the same time, so
   * the caller cannot tell which emails are customers'.
   */
  requestSignUp(input: { email: string; password: string; companyName?: string }, publicUrl: string): Promise<void>;
  /** Opens a sign-up's emailed link: creates the company, owner and API key, and signs in. */
  confirmSignUp(token: string): Promise<SignedIn>;
  /** Deletes sign-ups whose link expired; returns how many. */
  purgeExpiredSignUps(batchSize?: number): Promise<number>;
  /** null for a wrong email or a wrong password alike. */
  signIn(email: string, password: string): Promise<SignedIn | null>;
  resolve(sessionToken: string): Promise<ResolvedSession | null>;
  signOut(sessionToken: string): Promise<void>;
  /** Queues a reset email when the email has a live account; says nothing either way. */
  requestPasswordReset(email: string, publicUrl: string): Promise<void>;
  confirmPasswordReset(token: string, password: string): Promise<SignedIn>;
  invite(actor: Principal, input: { email: string; role: Role }, publicUrl: string): Promise<{ inviteUrl: string }>;
  inviteInfo(token: string): Promise<{ email: string; companyName: string; role: Role }>;
  acceptInvite(token: string, password: string): Promise<SignedIn>;
  pendingInvites(companyId: number): Promise<{ id: number; email: string; role: Role; createdAt: Date }[]>;
  /** Owners only: the invite's link stops working at once; 404 unless it is a pending invite of their company. */
  revokeInvite(actor: Principal, inviteId: number): Promise<void>;
  /** The account's current API key in full; null when it was issued outside the website (regenerate to see one). */
  apiKeyOf(principal: Principal): Promise<string | null>;
  regenerateApiKey(accountId: number): Promise<string>;
  /** Removes a member: their key dies (accounts service) and so do their sessions. */
  removeMember(actor: Principal, accountId: number): Promise<void>;
}

/** NOVA_SECRET, or a random secret kept in the data folder (created on first start). */
export function loadServerSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.resolve(dataDir, 'nova-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function createWebSessionsService(deps: {
  database: Database;
  clock: Clock;
  accounts: AccountsService;
  email: EmailService;
  secret: string;
}): WebSessionsService {
  const { database, clock, accounts, email } = deps;
  const db = database.db;
  const box = createSecretBox(deps.secret);

  async function startSession(accountId: number): Promise<string> {
    const token = newToken();
    await repo.insertSession(db, { accountId, tokenHash: hashToken(token), createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + sessionLifetimeMs) });
    return token;
  }

  async function signedIn(accountId: number): Promise<SignedIn> {
    const account = await accounts.account(accountId);
    if (!account) throw new AppError('unauthorized', 'This account no longer exists');
    return { account, sessionToken: await startSession(accountId) };
  }

  // Every key issued from now on (website, CLI, demo seed) is kept sealed, to be shown in full.
  accounts.onKeyIssued(async (tx, key) => {
    await repo.insertSealedKey(tx, { keyId: key.keyId, sealed: box.seal(key.apiKey) });
  });

  // An invitation speaks for the owner who sent it: once they are removed it must not let anyone in.
  accounts.onMemberRemoved(async (tx, member) => {
    await repo.revokeInvitesSentBy(tx, member.accountId, clock.now());
  });

  async function endSessionsOf(accountId: number) {
    await repo.deleteSessionsOf(db, accountId);
  }

  /**
   * The pending invite of this link, with the owner who sent it. The sender must still be an owner
   * of that company: removal revokes their invites, but a demotion (or a removal by another path)
   * must not leave an invitation that makes someone an owner on behalf of a non-owner.
   */
  async function liveInvite(token: string) {
    const invite = await repo.findInviteByTokenHash(db, hashToken(token));
    if (!invite || invite.acceptedAt) throw new AppError('not_found', 'This invitation link is invalid, used or expired; ask for a new one');
    if (invite.expiresAt.getTime() <= clock.now().getTime()) throw inviteNoLongerValid();
    const inviter = await accounts.account(invite.invitedBy);
    if (!inviter || inviter.role !== 'owner' || inviter.companyId !== invite.companyId) throw inviteNoLongerValid();
    return { invite, inviter };
  }

  return {
    async requestSignUp(input, publicUrl) {
      const address = normalizeEmail(input.email);
      // Hashed whether or not the email has an account: the answer takes the same time either way.
      const passwordHash = await accounts.hashNewPassword(input.password);
      const existing = await accounts.findByEmail(address);
      await database.transaction(async (tx) => {
        if (existing) {
          await email.enqueue(
            {
              to: existing.email,
              subject: 'Someone tried to sign up to Nova SMS with your email',
              text: `Someone (hopefully you) tried to create a new Nova SMS account with this email address, which already has one. No new account was created and nothing changed in yours.\n\nSign in here:\n${publicUrl}/signin\n\nForgot your password? Ask for a reset link here:\n${publicUrl}/forgot-password\n\nIf it was not you, ignore this email.`,
            },
            tx,
          );
          return;
        }
        const token = newToken();
        await repo.insertPendingSignUp(tx, {
          email: address,
          passwordHash,
          companyName: input.companyName?.trim() || address,
          tokenHash: hashToken(token),
          createdAt: clock.now(),
          expiresAt: new Date(clock.now().getTime() + signUpLinkLifetimeMs),
        });
        await email.enqueue(
          {
            to: address,
            subject: 'Confirm your Nova SMS account',
            text: `Welcome to Nova SMS! Open this link to finish creating your account (it works for 24 hours):\n${publicUrl}/confirm-signup?token=${token}\n\nIf you did not sign up, ignore this email: no account is created without the link.`,
          },
          tx,
        );
      });
    },
    async confirmSignUp(token) {
      const pending = await repo.claimPendingSignUp(db, hashToken(token), clock.now());
      if (!pending) throw new AppError('invalid_request', 'This confirmation link is invalid, used or expired; sign up again');
      let created: { accountId: number };
      try {
        created = await accounts.createCompany({ name: pending.companyName, ownerEmail: pending.email, passwordHash: pending.passwordHash });
      } catch (error) {
        // Someone created an account with this email since (another link, an invitation).
        if (error instanceof AppError && error.code === 'conflict') {
          throw new AppError('conflict', `${pending.email} already has a Nova SMS account; sign in, or reset your password`);
        }
        throw error;
      }
      return signedIn(created.accountId);
    },
    async purgeExpiredSignUps(batchSize = 1000) {
      let total = 0;
      for (;;) {
        const count = await repo.deleteExpiredSignUps(db, clock.now(), batchSize);
        total += count;
        if (count < batchSize) return total;
      }
    },
    async signIn(emailAddress, password) {
      const accountId = await accounts.checkPassword(emailAddress, password);
      if (accountId === null) return null;
      // Whoever signs in knows the password: a reset link still in some inbox is only a risk now.
      await repo.voidPasswordResetsOf(db, accountId, clock.now());
      return signedIn(accountId);
    },
    async resolve(sessionToken) {
      if (!sessionToken) return null;
      const session = await repo.findSessionByTokenHash(db, hashToken(sessionToken));
      const now = clock.now().getTime();
      if (!session || session.expiresAt.getTime() <= now) return null;
      const [account, principal] = await Promise.all([accounts.account(session.accountId), accounts.principalOfAccount(session.accountId)]);
      if (!account || !principal) return null;
      // Sliding expiry, written at most once an hour per session.
      const renewed = session.expiresAt.getTime() - now < sessionLifetimeMs - 3600 * 1000;
      if (renewed) await repo.extendSession(db, session.id, new Date(now + sessionLifetimeMs));
      return { account, principal, renewed };
    },
    async signOut(sessionToken) {
      if (sessionToken) await repo.deleteSessionByTokenHash(db, hashToken(sessionToken));
    },
    async requestPasswordReset(emailAddress, publicUrl) {
      let normalized: string;
      try {
        normalized = normalizeEmail(emailAddress);
      } catch {
        return;
      }
      const account = await accounts.findByEmail(normalized);
      if (!account) return;
      const token = newToken();
      await database.transaction(async (tx) => {
        await repo.insertPasswordReset(tx, { accountId: account.id, tokenHash: hashToken(token), createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + resetLifetimeMs) });
        await email.enqueue(
          {
            to: account.email,
            subject: 'Reset your Nova SMS password',
            text: `Someone (hopefully you) asked to reset the password of your Nova SMS account.\n\nChoose a new password here (the link works once, for 1 hour):\n${publicUrl}/reset-password?token=${token}\n\nIf it was not you, ignore this email; your password stays as it is.`,
          },
          tx,
        );
      });
    },
    async confirmPasswordReset(token, password) {
      if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
      const invalidLink = () => new AppError('invalid_request', 'This reset link is invalid, used or expired; ask for a new one');
      // A dead link costs no password hash; a live one is hashed for before it is spent, so a full
      // password queue (429) leaves the link working for the retry.
      if (!(await repo.passwordResetIsLive(db, hashToken(token), clock.now()))) throw invalidLink();
      const passwordHash = await accounts.hashNewPassword(password);
      // Spends this link and every other outstanding link of the account at once.
      const accountId = await repo.claimPasswordReset(db, hashToken(token), clock.now());
      if (accountId === null) throw invalidLink();
      await accounts.setPasswordHash(accountId, passwordHash);
      // A new password signs every other browser out; this one gets a fresh session.
      await endSessionsOf(accountId);
      return signedIn(accountId);
    },
    async invite(actor, input, publicUrl) {
      if (actor.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
      const address = normalizeEmail(input.email);
      if (await accounts.findByEmail(address)) throw new AppError('conflict', `${address} already has a Nova SMS account`);
      const company = await accounts.account(actor.accountId);
      const token = newToken();
      const inviteUrl = `${publicUrl}/invite?token=${token}`;
      await database.transaction(async (tx) => {
        await repo.insertInvite(tx, {
          companyId: actor.companyId,
          email: address,
          role: input.role,
          tokenHash: hashToken(token),
          invitedBy: actor.accountId,
          createdAt: clock.now(),
          expiresAt: new Date(clock.now().getTime() + inviteLifetimeMs),
        });
        await email.enqueue(
          {
            to: address,
            subject: `You are invited to ${company?.companyName ?? 'a company'} on Nova SMS`,
            text: `${company?.email ?? 'A colleague'} invited you to join ${company?.companyName ?? 'their company'} on Nova SMS as ${input.role === 'owner' ? 'an owner' : 'a member'}.\n\nSet your password and get your API key here (the link works for 7 days):\n${inviteUrl}`,
          },
          tx,
        );
      });
      return { inviteUrl };
    },
    async inviteInfo(token) {
      const { invite, inviter } = await liveInvite(token);
      return { email: invite.email, companyName: inviter.companyName, role: invite.role };
    },
    async acceptInvite(token, password) {
      const { invite } = await liveInvite(token);
      // Claimed before the account exists, so a revocation (or a removal of the sender) that lands
      // first wins, and the same link cannot be accepted twice.
      if (!(await repo.claimInvite(db, invite.id, clock.now()))) throw inviteNoLongerValid();
      let member: { accountId: number };
      try {
        member = await accounts.addMember({ companyId: invite.companyId, email: invite.email, password, role: invite.role });
      } catch (error) {
        await repo.releaseInvite(db, invite.id);
        throw error;
      }
      return signedIn(member.accountId);
    },
    async pendingInvites(companyId) {
      return repo.listPendingInvites(db, companyId, clock.now());
    },
    async revokeInvite(actor, inviteId) {
      if (actor.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
      if (!(await repo.revokePendingInvite(db, { inviteId, companyId: actor.companyId, now: clock.now() }))) {
        throw new AppError('not_found', `Invitation ${inviteId} is not pending (it does not exist, or was accepted, revoked or expired)`);
      }
    },
    async apiKeyOf(principal) {
      if (!principal.keyId) return null;
      const sealed = await repo.findSealedKey(db, principal.keyId);
      return sealed ? box.open(sealed.sealed) : null;
    },
    async regenerateApiKey(accountId) {
      return accounts.rotateApiKey(accountId);
    },
    async removeMember(actor, accountId) {
      await accounts.removeMember(actor, accountId);
      await endSessionsOf(accountId);
    },
  };
}
