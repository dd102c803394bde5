import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import { AppError } from '../../http/errors.ts';
import type { LedgerEntryKind } from './billing.tables.ts';
import * as repo from './billing.repo.ts';
import { formatUsd, type Money } from './money.ts';

export interface BillingService {
  balanceOf(companyId: number): Promise<Money>;
  /**
   * Debits `amount` for a purchase inside the caller's transaction, after locking the balance;
   * throws insufficient_balance rather than letting the balance go below zero.
   */
  chargePurchase(tx: Db, input: { companyId: number; amount: Money; activationId: number; reason: string }): Promise<Money>;
  /** Locks and reads the balance inside the caller's transaction (to decide before charging). */
  lockBalance(tx: Db, companyId: number): Promise<Money>;
  /** Credits back a purchase inside the caller's transaction; a second refund of one activation is a no-op. */
  refundPurchase(tx: Db, input: { companyId: number; amount: Money; activationId: number; reason: string }): Promise<boolean>;
  /** Top-up or manual adjustment, in its own transaction. */
  credit(input: { companyId: number; amount: Money; kind: Extract<LedgerEntryKind, 'topup' | 'adjustment'>; reason: string }): Promise<Money>;
  /** The same credit inside the caller's transaction (a payment marks itself credited in the same one). */
  creditWithin(
    tx: Db,
    input: { companyId: number; amount: Money; kind: Extract<LedgerEntryKind, 'topup' | 'adjustment'>; reason: string },
  ): Promise<Money>;
  ledger(companyId: number, page: { limit: number; offset: number }): ReturnType<typeof repo.listLedgerEntries>;
  ledgerSize(companyId: number): Promise<number>;
  /** Every company whose balance differs from its ledger sum; empty when the books are right. */
  verify(): Promise<repo.LedgerMismatch[]>;
}

export function createBillingService(deps: { database: Database; clock: Clock; events: DomainEvents }): BillingService {
  const { database, clock, events } = deps;

  async function lockBalance(tx: Db, companyId: number): Promise<Money> {
    const balance = await repo.lockCompanyBalance(tx, companyId);
    if (balance === null) throw new AppError('not_found', `Company ${companyId} does not exist`);
    return balance;
  }

  // Every balance change goes through here: the ledger row and the new balance in one transaction.
  async function post(
    tx: Db,
    entry: { companyId: number; amount: Money; kind: LedgerEntryKind; activationId?: number; reason: string },
  ): Promise<Money> {
    const balance = await lockBalance(tx, entry.companyId);
    const balanceAfter = balance + entry.amount;
    if (balanceAfter < 0) {
      throw new AppError(
        'insufficient_balance',
        `Balance ${formatUsd(balance)} USD is below the price ${formatUsd(-entry.amount)} USD; top up on the website`,
      );
    }
    await repo.insertLedgerEntry(tx, { ...entry, balanceAfter, createdAt: clock.now() });
    await repo.setCompanyBalance(tx, entry.companyId, balanceAfter);
    await events.record(tx, { type: 'balance.changed', companyId: entry.companyId, balance: balanceAfter, at: clock.now() });
    return balanceAfter;
  }

  return {
    async balanceOf(companyId) {
      const balance = await repo.readCompanyBalance(database.db, companyId);
      if (balance === null) throw new AppError('not_found', `Company ${companyId} does not exist`);
      return balance;
    },
    lockBalance,
    chargePurchase(tx, input) {
      return post(tx, { ...input, amount: -input.amount, kind: 'purchase' });
    },
    async refundPurchase(tx, input) {
      if (await repo.hasLedgerEntry(tx, input.activationId, 'refund')) return false;
      await post(tx, { ...input, kind: 'refund' });
      return true;
    },
    async credit(input) {
      if (!Number.isInteger(input.amount) || input.amount === 0) {
        throw new AppError('invalid_request', 'The amount must be a non-zero USD amount with at most 4 decimals');
      }
      return database.transaction((tx) => post(tx, input));
    },
    async creditWithin(tx, input) {
      if (!Number.isInteger(input.amount) || input.amount === 0) {
        throw new AppError('invalid_request', 'The amount must be a non-zero USD amount with at most 4 decimals');
      }
      return post(tx, input);
    },
    ledger(companyId, page) {
      return repo.listLedgerEntries(database.db, companyId, page.limit, page.offset);
    },
    ledgerSize(companyId) {
      return repo.countLedgerEntries(database.db, companyId);
    },
    verify() {
      return repo.findLedgerMismatches(database.db);
    },
  };
}
