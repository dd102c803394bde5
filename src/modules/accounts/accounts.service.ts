import { cacheChannel, CoherentCache, idInMessage } from '../../cache/coherent-cache.ts';
import type { Clock } from '../../clock.ts';
import { afterCommit, type Database, type Db, isUniqueViolation } from '../../db/database.ts';
import type { PubSub } from '../../events/pubsub.ts';
import { AppError } from '../../http/errors.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import * as repo from './accounts.repo.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.ts';
import type { PasswordHasher } from './password.ts';

export type Role = 'owner' | 'member';

/** Who a request acts for, resolved from its API key. */
export interface Principal {
  keyId: number;
  accountId: number;
  companyId: number;
  role: Role;
  /**
   * Staff blocked the company. API keys of a blocked company never get a principal
   * (`authenticate` refuses them); the website's session still resolves, to say so.
   */
  blocked: boolean;
}

/**
 * Pub/sub channel of changes to what `authenticate` answers, as JSON: `{ "accountId": n }` (the
 * account's key rotated or revoked, the member removed, the role changed) or `{ "companyId": n }`
 * (blocked or unblocked). Every instance drops the principals it cached for them on hearing one.
 */
export const principalChannel = 'principals';

type PrincipalChange = { accountId: number } | { companyId: number };

/** What the principal cache holds per key hash: a blocked company's keys too (they answer 403 from memory). */
interface KeyPrincipal {
  keyId: number;
  accountId: number;
  companyId: number;
  role: Role;
  blocked: boolean;
}

// The principal cache (README → Caches → API keys): at most this many keys (~200 bytes each), each
// read again after this age even if no message said it changed (a message lost on the way).
const principalCacheEntries = 100_000;
const principalCacheMaxAgeMs = 60_000;

/** A message of the principal channel; null for one this version does not understand. */
function principalChangeOf(message: string): PrincipalChange | null {
  const accountId = idInMessage(message, 'accountId');
  if (accountId !== null) return { accountId };
  const companyId = idInMessage(message, 'companyId');
  return companyId !== null ? { companyId } : null;
}

/** What a blocked company's keys and sessions are told (no internal reason: that stays with staff). */
export const accountBlockedMessage =
  'Your company account is blocked; contact Nova SMS support (Chat with us on the website) to restore access';

/** Throws 403 account_blocked for a principal of a blocked company. */
export function assertNotBlocked(principal: Principal): void {
  if (principal.blocked) throw new AppError('account_blocked', accountBlockedMessage);
}

/** A company as staff see it in the console. */
export interface CompanySummary {
  id: number;
  name: string;
  balance: number;
  createdAt: Date;
  blockedAt: Date | null;
  blockedReason: string | null;
  /** Live (not removed) members. */
  members: number;
}

export interface MemberWithKey {
  id: number;
  email: string;
  role: Role;
  createdAt: Date;
  removedAt: Date | null;
  /** The live key's display prefix; null when the member has none. */
  keyPrefix: string | null;
  keyCreatedAt: Date | null;
}

export type KeyIssuedListener = (tx: Db, key: { keyId: number; accountId: number; apiKey: string }) => Promise<void>;
export type MemberRemovedListener = (tx: Db, member: { accountId: number; companyId: number }) => Promise<void>;

export interface AccountInfo {
  id: number;
  email: string;
  role: Role;
  companyId: number;
  companyName: string;
  createdAt: Date;
}

export interface CreatedCompany {
  companyId: number;
  accountId: number;
  email: string;
  apiKey: string;
}

export interface AccountsService {
  /** With an `actor` (staff or the operator CLI), audited as `company.create` in the same transaction. */
  /** `passwordHash`: a password hashed earlier by hashNewPassword (a sign-up confirmed by email). */
  createCompany(input: { name: string; ownerEmail: string; password?: string; passwordHash?: string; actor?: Actor }): Promise<CreatedCompany>;
  /** With an `actor` (staff or the operator CLI), audited as `member.add` in the same transaction. */
  addMember(input: {
    companyId: number;
    email: string;
    password?: string;
    role?: Role;
    actor?: Actor;
  }): Promise<{ accountId: number; email: string; apiKey: string }>;
  /** The account id when email and password match a live account; null otherwise (same cost either way). */
  checkPassword(email: string, password: string): Promise<number | null>;
  /**
   * A new password (at least 8 characters) hashed through the password queue (429 when it is
   * full), so a caller can hash before it spends anything (a reset link); store it with setPasswordHash.
   */
  hashNewPassword(password: string): Promise<string>;
  setPasswordHash(accountId: number, passwordHash: string): Promise<void>;
  /** The live account with this email (normalized), or null. */
  findByEmail(email: string): Promise<AccountInfo | null>;
  /** A live account with its company, or null when it does not exist or was removed. */
  account(accountId: number): Promise<AccountInfo | null>;
  /** The principal an account acts as (the website's session maps to it); null when removed. */
  principalOfAccount(accountId: number): Promise<Principal | null>;
  members(companyId: number): Promise<{ id: number; email: string; role: Role; createdAt: Date }[]>;
  /** Owners only, within their company; a company keeps at least one owner. */
  changeRole(actor: Principal, accountId: number, role: Role): Promise<void>;
  /** Owners only: the member's key stops working and the account can no longer sign in. */
  removeMember(actor: Principal, accountId: number): Promise<void>;
  /** Runs in the transaction that issues a key (the website keeps a sealed copy to show it). */
  onKeyIssued(listener: KeyIssuedListener): void;
  /** Runs in the transaction that removes a member (the website revokes the invitations they sent). */
  onMemberRemoved(listener: MemberRemovedListener): void;
  /**
   * The principal of a live key; null for an unknown or revoked key; 403 account_blocked for a
   * blocked company. Answered from memory for keys seen lately (see principalChannel).
   */
  authenticate(apiKey: string): Promise<Principal | null>;
  /**
   * `authenticate` without a promise when memory may answer: the principal of a key held in the
   * cache (or account_blocked, as above); undefined when it would have to read the database.
   */
  authenticateFromMemory(apiKey: string): Principal | undefined;
  /** The principal cache's counters since start (tests and diagnostics: is it used, is it dropped). */
  principalCacheStats(): { hits: number; misses: number; size: number };
  /**
   * Issues a new key for the account; the previous one stops working at once. With an actor
   * (staff, CLI) the rotation is audited in the same transaction.
   */
  rotateApiKey(accountId: number, actor?: Actor): Promise<string>;
  /** Staff: a member's key rotated, audited; the member must be live and belong to the company. */
  rotateMemberKey(actor: Actor, companyId: number, accountId: number): Promise<MemberWithKey>;
  /** Staff: turns away the company's keys and sessions (403 account_blocked) until unblocked; audited. */
  block(actor: Actor, companyId: number, reason: string): Promise<CompanySummary>;
  unblock(actor: Actor, companyId: number, reason?: string): Promise<CompanySummary>;
  /** Staff: companies newest first. */
  listCompanies(page: { limit: number; offset: number }): Promise<CompanySummary[]>;
  companySummaries(ids: number[]): Promise<CompanySummary[]>;
  /** Staff: companies whose name, or a member's email (removed members too), contains `text`. */
  findCompaniesByName(text: string, limit: number): Promise<{ companyId: number; name: string }[]>;
  findCompaniesByEmail(text: string, limit: number): Promise<{ companyId: number; email: string }[]>;
  /** Staff: every member of the company, removed ones too, with their live key prefix. */
  membersWithKeys(companyId: number): Promise<MemberWithKey[]>;
  companyExists(companyId: number): Promise<boolean>;
  countCompanies(): Promise<number>;
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!emailShape.test(normalized)) throw new AppError('invalid_request', `"${email}" is not an email address`);
  return normalized;
}

export function createAccountsService(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  passwords: PasswordHasher;
  /** Carries principal changes to every instance (see principalChannel). */
  pubsub: PubSub;
}): AccountsService {
  const { database, clock, audit, passwords, pubsub } = deps;

  // API key → principal by the key's hash (the clear key is never kept), so that a request needs
  // no database read to know who it acts for. Exact because every change of what `authenticate`
  // answers is announced after its commit (`announce`) and drops the entries it touches on every
  // instance; while those messages may not arrive (Redis away) every key is read from the database.
  const principalMessages = cacheChannel(pubsub, principalChannel, (message) => forgetPrincipals(principalChangeOf(message)));
  const principals = new CoherentCache<string, KeyPrincipal | null>({
    maxEntries: principalCacheEntries,
    maxAgeMs: principalCacheMaxAgeMs,
    delivery: principalMessages.delivery,
    // An unknown key is not kept: anyone could fill memory with made-up keys.
    keep: (found) => found !== null,
    now: () => clock.now().getTime(),
  });

  function forgetPrincipals(change: PrincipalChange | null): void {
    if (!change) return principals.clear();
    if ('accountId' in change) principals.invalidateWhere((found) => found?.accountId === change.accountId);
    else principals.invalidateWhere((found) => found?.companyId === change.companyId);
  }

  /**
   * Once `tx` commits, the cached principals `change` touches are dropped here at once and on
   * every other instance: the caller answers only after the message is on its way (afterCommit
   * waits for it), so a revoked key is refused everywhere by the time the revocation is confirmed.
   * Never before the commit: a rolled-back change must not be announced.
   */
  function announce(tx: Db, change: PrincipalChange): void {
    afterCommit(tx, () => {
      forgetPrincipals(change);
      return pubsub.publish(principalChannel, JSON.stringify(change));
    });
  }

  async function loadPrincipal(keyHash: string): Promise<KeyPrincipal | null> {
    const found = await repo.findPrincipalByKeyHash(database.db, keyHash);
    if (!found) return null;
    return { keyId: found.keyId, accountId: found.accountId, companyId: found.companyId, role: found.role, blocked: found.blockedAt !== null };
  }

  function principalOfKey(found: KeyPrincipal): Principal {
    // Checked here, not in each edge, so API v1, the compat protocol and any future edge agree.
    if (found.blocked) throw new AppError('account_blocked', accountBlockedMessage);
    // A copy: the cached entry must not change with what a caller does to its principal.
    return { keyId: found.keyId, accountId: found.accountId, companyId: found.companyId, role: found.role, blocked: false };
  }

  const keyListeners: KeyIssuedListener[] = [];
  const removalListeners: MemberRemovedListener[] = [];

  async function issueKey(tx: Db, accountId: number): Promise<string> {
    const apiKey = generateApiKey();
    const key = await repo.insertApiKey(tx, { accountId, keyHash: hashApiKey(apiKey), keyPrefix: displayPrefix(apiKey) });
    for (const listener of keyListeners) await listener(tx, { keyId: key.id, accountId, apiKey });
    return apiKey;
  }

  async function createAccount(
    input: { companyId?: number; companyName?: string; email: string; password?: string; passwordHash?: string; role: Role; actor?: Actor },
  ) {
    const email = normalizeEmail(input.email);
    if (input.password !== undefined && input.password.length < 8) {
      throw new AppError('invalid_request', 'The password must have at least 8 characters');
    }
    const passwordHash = input.passwordHash ?? (input.password ? await passwords.hash(input.password) : null);
    try {
      return await database.transaction(async (tx) => {
        let companyId = input.companyId;
        if (companyId === undefined) {
          companyId = (await repo.insertCompany(tx, input.companyName ?? email)).id;
        } else if (!(await repo.findCompany(tx, companyId))) {
          throw new AppError('not_found', `Company ${companyId} does not exist`);
        }
        const account = await repo.insertAccount(tx, { companyId, email, passwordHash, role: input.role });
        // Every account gets its API key at creation (spec: "created automatically for every account").
        const apiKey = await issueKey(tx, account.id);
        // Sign-ups and invitations are the customer's own doing; staff and the CLI are audited.
        // Never the password or the key: the audit log is readable by every admin, forever.
        if (input.actor && input.companyId === undefined) {
          await audit.record(tx, input.actor, {
            action: 'company.create',
            targetType: 'company',
            targetId: companyId,
            after: { name: input.companyName, owner: { account_id: account.id, email, role: input.role } },
          });
        } else if (input.actor) {
          await audit.record(tx, input.actor, {
            action: 'member.add',
            targetType: 'account',
            targetId: account.id,
            after: { company_id: companyId, email, role: input.role },
          });
        }
        return { companyId, accountId: account.id, email, apiKey };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `An account with email ${email} already exists`);
      throw error;
    }
  }

  async function companySummary(companyId: number): Promise<CompanySummary> {
    const [summary] = await repo.findCompanySummaries(database.db, [companyId]);
    if (!summary) throw new AppError('not_found', `Company ${companyId} does not exist`);
    return summary;
  }

  async function rotateKey(tx: Db, accountId: number, actor: Actor | undefined): Promise<string> {
    const before = await repo.findLiveKeyPrefix(tx, accountId);
    await repo.revokeApiKeysOf(tx, accountId, clock.now());
    announce(tx, { accountId });
    const apiKey = await issueKey(tx, accountId);
    if (actor) {
      await audit.record(tx, actor, {
        action: 'api_key.rotate',
        targetType: 'account',
        targetId: accountId,
        before: { key_prefix: before },
        after: { key_prefix: displayPrefix(apiKey) },
      });
    }
    return apiKey;
  }

  function requiredReason(reason: string | undefined, what: string): string {
    const text = reason?.trim() ?? '';
    if (!text) throw new AppError('invalid_request', `Give a reason to ${what}; it goes into the audit log`);
    if (text.length > 500) throw new AppError('invalid_request', 'The reason must have at most 500 characters');
    return text;
  }

  return {
    async createCompany(input) {
      const name = input.name.trim();
      if (!name) throw new AppError('invalid_request', 'The company name must not be empty');
      return createAccount({ companyName: name, email: input.ownerEmail, password: input.password, passwordHash: input.passwordHash, role: 'owner', actor: input.actor });
    },
    async addMember(input) {
      const created = await createAccount({ ...input, role: input.role ?? 'member' });
      return { accountId: created.accountId, email: created.email, apiKey: created.apiKey };
    },
    async authenticate(apiKey) {
      if (!apiKey) return null;
      const keyHash = hashApiKey(apiKey);
      const found = await principals.get(keyHash, () => loadPrincipal(keyHash));
      return found ? principalOfKey(found) : null;
    },
    authenticateFromMemory(apiKey) {
      if (!apiKey) return undefined;
      const found = principals.getHeld(hashApiKey(apiKey));
      return found ? principalOfKey(found) : undefined;
    },
    principalCacheStats() {
      return { hits: principals.hits, misses: principals.misses, size: principals.size };
    },
    async rotateApiKey(accountId, actor) {
      return database.transaction(async (tx) => {
        if (!(await repo.findAccount(tx, accountId))) throw new AppError('not_found', `Account ${accountId} does not exist`);
        return rotateKey(tx, accountId, actor);
      });
    },
    async rotateMemberKey(actor, companyId, accountId) {
      await database.transaction(async (tx) => {
        const member = await repo.findLiveAccount(tx, accountId);
        if (!member || member.companyId !== companyId) throw new AppError('not_found', `Company ${companyId} has no live member ${accountId}`);
        await rotateKey(tx, accountId, actor);
      });
      const members = await repo.listMembersWithKeys(database.db, companyId);
      return members.find((m) => m.id === accountId)!;
    },
    async block(actor, companyId, reason) {
      const why = requiredReason(reason, 'block a company');
      await database.transaction(async (tx) => {
        const company = await repo.lockCompany(tx, companyId);
        if (!company) throw new AppError('not_found', `Company ${companyId} does not exist`);
        if (company.blockedAt) throw new AppError('invalid_state', `Company ${companyId} is already blocked (${company.blockedReason ?? 'no reason given'})`);
        await repo.updateCompany(tx, companyId, { blockedAt: clock.now(), blockedReason: why });
        announce(tx, { companyId });
        await audit.record(tx, actor, {
          action: 'company.block',
          targetType: 'company',
          targetId: companyId,
          before: { blocked: false },
          after: { blocked: true, blocked_reason: why },
          reason: why,
        });
      });
      return companySummary(companyId);
    },
    async unblock(actor, companyId, reason) {
      await database.transaction(async (tx) => {
        const company = await repo.lockCompany(tx, companyId);
        if (!company) throw new AppError('not_found', `Company ${companyId} does not exist`);
        if (!company.blockedAt) throw new AppError('invalid_state', `Company ${companyId} is not blocked`);
        await repo.updateCompany(tx, companyId, { blockedAt: null, blockedReason: null });
        announce(tx, { companyId });
        await audit.record(tx, actor, {
          action: 'company.unblock',
          targetType: 'company',
          targetId: companyId,
          before: { blocked: true, blocked_reason: company.blockedReason },
          after: { blocked: false },
          reason: reason?.trim() || null,
        });
      });
      return companySummary(companyId);
    },
    listCompanies(page) {
      return repo.listCompanySummaries(database.db, page);
    },
    companySummaries(ids) {
      return repo.findCompanySummaries(database.db, ids);
    },
    findCompaniesByName(text, limit) {
      return repo.findCompaniesByName(database.db, text, limit);
    },
    findCompaniesByEmail(text, limit) {
      return repo.findAccountsByEmail(database.db, text, limit);
    },
    membersWithKeys(companyId) {
      return repo.listMembersWithKeys(database.db, companyId);
    },
    async checkPassword(email, password) {
      const found = await repo.findAccountByEmail(database.db, email.trim().toLowerCase());
      const live = found && found.removedAt === null && found.passwordHash ? found : null;
      const ok = await passwords.verify(password, live?.passwordHash ?? (await passwords.dummyHash()));
      return live && ok ? live.id : null;
    },
    async hashNewPassword(password) {
      if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
      return passwords.hash(password);
    },
    async setPasswordHash(accountId, passwordHash) {
      await repo.updateAccount(database.db, accountId, { passwordHash });
    },
    async findByEmail(email) {
      const found = await repo.findAccountByEmail(database.db, email.trim().toLowerCase());
      return found ? repo.findLiveAccount(database.db, found.id) : null;
    },
    account(accountId) {
      return repo.findLiveAccount(database.db, accountId);
    },
    async principalOfAccount(accountId) {
      const account = await repo.findLiveAccount(database.db, accountId);
      if (!account) return null;
      return {
        keyId: await repo.findLiveKeyId(database.db, accountId),
        accountId,
        companyId: account.companyId,
        role: account.role,
        blocked: account.companyBlockedAt !== null,
      };
    },
    members(companyId) {
      return repo.listLiveAccounts(database.db, companyId);
    },
    async changeRole(actor, accountId, role) {
      if (actor.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
      await database.transaction(async (tx) => {
        const target = await repo.findLiveAccount(tx, accountId);
        if (!target || target.companyId !== actor.companyId) throw new AppError('not_found', `Member ${accountId} does not exist`);
        if (target.role === role) return;
        await repo.updateAccount(tx, accountId, { role });
        announce(tx, { accountId });
        if (role === 'member' && (await repo.countLiveOwners(tx, actor.companyId)) === 0) {
          throw new AppError('invalid_state', 'A company needs at least one owner');
        }
      });
    },
    async removeMember(actor, accountId) {
      if (actor.role !== 'owner') throw new AppError('forbidden', 'Only owners manage the team');
      if (actor.accountId === accountId) throw new AppError('invalid_state', 'You cannot remove yourself');
      await database.transaction(async (tx) => {
        const target = await repo.findLiveAccount(tx, accountId);
        if (!target || target.companyId !== actor.companyId) throw new AppError('not_found', `Member ${accountId} does not exist`);
        await repo.revokeApiKeysOf(tx, accountId, clock.now());
        await repo.updateAccount(tx, accountId, { removedAt: clock.now() });
        announce(tx, { accountId });
        for (const listener of removalListeners) await listener(tx, { accountId, companyId: target.companyId });
      });
    },
    onKeyIssued(listener) {
      keyListeners.push(listener);
    },
    onMemberRemoved(listener) {
      removalListeners.push(listener);
    },
    async companyExists(companyId) {
      return (await repo.findCompany(database.db, companyId)) !== null;
    },
    countCompanies() {
      return repo.countCompanies(database.db);
    },
  };
}
