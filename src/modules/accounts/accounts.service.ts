import type { Clock } from '../../clock.ts';
import { type Database, type Db, isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import * as repo from './accounts.repo.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key.ts';
import { hashPassword } from './password.ts';

export type Role = 'owner' | 'member';

/** Who a request acts for, resolved from its API key. */
export interface Principal {
  keyId: number;
  accountId: number;
  companyId: number;
  role: Role;
}

export interface CreatedCompany {
  companyId: number;
  accountId: number;
  email: string;
  apiKey: string;
}

export interface AccountsService {
  createCompany(input: { name: string; ownerEmail: string; password?: string }): Promise<CreatedCompany>;
  addMember(input: { companyId: number; email: string; password?: string }): Promise<{ accountId: number; email: string; apiKey: string }>;
  authenticate(apiKey: string): Promise<Principal | null>;
  /** Issues a new key for the account; the previous one stops working at once. */
  rotateApiKey(accountId: number): Promise<string>;
  companyExists(companyId: number): Promise<boolean>;
  countCompanies(): Promise<number>;
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!emailShape.test(normalized)) throw new AppError('invalid_request', `"${email}" is not an email address`);
  return normalized;
}

export function createAccountsService(deps: { database: Database; clock: Clock }): AccountsService {
  const { database, clock } = deps;

  async function issueKey(tx: Db, accountId: number): Promise<string> {
    const apiKey = generateApiKey();
    await repo.insertApiKey(tx, { accountId, keyHash: hashApiKey(apiKey), keyPrefix: displayPrefix(apiKey) });
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
      const created = await createAccount({ ...input, role: 'member' });
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
    async companyExists(companyId) {
      return (await repo.findCompany(database.db, companyId)) !== null;
    },
    countCompanies() {
      return repo.countCompanies(database.db);
    },
  };
}
