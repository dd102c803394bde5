import type { Clock } from '../../clock.ts';
import { afterCommit, type Database, type Db, isRefusedStatement, isUniqueViolation, sendAhead } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { ActivationEvent, DomainEvents } from '../../events/domain-events.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { formatUsd, type Money } from '../billing/money.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { IncomingSms, RemoteLease, SupplyService } from '../supply/supply.service.ts';
import { createActivationReadCache } from './activation-cache.ts';
import { type ActivationReport, createActivationReports, type ReportRefundGuard, type ReportRequest } from './activation-reports.service.ts';
import { createActivationReuse, type ReuseRequest } from './activation-reuse.service.ts';
import type { ActivationChanges } from './activation-changes.ts';
import * as repo from './activations.repo.ts';
import type { ActivationRow, MemberSpending } from './activations.repo.ts';
import type { ActivationStatus } from './activations.tables.ts';

export type Activation = ActivationRow;

export interface ActivationMessage {
  id: number;
  sender: string;
  text: string;
  code: string | null;
  receivedAt: Date;
}

export interface BuyRequest {
  serviceCode: string;
  countryId: number;
  operator?: string;
  /** The most the customer will pay, in 1/10000 USD. */
  maxPrice?: Money;
  idempotencyKey?: string;
}

export interface ActivationTiming {
  lifetimeSeconds: number;
  /** How long after purchase a cancel is allowed (spec: min 3 min after purchase). */
  cancelAfterSeconds: number;
}

export interface ActivationsService {
  buy(principal: Principal, request: BuyRequest): Promise<Activation>;
  /**
   * The activation and its SMS, as the poll shows them: answered from this instance's memory while
   * nothing changed (see activation-cache.ts), with the same visibility check on every read.
   */
  get(principal: Principal, id: number): Promise<{ activation: Activation; messages: ActivationMessage[] }>;
  /** `get` without a promise when memory holds the activation (the same check, the same refusal); undefined: then `get`. */
  getFromMemory(principal: Principal, id: number): { activation: Activation; messages: ActivationMessage[] } | undefined;
  /** How the read cache behind `get` does (tests and the bench read it). */
  readCacheStats(): { hits: number; misses: number; entries: number };
  list(
    principal: Principal,
    query: { limit: number; offset: number; status?: ActivationStatus },
  ): Promise<{ activations: Activation[]; total: number }>;
  cancel(principal: Principal, id: number): Promise<Activation>;
  /**
   * The number's source cancelled it on its side (an upstream answering STATUS_CANCEL): a waiting
   * activation ends as cancelled and is refunded, at once and without the customer's cancel delay.
   * Returns null when the activation is no longer waiting (nothing to do).
   */
  cancelBySource(id: number): Promise<Activation | null>;
  complete(principal: Principal, id: number): Promise<Activation>;
  /** Finishes open activations past expiry (refunding the ones without SMS); returns how many. */
  sweepExpired(batchSize?: number): Promise<number>;
  /** The supply module's sink for an incoming SMS; runs inside the ingestion transaction. */
  attachSms(tx: Db, sms: IncomingSms): Promise<number | null>;
  /**
   * Staff attach an SMS that matched no activation to this one (console "attach to activation"):
   * it becomes the activation's SMS exactly as if it had matched. Throws `not_found`, or
   * `invalid_state` when the activation is no longer open. Runs inside the caller's transaction.
   */
  attachSmsTo(tx: Db, activationId: number, sms: Pick<IncomingSms, 'text' | 'code' | 'receivedAt'>): Promise<Activation>;
  /** When a cancel becomes allowed. */
  cancelAvailableAt(activation: Activation): Date;
  /** The activation as `tx` sees it (event listeners describe the change inside its transaction). */
  findInTransaction(tx: Db, id: number): Promise<Activation | null>;
  /** Per member of a company (by account id): how many activations and what they cost (refunded ones excluded). */
  memberSpending(companyId: number): Promise<Map<number, MemberSpending>>;
  /** Staff (console): every activation of a company, newest first, whoever bought it. */
  ofCompany(companyId: number, page: { limit: number; offset: number }): Promise<{ activations: Activation[]; total: number }>;
  /** Staff (console search): companies that bought a number containing these digits. */
  companiesByNumber(digits: string, limit: number): Promise<{ companyId: number; number: string }[]>;
  /** Staff (console search): the company that bought this activation, or null. */
  companyOfActivation(id: number): Promise<number | null>;
  /** How many activations are in each status, over all companies (metrics). */
  countByStatus(): Promise<Map<ActivationStatus, number>>;
  /** POST /activations/{id}/reuse: the number of a completed activation again, as a new activation (activation-reuse.service.ts). */
  reuse(principal: Principal, id: number, request?: ReuseRequest): Promise<Activation>;
  /** POST /activations/{id}/report: a bad number reported on a waiting activation (activation-reports.service.ts). */
  report(principal: Principal, id: number, request: ReportRequest): Promise<{ activation: Activation; report: ActivationReport }>;
  /** The activation's report as `tx` sees it (the activation.reported webhook carries it), or null. */
  findReportInTransaction(tx: Db, activationId: number): Promise<ActivationReport | null>;
  /** The reports of these activations that `principal` may see, by activation id (history and CSV). */
  reportsOf(principal: Principal, activationIds: number[]): Promise<Map<number, ActivationReport>>;
}

/** Reuse and reports: how long a number stays reusable, and the abuse guard on immediate refunds. */
export interface ActivationFollowUpSettings {
  reuseWindowSeconds: number;
  reportRefundGuard: ReportRefundGuard;
}

export const defaultFollowUpSettings: ActivationFollowUpSettings = { reuseWindowSeconds: 86_400, reportRefundGuard: { maxShare: 0.2, minPurchases: 20 } };

/** What reuse and reports share with the rest of the service: its dependencies and rules. */
export interface ActivationInternals {
  database: Database;
  clock: Clock;
  billing: BillingService;
  catalog: CatalogService;
  supply: SupplyService;
  timing: ActivationTiming;
  assertVisible(principal: Principal, activation: Activation | null, id: number): Activation;
  finish(tx: Db, activation: Activation, status: 'completed' | 'cancelled' | 'expired'): Promise<Activation>;
  announce(tx: Db, activation: Activation, type: ActivationEvent['type'], status: Activation['status']): Promise<void>;
}

export function createActivationsService(deps: {
  database: Database;
  clock: Clock;
  billing: BillingService;
  catalog: CatalogService;
  supply: SupplyService;
  events: DomainEvents;
  /** Committed activation changes of every instance: they keep the read cache coherent. */
  changes: ActivationChanges;
  timing: ActivationTiming;
  followUps?: ActivationFollowUpSettings;
}): ActivationsService {
  const { database, clock, billing, catalog, supply, events, timing } = deps;
  const readCache = createActivationReadCache({ changes: deps.changes, events });

  function announce(
    tx: Db,
    activation: Activation,
    type: ActivationEvent['type'],
    status: Activation['status'],
    detail: Pick<ActivationEvent, 'codeSmsReceivedAt'> = {},
  ) {
    return events.record(tx, {
      type,
      activationId: activation.id,
      companyId: activation.companyId,
      accountId: activation.accountId,
      status,
      at: clock.now(),
      ...detail,
    });
  }

  const cancelAvailableAt = (activation: Activation) =>
    new Date(activation.createdAt.getTime() + timing.cancelAfterSeconds * 1000);

  // Owners see the whole company, members their own; anything else is "not found", not "forbidden",
  // so a key cannot probe which ids exist.
  function isVisible(principal: Principal, activation: Activation): boolean {
    return activation.companyId === principal.companyId && (principal.role === 'owner' || activation.accountId === principal.accountId);
  }
  function assertVisible(principal: Principal, activation: Activation | null, id: number): Activation {
    if (activation === null || !isVisible(principal, activation)) throw new AppError('not_found', `Activation ${id} not found for this API key`);
    return activation;
  }

  function replayIdempotent(existing: Activation, request: BuyRequest): Activation {
    // A key that made a reuse (POST /activations/{id}/reuse) names that reuse, not a purchase.
    if (existing.serviceCode !== request.serviceCode || existing.countryId !== request.countryId || existing.reusedFrom !== null) {
      throw new AppError(
        'idempotency_conflict',
        `Idempotency-Key "${request.idempotencyKey}" was already used for a different purchase (activation ${existing.id})`,
      );
    }
    return existing;
  }

  /** `endsTransaction`: the caller runs nothing after the finish in its transaction (see billing's EndsTransaction). */
  async function finish(tx: Db, activation: Activation, status: 'completed' | 'cancelled' | 'expired', endsTransaction = false) {
    return finished(tx, await repo.finishActivation(tx, activation.id, status, clock.now()), status, endsTransaction);
  }

  /** The rest of a finish once `activation` (its row as updated) says `status`: its number, its event, its refund. */
  async function finished(tx: Db, activation: Activation, status: 'completed' | 'cancelled' | 'expired', endsTransaction: boolean) {
    // The outcome lets supply count numbers that never get an SMS and rest cancelled ones. Sent
    // without waiting for its answer: the refund goes out behind it, in the same round trip.
    await sendAhead(
      tx,
      () => supply.releaseNumber(tx, activation.numberId, activation.id, status),
      async () => {
        await announce(tx, activation, `activation.${status}`, status);
        // The refund last: the company's balance row, which all its purchases and finishes share, is
        // locked only for the rest of this transaction. Lock order, everywhere: activation, number, company.
        if (status === 'completed') return;
        await billing.refundPurchase(tx, {
          companyId: activation.companyId,
          amount: activation.price,
          activationId: activation.id,
          reason: `Refund of activation ${activation.id} (${status})`,
          endsTransaction,
        });
      },
    );
    return activation;
  }

  /** An SMS reaches an open activation: its code (a later message without one keeps the code found), text and event. */
  async function receiveSms(tx: Db, activation: Activation, sms: Pick<IncomingSms, 'text' | 'code' | 'receivedAt'>) {
    const updated = await repo.recordSms(tx, activation.id, {
      code: sms.code ?? activation.code,
      text: sms.text,
      smsReceivedAt: activation.smsReceivedAt ?? sms.receivedAt,
    });
    const firstCode = sms.code !== null && activation.code === null;
    await announce(tx, activation, 'activation.sms_received', 'sms_received', firstCode ? { codeSmsReceivedAt: sms.receivedAt } : {});
    return updated;
  }

  async function buy(principal: Principal, request: BuyRequest): Promise<Activation> {
    if (request.idempotencyKey) {
      const existing = await repo.findByIdempotencyKey(database.db, principal.accountId, request.idempotencyKey);
      if (existing) return replayIdempotent(existing, request);
    }
    const price = await catalog.priceOf(request.serviceCode, request.countryId, request.operator);
    if (request.maxPrice !== undefined && price > request.maxPrice) {
      throw new AppError(
        'price_above_max',
        `The price ${formatUsd(price)} USD is above your max_price ${formatUsd(request.maxPrice)} USD`,
      );
    }
    // `lease` is a number a SIM-bank agent handed us for this purchase (see below).
    const sell = (lease?: RemoteLease) =>
      database.transaction(async (tx) => {
        if (request.idempotencyKey) {
          // Retries of one purchase (same account and Idempotency-Key) queue here, before taking
          // a number, and each later one answers with the activation the first one made.
          await repo.lockIdempotencyKey(tx, principal.accountId, request.idempotencyKey);
          const existing = await repo.findByIdempotencyKey(tx, principal.accountId, request.idempotencyKey);
          if (existing) return replayIdempotent(existing, request);
        }
        // Lock order: number, activation, then the company's balance row, last. The number never
        // waits (SKIP LOCKED); the balance row, which every purchase and finish of the company
        // shares, is locked by the conditional debit at the end and held only until commit. A
        // purchase the balance cannot pay for rolls back there, its number untouched.
        const number = lease ? await supply.reserveLeasedNumber(tx, lease, request.serviceCode) : await supply.reserveNumber(tx, request);
        if (!number) {
          const operator = request.operator ? ` on operator "${request.operator}"` : '';
          throw new AppError('out_of_stock', `No numbers left for service "${request.serviceCode}" in country ${request.countryId}${operator}; try again later`);
        }
        const now = clock.now();
        const activation = await repo.insertActivation(tx, {
          companyId: principal.companyId,
          accountId: principal.accountId,
          serviceCode: request.serviceCode,
          countryId: request.countryId,
          operator: number.operator,
          numberId: number.numberId,
          number: number.e164,
          price,
          status: 'waiting',
          idempotencyKey: request.idempotencyKey ?? null,
          createdAt: now,
          expiresAt: new Date(now.getTime() + timing.lifetimeSeconds * 1000),
        });
        // Sent without waiting for its answer: the charge goes out behind it, in the same round trip.
        await sendAhead(
          tx,
          () => supply.assignNumber(tx, { numberId: number.numberId, activationId: activation.id, serviceCode: request.serviceCode, supplyCost: number.supplyCost }),
          async () => {
            await announce(tx, activation, 'activation.created', 'waiting');
            await billing.chargePurchase(tx, {
              companyId: principal.companyId,
              amount: price,
              activationId: activation.id,
              reason: `Activation ${activation.id}: ${request.serviceCode} in country ${request.countryId}`,
              endsTransaction: true,
            });
          },
        );
        // The buyer's first poll and its cancel answer from this copy (after the event above forgot the id).
        afterCommit(tx, () => readCache.rememberCreated({ activation, messages: [] }));
        return activation;
      });
    try {
      try {
        return await sell();
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'out_of_stock')) throw error;
        // A company that could not pay anyway hears that first (the number is looked for before
        // the balance now), and never makes us lease a number.
        const balance = await billing.balanceOf(principal.companyId);
        if (balance < price) {
          throw new AppError(
            'insufficient_balance',
            `Balance ${formatUsd(balance)} USD is below the price ${formatUsd(price)} USD; top up on the website`,
          );
        }
        // No local number: lease one from a SIM-bank agent. The agent is asked outside any
        // transaction (a network wait must not hold the buyer's locks); the sale itself then
        // runs in one transaction as usual. If it fails (balance spent meanwhile, number already
        // sold for this service), the agent gets its number back and the customer pays nothing.
        const lease = await supply.leaseRemoteNumber({ serviceCode: request.serviceCode, countryId: request.countryId, operator: request.operator, price });
        if (!lease) throw error;
        let sold: Activation;
        try {
          sold = await sell(lease);
        } catch (saleError) {
          const refused = saleError instanceof AppError && saleError.code === 'out_of_stock';
          await supply.releaseLease(lease, refused ? 'refused' : 'released');
          throw saleError;
        }
        // A retry whose purchase another attempt made meanwhile answers with that one: the agent gets its number back.
        if (sold.numberId !== lease.numberId) await supply.releaseLease(lease, 'released');
        return sold;
      }
    } catch (error) {
      // A concurrent retry with the same Idempotency-Key won the race: answer with its activation.
      if (request.idempotencyKey && isUniqueViolation(error)) {
        const existing = await repo.findByIdempotencyKey(database.db, principal.accountId, request.idempotencyKey);
        if (existing) return replayIdempotent(existing, request);
      }
      throw error;
    }
  }

  const internals: ActivationInternals = { database, clock, billing, catalog, supply, timing, assertVisible, finish, announce };
  const followUps = deps.followUps ?? defaultFollowUpSettings;
  const reports = createActivationReports(internals, followUps.reportRefundGuard);

  return {
    buy,
    reuse: createActivationReuse(internals, { windowSeconds: followUps.reuseWindowSeconds }),
    report: reports.report,
    findReportInTransaction: reports.findReportInTransaction,
    reportsOf: reports.reportsOf,
    cancelAvailableAt,
    findInTransaction: (tx, id) => repo.findActivation(tx, id),
    async get(principal, id) {
      const snapshot = await readCache.read(id, async () => {
        // Both at once: a miss costs one round trip's wait, not two.
        const [activation, messages] = await Promise.all([repo.findActivation(database.db, id), supply.messagesOf(id)]);
        return activation ? { activation, messages } : null;
      });
      // On every read, cached or not: the copy is shared by whoever asks for this id.
      const activation = assertVisible(principal, snapshot?.activation ?? null, id);
      return { activation, messages: snapshot!.messages };
    },
    getFromMemory(principal, id) {
      const snapshot = readCache.held(id);
      return snapshot && { activation: assertVisible(principal, snapshot.activation, id), messages: snapshot.messages };
    },
    readCacheStats: () => readCache.stats(),
    async list(principal, query) {
      const filter = {
        companyId: principal.companyId,
        accountId: principal.role === 'owner' ? undefined : principal.accountId,
        status: query.status,
      };
      const [activations, total] = await Promise.all([
        repo.listActivations(database.db, filter, query),
        repo.countActivations(database.db, filter),
      ]);
      return { activations, total };
    },
    async cancel(principal, id) {
      // The common case in one statement fewer: the finish itself carries, as its condition, what
      // the locked path below checks in code (this key may see the activation, it is waiting, its
      // cancel time has come), and takes the row lock as it writes. When it writes nothing, the
      // locked path says exactly why.
      const now = clock.now();
      const conditions = {
        companyId: principal.companyId,
        accountId: principal.role === 'owner' ? null : principal.accountId,
        boughtBefore: new Date(now.getTime() - timing.cancelAfterSeconds * 1000),
        at: now,
      };
      // When this instance holds the activation (its purchase was made here, or a poll read it),
      // the row the cancel writes is known before it is written: a waiting activation changes
      // nothing but its status and end. So the release and the refund go out right behind the
      // cancel, one round trip for the whole finish; the cancel fails when its conditions no
      // longer hold (the copy was behind: an SMS came, another cancel won), which rolls back the
      // rest with it, and the locked path below finds out why.
      const known = readCache.peek(id)?.activation;
      if (known && known.status === 'waiting' && isVisible(principal, known) && known.createdAt <= conditions.boughtBefore) {
        const cancelled: Activation = { ...known, status: 'cancelled', finishedAt: now };
        try {
          return await database.transaction(async (tx) => {
            await sendAhead(tx, () => repo.cancelOrRefuse(tx, id, conditions), () => finished(tx, cancelled, 'cancelled', true));
            return cancelled;
          });
        } catch (error) {
          // Refused: those conditions do not hold, so the form below would write nothing either.
          if (!isRefusedStatement(error)) throw error;
        }
      } else {
        const cancelled = await database.transaction(async (tx) => {
          const updated = await repo.cancelIfAllowed(tx, id, conditions);
          return updated && finished(tx, updated, 'cancelled', true);
        });
        if (cancelled) return cancelled;
      }
      return database.transaction(async (tx) => {
        const activation = assertVisible(principal, await repo.lockActivation(tx, id), id);
        if (activation.status !== 'waiting') {
          throw new AppError('invalid_state', `Activation ${id} is ${activation.status}; only a waiting activation can be cancelled`);
        }
        const allowedAt = cancelAvailableAt(activation);
        const now = clock.now();
        if (now < allowedAt) {
          const seconds = Math.ceil((allowedAt.getTime() - now.getTime()) / 1000);
          throw new AppError(
            'too_early',
            `Activation ${id} can be cancelled from ${formatApiTime(allowedAt)} UTC (in ${seconds} s), ${timing.cancelAfterSeconds} s after purchase`,
          );
        }
        return finish(tx, activation, 'cancelled', true);
      });
    },
    async cancelBySource(id) {
      return database.transaction(async (tx) => {
        const activation = await repo.lockActivation(tx, id);
        if (!activation || activation.status !== 'waiting') return null;
        return finish(tx, activation, 'cancelled', true);
      });
    },
    async complete(principal, id) {
      return database.transaction(async (tx) => {
        const activation = assertVisible(principal, await repo.lockActivation(tx, id), id);
        if (activation.status !== 'sms_received') {
          throw new AppError('invalid_state', `Activation ${id} is ${activation.status}; it can be completed only after an SMS was received`);
        }
        return finish(tx, activation, 'completed', true);
      });
    },
    async sweepExpired(batchSize = 100) {
      // One activation per transaction. A transaction finishing several would hold several
      // companies' balance locks, taken in whatever order the activations come; two instances
      // sweeping at once then deadlock on them (seen with three instances and four companies).
      // Holding one activation, its company and its number at a time, sweepers never wait in a circle.
      let swept = 0;
      while (swept < batchSize) {
        const finished = await database.transaction(async (tx) => {
          const [activation] = await repo.lockExpiredOpenActivations(tx, clock.now(), 1);
          if (!activation) return false;
          // A code already arrived: the customer got what they paid for, so it completes rather than refunds.
          await finish(tx, activation, activation.status === 'sms_received' ? 'completed' : 'expired', true);
          return true;
        });
        if (!finished) break;
        swept++;
      }
      return swept;
    },
    async attachSms(tx, sms) {
      const activation = await repo.lockOpenActivationOnNumber(tx, sms.numberId);
      // Past expiry the activation belongs to the sweeper: the SMS is kept unmatched, not sold late.
      if (!activation || activation.expiresAt <= clock.now()) return null;
      await receiveSms(tx, activation, sms);
      return activation.id;
    },
    async attachSmsTo(tx, activationId, sms) {
      const activation = await repo.lockActivation(tx, activationId);
      if (!activation) throw new AppError('not_found', `No activation ${activationId}`);
      // The same rule as a matching SMS: only an open activation within its lifetime takes it
      // (a finished one was refunded or completed; reopening it would sell it twice).
      if (activation.status !== 'waiting' && activation.status !== 'sms_received') {
        throw new AppError('invalid_state', `Activation ${activationId} is ${activation.status}; an SMS can be attached only to an open activation`);
      }
      if (activation.expiresAt <= clock.now()) {
        throw new AppError('invalid_state', `Activation ${activationId} expired at ${formatApiTime(activation.expiresAt)} UTC; an SMS can be attached only before expiry`);
      }
      return receiveSms(tx, activation, sms);
    },
    memberSpending(companyId) {
      return repo.memberSpending(database.db, companyId);
    },
    async ofCompany(companyId, page) {
      const [activations, total] = await Promise.all([
        repo.listActivations(database.db, { companyId }, page),
        repo.countActivations(database.db, { companyId }),
      ]);
      return { activations, total };
    },
    companiesByNumber(digits, limit) {
      return repo.findCompaniesByNumber(database.db, digits, limit);
    },
    async companyOfActivation(id) {
      return (await repo.findActivation(database.db, id))?.companyId ?? null;
    },
    countByStatus() {
      return repo.countByStatus(database.db);
    },
  };
}
