import type { Clock } from '../../clock.ts';
import { type Database, type Db, isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import * as repo from './accounts.repo.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.ts';
import { hashPassword, verifyPassword } from './password.ts';

export type Role = 'owner' | 'member';

/** Who a request acts for, resolved from its API key. */
export interface Principal {
  keyId: number;
  accountId: number;
  companyId: number;
  role: Role;
}

export type KeyIssuedListener = (tx: Db, key: { keyId: number; accountId: number; apiKey: string }) => Promise<void>;

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
  createCompany(input: { name: string; ownerEmail: string; password?: string }): Promise<CreatedCompany>;
  addMember(input: { companyId: number; email: string; password?: string; role?: Role }): Promise<{ accountId: number; email: string; apiKey: string }>;
  /** The account id when email and password match a live account; null otherwise (same cost either way). */
  checkPassword(email: string, password: string): Promise<number | null>;
  setPassword(accountId: number, password: string): Promise<void>;
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
  authenticate(apiKey: string): Promise<Principal | null>;
  /** Issues a new key for the account; the previous one stops working at once. */
  rotateApiKey(accountId: number): Promise<string>;
  companyExists(companyId: number): Promise<boolean>;
  countCompanies(): Promise<number>;
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// Compared against when the email is unknown, so a wrong email costs as much as a wrong password.
let dummyHash: Promise<string> | undefined;

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!emailShape.test(normalized)) throw new AppError('invalid_request', `"${email}" is not an email address`);
  return normalized;
}

export function createAccountsService(deps: { database: Database; clock: Clock }): AccountsService {
  const { database, clock } = deps;

  const keyListeners: KeyIssuedListener[] = [];

  async function issueKey(tx: Db, accountId: number): Promise<string> {
    const apiKey = generateApiKey();
    const key = await repo.insertApiKey(tx, { accountId, keyHash: hashApiKey(apiKey), keyPrefix: displayPrefix(apiKey) });
    for (const listener of keyListeners) await listener(tx, { keyId: key.id, accountId, apiKey });
    return apiKey;
  }

  async function createAccount(
    input: { companyId?: number; companyName?: string; email: string; password?: string; role: Role },
  ) {
    const email = normalizeEmail(input.email);
    if (input.password !== undefined && input.password.length < 8) {
      throw new AppError('invalid_request', 'The password must have at least 8 characters');
    }
    const passwordHash = input.password ? await hashPassword(input.password) : null;
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
        return { companyId, accountId: account.id, email, apiKey };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `An account with email ${email} already exists`);
      throw error;
    }
  }

  return {
    async createCompany(input) {
      const name = input.name.trim();
      if (!name) throw new AppError('invalid_request', 'The company name must not be empty');
      return createAccount({ companyName: name, email: input.ownerEmail, password: input.password, role: 'owner' });
    },
    async addMember(input) {
      const created = await createAccount({ ...input, role: input.role ?? 'member' });
      return { accountId: created.accountId, email: created.email, apiKey: created.apiKey };
    },
    async authenticate(apiKey) {
      if (!apiKey) return null;
      return repo.findPrincipalByKeyHash(database.db, hashApiKey(apiKey));
    },
    async rotateApiKey(accountId) {
      return database.transaction(async (tx) => {
        if (!(await repo.findAccount(tx, accountId))) throw new AppError('not_found', `Account ${accountId} does not exist`);
        await repo.revokeApiKeysOf(tx, accountId, clock.now());
        return issueKey(tx, accountId);
      });
    },
    async checkPassword(email, password) {
      const found = await repo.findAccountByEmail(database.db, email.trim().toLowerCase());
      const live = found && found.removedAt === null && found.passwordHash ? found : null;
      dummyHash ??= hashPassword('not-a-real-password');
      const ok = await verifyPassword(password, live?.passwordHash ?? (await dummyHash));
      return live && ok ? live.id : null;
    },
    async setPassword(accountId, password) {
      if (password.length < 8) throw new AppError('invalid_request', 'The password must have at least 8 characters');
      const passwordHash = await hashPassword(password);
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
      return { keyId: await repo.findLiveKeyId(database.db, accountId), accountId, companyId: account.companyId, role: account.role };
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
      });
    },
    onKeyIssued(listener) {
      keyListeners.push(listener);
    },
    async companyExists(companyId) {
      return (await repo.findCompany(database.db, companyId)) !== null;
    },
    countCompanies() {
      return repo.countCompanies(database.db);
    },
  };
}
