import type { Clock } from '../../clock.ts';
import { canCommitWithNextStatement, type Database, type Db, isRefusedStatement, lastStatementOf } from '../../db/database.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import { AppError } from '../../http/errors.ts';
import type { PubSub } from '../../events/pubsub.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import { createBalanceReadCache } from './balance-cache.ts';
import type { LedgerEntryKind } from './billing.tables.ts';
import * as repo from './billing.repo.ts';
import { formatUsd, type Money, toUsdNumber } from './money.ts';

/**
 * `endsTransaction`: the caller runs nothing after this posting in its transaction. Then, when no
 * listener of the balance event will write in it either, the posting is the transaction's last
 * statement and its COMMIT goes out with it (lastStatementOf): the company's balance row, which
 * all its purchases and finishes share, stays locked only while the server posts and commits.
 */
export interface EndsTransaction {
  endsTransaction?: boolean;
}

export interface BillingService {
  /**
   * The company's balance as last committed: from this instance's memory while no ledger posting
   * changed it (see balance-cache.ts). To decide on money inside a transaction, lock it instead.
   */
  balanceOf(companyId: number): Promise<Money>;
  /** How the cache behind `balanceOf` does (tests and the bench read it). */
  balanceCacheStats(): { hits: number; misses: number; entries: number };
  /**
   * Debits `amount` for a purchase inside the caller's transaction, in one conditional update
   * that takes the company's balance lock: call it last, so the lock is held only until commit.
   * Throws insufficient_balance (nothing written; the caller's transaction rolls back) rather
   * than letting the balance go below zero.
   */
  chargePurchase(tx: Db, input: { companyId: number; amount: Money; activationId: number; reason: string } & EndsTransaction): Promise<Money>;
  /** Locks and reads the balance inside the caller's transaction (to decide before charging). */
  lockBalance(tx: Db, companyId: number): Promise<Money>;
  /** Credits back a purchase inside the caller's transaction; a second refund of one activation is a no-op. */
  refundPurchase(tx: Db, input: { companyId: number; amount: Money; activationId: number; reason: string } & EndsTransaction): Promise<boolean>;
  /**
   * Debits a rental's charge (its first period or an extension) inside the caller's transaction,
   * as chargePurchase does: one conditional update that takes the balance lock (call it last),
   * insufficient_balance rather than below zero. The ledger row carries the rental's id.
   */
  chargeRental(tx: Db, input: { companyId: number; amount: Money; rentalId: number; reason: string }): Promise<Money>;
  /** Credits back what a rental was charged, inside the caller's transaction; a second refund of one rental is a no-op (false). */
  refundRental(tx: Db, input: { companyId: number; amount: Money; rentalId: number; reason: string }): Promise<boolean>;
  /** Top-up or manual adjustment, in its own transaction. */
  credit(input: { companyId: number; amount: Money; kind: Extract<LedgerEntryKind, 'topup' | 'adjustment'>; reason: string }): Promise<Money>;
  /** The same credit inside the caller's transaction (a payment marks itself credited in the same one). */
  creditWithin(
    tx: Db,
    input: { companyId: number; amount: Money; kind: Extract<LedgerEntryKind, 'topup' | 'adjustment'>; reason: string },
  ): Promise<Money>;
  /**
   * A staff (or operator CLI) adjustment: credit with a positive amount, debit with a negative
   * one, never below zero. One transaction writes the audit entry, then the ledger `adjustment`
   * row that names it.
   */
  adjust(input: { companyId: number; amount: Money; reason: string; actor: Actor }): Promise<{ entry: LedgerEntry; balance: Money; auditId: number }>;
  ledger(companyId: number, page: { limit: number; offset: number }): ReturnType<typeof repo.listLedgerEntries>;
  ledgerSize(companyId: number): Promise<number>;
  /** Every company whose balance differs from its ledger sum; empty when the books are right. */
  verify(): Promise<repo.LedgerMismatch[]>;
}

export type LedgerEntry = repo.LedgerEntryRow;

export function createBillingService(deps: {
  database: Database;
  clock: Clock;
  events: DomainEvents;
  audit: AuditService;
  /** Carries balance changes to every instance's cache. */
  pubsub: PubSub;
}): BillingService {
  const { database, clock, events, audit } = deps;
  const balances = createBalanceReadCache({ pubsub: deps.pubsub, events });

  async function lockBalance(tx: Db, companyId: number): Promise<Money> {
    const balance = await repo.lockCompanyBalance(tx, companyId);
    if (balance === null) throw new AppError('not_found', `Company ${companyId} does not exist`);
    return balance;
  }

  /**
   * Whether a posting goes out as its transaction's last statement, COMMIT behind it: the caller
   * ends there, the database can (PostgreSQL), and no listener of the balance event will write.
   */
  function postsLast(tx: Db, endsTransaction: boolean | undefined, companyId: number): boolean {
    return endsTransaction === true && canCommitWithNextStatement(tx) && events.writesNothingFor({ type: 'balance.changed', companyId });
  }

  // Every balance change goes through here: the ledger row and the new balance in one transaction.
  async function post(
    tx: Db,
    entry: { companyId: number; amount: Money; kind: LedgerEntryKind; activationId?: number; rentalId?: number; reason: string; auditId?: number } & EndsTransaction,
  ): Promise<Money> {
    return (await postEntry(tx, entry)).balanceAfter;
  }

  async function postEntry(
    tx: Db,
    { endsTransaction, ...entry }: { companyId: number; amount: Money; kind: LedgerEntryKind; activationId?: number; rentalId?: number; reason: string; auditId?: number } & EndsTransaction,
  ): Promise<LedgerEntry> {
    // One statement moves the balance and writes its ledger row; it takes the company's row lock
    // (held until the caller's transaction ends), so callers post last (see activations' buy).
    const last = postsLast(tx, endsTransaction, entry.companyId);
    let row: LedgerEntry | null;
    try {
      row = await repo.postLedgerEntry(last ? lastStatementOf(tx) : tx, { ...entry, createdAt: clock.now() }, { failIfRefused: last });
    } catch (error) {
      if (!isRefusedStatement(error)) throw error;
      // The transaction is over (rolled back); the refusal says the balance it saw.
      const refused = repo.refusalOf(error);
      throw refusal(entry, 'balance' in refused ? refused.balance : null);
    }
    if (!row) throw refusal(entry, await repo.readCompanyBalance(tx, entry.companyId));
    await announceChange(tx, row);
    return row;
  }

  /** Why a posting wrote nothing: the company is gone (no balance), or the balance would go below zero. */
  function refusal(entry: { companyId: number; amount: Money }, balance: Money | null): AppError {
    if (balance === null) return new AppError('not_found', `Company ${entry.companyId} does not exist`);
    return new AppError(
      'insufficient_balance',
      `Balance ${formatUsd(balance)} USD is below the price ${formatUsd(-entry.amount)} USD; top up on the website`,
    );
  }

  /** A refund of an activation or a rental, in one statement that writes nothing for a second one; false then. */
  async function refundOnce(
    tx: Db,
    { endsTransaction, ...input }: { companyId: number; amount: Money; reason: string } & EndsTransaction,
    owner: { activationId: number } | { rentalId: number },
  ): Promise<boolean> {
    const last = postsLast(tx, endsTransaction, input.companyId);
    const entry = { ...input, ...owner, kind: 'refund' as const, createdAt: clock.now() };
    let row: LedgerEntry | null;
    try {
      row = await repo.postLedgerEntry(last ? lastStatementOf(tx) : tx, entry, { oncePer: 'activationId' in owner ? 'activation' : 'rental', failIfRefused: last });
    } catch (error) {
      if (!isRefusedStatement(error)) throw error;
      throw new AppError('not_found', `Company ${input.companyId} does not exist`);
    }
    if (!row) {
      // The failing form answers nothing only for a refund made already.
      if (last || (await repo.hasLedgerEntry(tx, owner, 'refund'))) return false;
      throw new AppError('not_found', `Company ${input.companyId} does not exist`);
    }
    await announceChange(tx, row);
    return true;
  }

  function announceChange(tx: Db, row: LedgerEntry) {
    return events.record(tx, {
      type: 'balance.changed',
      companyId: row.companyId,
      balance: row.balanceAfter,
      entry: { kind: row.kind, amount: row.amount },
      at: clock.now(),
    });
  }

  return {
    balanceOf(companyId) {
      return balances.read(companyId, async () => {
        const balance = await repo.readCompanyBalance(database.db, companyId);
        if (balance === null) throw new AppError('not_found', `Company ${companyId} does not exist`);
        return balance;
      });
    },
    balanceCacheStats: () => balances.stats(),
    lockBalance,
    chargePurchase(tx, input) {
      return post(tx, { ...input, amount: -input.amount, kind: 'purchase' });
    },
    refundPurchase(tx, { activationId, ...input }) {
      return refundOnce(tx, input, { activationId });
    },
    chargeRental(tx, input) {
      return post(tx, { ...input, amount: -input.amount, kind: 'purchase' });
    },
    refundRental(tx, { rentalId, ...input }) {
      return refundOnce(tx, input, { rentalId });
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
    async adjust(input) {
      if (!Number.isSafeInteger(input.amount) || input.amount === 0) {
        throw new AppError('invalid_request', 'The amount must be a non-zero USD amount with at most 4 decimals, e.g. 25 or -1.5');
      }
      const reason = input.reason.trim();
      if (!reason) throw new AppError('invalid_request', 'Give a reason for the adjustment; the customer sees it in their transactions');
      if (reason.length > 500) throw new AppError('invalid_request', 'The reason must have at most 500 characters');
      return database.transaction(async (tx) => {
        const balance = await lockBalance(tx, input.companyId);
        const balanceAfter = balance + input.amount;
        if (balanceAfter < 0) {
          throw new AppError(
            'insufficient_balance',
            `Cannot debit ${formatUsd(-input.amount)} USD: company ${input.companyId} has ${formatUsd(balance)} USD and a balance never goes below zero`,
          );
        }
        const auditId = await audit.record(tx, input.actor, {
          action: 'balance.adjust',
          targetType: 'company',
          targetId: input.companyId,
          before: { balance: toUsdNumber(balance) },
          after: { balance: toUsdNumber(balanceAfter), amount: toUsdNumber(input.amount) },
          reason,
        });
        const entry = await postEntry(tx, { companyId: input.companyId, amount: input.amount, kind: 'adjustment', reason, auditId });
        return { entry, balance: entry.balanceAfter, auditId };
      });
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
