import type { Clock } from '../../clock.ts';
import { type Database, type Db, isUniqueViolation } from '../../db/database.ts';
import type { DomainEvents, RentalEvent } from '../../events/domain-events.ts';
import type { PubSub } from '../../events/pubsub.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import { type Actor, type AuditService, systemActor } from '../audit/audit.service.ts';
import { createLongPoll } from '../../events/long-poll.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { formatUsd, type Money } from '../billing/money.ts';
import { checkOperatorCode } from '../catalog/catalog-entries.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { RentalStock, UpstreamRentalLease } from '../supply/rental-stock.ts';
import type { IncomingSms, SupplyService } from '../supply/supply.service.ts';
import { createRentalChanges, type RentalChanges } from './rental-changes.ts';
import { maxRentalHours, minRentalHours, rentalCost } from './rental-price.ts';
import * as repo from './rentals.repo.ts';
import type { RentalRow } from './rentals.repo.ts';
import type { RentalStatus } from './rentals.tables.ts';

/*
 * Issue 11, rentals: the contract the rentals module offers the rest of the product (API v1 routes,
 * website routes, the sms-activate compatibility endpoint, the operator CLI and console). The
 * implementation, createRentalsService, lives below this interface.
 *
 * Rules (the issue's, decided here so every surface says the same):
 * - Price of `hours`: whole days at the day price, the rest at the hour price but never more than a
 *   day: floor(h / 24) × perDay + min((h mod 24) × perHour, perDay). 1 ≤ hours ≤ 720 per request.
 * - A rental holds its number (phone_numbers.busy_rental_id) from creation until it ends; it gets
 *   every SMS to that number, for every service. Only numbers marked rentable are rented.
 * - cancel: within `cancelWindowSeconds` (default 1200, NOVA_RENTAL_CANCEL_WINDOW_S) of creation
 *   and before any SMS → status cancelled, everything charged refunded (one ledger refund row);
 *   later or after an SMS → 409 too_late (message says which); not active → 409 invalid_state.
 * - finish: ends an active rental early, no refund → status finished.
 * - extend: active and not yet past expires_at → charged for `hours`, expires_at moves; otherwise
 *   409 invalid_state.
 * - expiry: a sweeper (once across instances: one rental per transaction, FOR UPDATE SKIP LOCKED)
 *   ends active rentals past expires_at → status expired (no refund).
 * - Visibility as for activations: owners see the whole company, members their own; anything
 *   else is 404 not_found.
 */

export interface RentalMessage {
  id: number;
  sender: string;
  text: string;
  code: string | null;
  receivedAt: Date;
}

export interface Rental {
  id: number;
  companyId: number;
  accountId: number;
  countryId: number;
  operator: string;
  numberId: number;
  number: string;
  /** Everything charged so far (first period and extensions), 1/10000 USD. */
  price: Money;
  hours: number;
  status: RentalStatus;
  createdAt: Date;
  expiresAt: Date;
  firstSmsAt: Date | null;
  finishedAt: Date | null;
}

export interface RentalPrice {
  countryId: number;
  /** 'any' = the country's default price. */
  operator: string;
  pricePerHour: Money;
  pricePerDay: Money;
  /** Free rentable numbers (for 'any': in the whole country). */
  available: number;
}

export interface RentalsService {
  /** Rental prices with stock, for one country or all. */
  prices(countryId?: number): Promise<RentalPrice[]>;
  /** What `hours` would cost (throws out_of_stock 409 when the country/operator has no rental price). */
  quote(countryId: number, operator: string | undefined, hours: number): Promise<Money>;
  /**
   * Operator/staff: sets a rental price (audited by the caller's surface: `actor` names it, and the
   * audit entry is written in the change's transaction; default the system).
   */
  setPrice(input: { countryId: number; operator?: string; pricePerHour: Money; pricePerDay: Money }, actor?: Actor): Promise<RentalPrice>;
  /** Rents a number: 402 insufficient_balance, 409 out_of_stock, idempotency like purchases. */
  create(principal: Principal, input: { countryId: number; hours: number; operator?: string; idempotencyKey?: string }): Promise<Rental>;
  /** The rental and all its messages, newest first. */
  get(principal: Principal, id: number): Promise<{ rental: Rental; messages: RentalMessage[] }>;
  /**
   * Long-poll: as `get`, but when `afterMessages` messages are already known and the rental is
   * active, waits up to `seconds` for a new message or a status change (any instance). Null when
   * `signal` aborted (client gone).
   */
  wait(
    principal: Principal,
    id: number,
    options: {
      seconds: number;
      signal: AbortSignal;
      /** Messages the caller already has: with more than these, the answer comes at once. */
      afterMessages?: number;
      /** The newest message id the caller has: with a message of a greater id, the answer comes at once. */
      afterMessageId?: number;
    },
  ): Promise<{ rental: Rental; messages: RentalMessage[] } | null>;
  list(principal: Principal, query: { limit: number; offset: number; status?: RentalStatus }): Promise<{ rentals: Rental[]; total: number }>;
  extend(principal: Principal, id: number, hours: number): Promise<Rental>;
  cancel(principal: Principal, id: number): Promise<Rental>;
  finish(principal: Principal, id: number): Promise<Rental>;
  /** Ends active rentals past expiry; returns how many. */
  sweepExpired(batchSize?: number): Promise<number>;
  /**
   * The supply module's second SMS sink (after the activations'), inside the ingestion
   * transaction: an SMS to a number whose active rental has not expired becomes that rental's.
   * Returns the rental's id, or null.
   */
  attachSms(tx: Db, sms: IncomingSms): Promise<number | null>;
  /** The rental and its messages as `tx` sees them (webhooks describe a change inside its transaction). */
  findInTransaction(tx: Db, id: number): Promise<{ rental: Rental; messages: RentalMessage[] } | null>;
  /** Until when a cancel is refunded (if no SMS arrived by then). */
  refundableUntil(rental: Rental): Date;
  /** Ends every `wait` now, each answering with a fresh read (server shutdown). */
  closeWaits(): void;
  /** How many `wait`s are waiting on this instance now (tests). */
  waiting(): number;
}

export interface RentalsDeps {
  database: Database;
  clock: Clock;
  billing: BillingService;
  catalog: CatalogService;
  /** Activation stock counts: a rental takes its number out of them while it lasts. */
  supply: SupplyService;
  /** The numbers: which may be rented, holding and freeing them, their SMS. */
  stock: RentalStock;
  events: DomainEvents;
  /** Carries committed rental changes to every instance (long-poll). */
  pubsub: PubSub;
  audit: AuditService;
  /** How long after renting a cancel is refunded (NOVA_RENTAL_CANCEL_WINDOW_S). */
  cancelWindowSeconds: number;
}

function toRental(row: RentalRow): Rental {
  return {
    id: row.id,
    companyId: row.companyId,
    accountId: row.accountId,
    countryId: row.countryId,
    operator: row.operator,
    numberId: row.numberId,
    number: row.number,
    price: row.price,
    hours: row.hours,
    status: row.status,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    firstSmsAt: row.firstSmsAt,
    finishedAt: row.finishedAt,
  };
}

/** 'any' (or nothing) asks for no operator in particular. */
function operatorOf(operator: string | undefined): string | undefined {
  const clean = operator?.trim();
  return clean === undefined || clean === '' || clean === 'any' ? undefined : clean;
}

function checkHours(hours: number): void {
  if (!Number.isInteger(hours) || hours < minRentalHours || hours > maxRentalHours) {
    throw new AppError('invalid_request', `hours must be a whole number from ${minRentalHours} to ${maxRentalHours} (30 days), not ${hours}`);
  }
}

function durationText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} s`;
}

const hourMs = 3600 * 1000;

export function createRentalsService(deps: RentalsDeps): RentalsService {
  const { database, clock, billing, catalog, supply, stock, events, audit, cancelWindowSeconds } = deps;
  const db = database.db;
  const changes: RentalChanges = createRentalChanges(deps.pubsub, events);
  // The long-poll activations use too, on this module's channel.
  const longPoll = createLongPoll(changes);

  function announce(tx: Db, rental: RentalRow, type: RentalEvent['type'], detail: Pick<RentalEvent, 'messageId'> = {}) {
    return events.record(tx, {
      type,
      rentalId: rental.id,
      companyId: rental.companyId,
      accountId: rental.accountId,
      status: rental.status,
      at: clock.now(),
      ...detail,
    });
  }

  // Owners see the whole company, members their own; anything else is "not found", not
  // "forbidden", so a key cannot probe which ids exist.
  function assertVisible(principal: Principal, rental: RentalRow | null, id: number): RentalRow {
    const visible =
      rental !== null && rental.companyId === principal.companyId && (principal.role === 'owner' || rental.accountId === principal.accountId);
    if (!visible) throw new AppError('not_found', `Rental ${id} not found for this API key`);
    return rental;
  }

  async function requireCountry(countryId: number) {
    const known = (await catalog.countries()).some((country) => country.id === countryId);
    if (!known) throw new AppError('unknown_country', `Unknown country ${countryId}; GET /api/v1/countries lists the ids`);
  }

  async function priceRow(countryId: number, operator: string | undefined) {
    const row = await repo.findPrice(db, countryId, operator);
    if (!row) {
      const on = operator === undefined ? '' : ` on operator "${operator}"`;
      throw new AppError('out_of_stock', `Numbers in country ${countryId}${on} are not for rent; GET /api/v1/rentals/prices lists where renting is possible`);
    }
    return row;
  }

  async function quote(countryId: number, operator: string | undefined, hours: number): Promise<Money> {
    checkHours(hours);
    await requireCountry(countryId);
    return rentalCost(hours, await priceRow(countryId, operatorOf(operator)));
  }

  const refundableUntil = (rental: Pick<Rental, 'createdAt'>) => new Date(rental.createdAt.getTime() + cancelWindowSeconds * 1000);

  function replayIdempotent(existing: RentalRow, input: { countryId: number; hours: number; operator?: string; idempotencyKey?: string }): Rental {
    const operator = operatorOf(input.operator);
    // The rental's `hours` grow with extensions: a retry after an extension no longer matches.
    if (existing.countryId !== input.countryId || existing.hours !== input.hours || (operator !== undefined && existing.operator !== operator)) {
      throw new AppError(
        'idempotency_conflict',
        `Idempotency-Key "${input.idempotencyKey}" was already used for a different rental (rental ${existing.id})`,
      );
    }
    return toRental(existing);
  }

  /** Ends an active rental: its number is freed in the same transaction. */
  async function end(tx: Db, rental: RentalRow, status: 'finished' | 'cancelled' | 'expired'): Promise<RentalRow> {
    const ended = await repo.updateRental(tx, rental.id, { status, finishedAt: clock.now() });
    await stock.release(tx, rental.numberId, rental.id);
    // An upstream's number: the upstream hears how it ended after commit (nothing for a local one).
    await stock.endRemote(tx, rental.numberId, status);
    // The number is back in activation stock: this instance's counts are fresh after commit.
    supply.stockChangedIn(tx);
    await announce(tx, ended, `rental.${status}`);
    return ended;
  }

  async function read(source: Db, id: number) {
    const [rental, messages] = await Promise.all([repo.findRental(source, id), stock.messagesOf(id, source)]);
    return rental ? { rental, messages } : null;
  }

  async function get(principal: Principal, id: number) {
    const found = await read(db, id);
    const rental = assertVisible(principal, found?.rental ?? null, id);
    return { rental: toRental(rental), messages: found!.messages };
  }

  return {
    async prices(countryId) {
      if (countryId !== undefined) await requireCountry(countryId);
      const [rows, counts, countries] = await Promise.all([repo.listPrices(db, countryId), stock.available(countryId), catalog.countries()]);
      const onSale = new Set(countries.map((country) => country.id));
      return rows
        .filter((row) => onSale.has(row.countryId))
        .map((row) => ({
          countryId: row.countryId,
          operator: row.operator,
          pricePerHour: row.pricePerHour,
          pricePerDay: row.pricePerDay,
          available: counts
            .filter((count) => count.countryId === row.countryId && (row.operator === 'any' || count.operator === row.operator))
            .reduce((sum, count) => sum + count.available, 0),
        }));
    },
    quote,
    async setPrice(input, actor = systemActor) {
      const operator = operatorOf(input.operator) === undefined ? 'any' : checkOperatorCode(input.operator!);
      for (const [name, value] of [['price per hour', input.pricePerHour], ['price per day', input.pricePerDay]] as const) {
        if (!Number.isSafeInteger(value) || value <= 0) throw new AppError('invalid_request', `The ${name} must be a positive USD amount like 0.20 (at most 4 decimals)`);
      }
      await requireCountry(input.countryId);
      const row = await database.transaction(async (tx) => {
        const before = await repo.findPrice(tx, input.countryId, operator);
        const saved = await repo.upsertPrice(tx, {
          countryId: input.countryId,
          operator,
          pricePerHour: input.pricePerHour,
          pricePerDay: input.pricePerDay,
          updatedAt: clock.now(),
        });
        await audit.record(tx, actor, {
          action: 'rental_price.set',
          targetType: 'rental_price',
          targetId: `${input.countryId}:${operator}`,
          before: before && before.operator === operator ? { price_per_hour: before.pricePerHour / 10_000, price_per_day: before.pricePerDay / 10_000 } : null,
          after: { price_per_hour: saved.pricePerHour / 10_000, price_per_day: saved.pricePerDay / 10_000 },
        });
        return saved;
      });
      const counts = await stock.available(input.countryId);
      return {
        countryId: row.countryId,
        operator: row.operator,
        pricePerHour: row.pricePerHour,
        pricePerDay: row.pricePerDay,
        available: counts.filter((count) => operator === 'any' || count.operator === operator).reduce((sum, count) => sum + count.available, 0),
      };
    },
    async create(principal, input) {
      const { countryId, hours, idempotencyKey } = input;
      const operator = operatorOf(input.operator);
      if (idempotencyKey) {
        const existing = await repo.findByIdempotencyKey(db, principal.accountId, idempotencyKey);
        if (existing) return replayIdempotent(existing, input);
      }
      const price = await quote(countryId, operator, hours);
      // A local rentable number (`lease` null), or the one an upstream rented us (upstream-rentals.ts).
      const sell = (lease: UpstreamRentalLease | null) =>
        database.transaction(async (tx) => {
          if (idempotencyKey) {
            // Retries of one rental (same account and key) queue here, before taking a number.
            await repo.lockIdempotencyKey(tx, principal.accountId, idempotencyKey);
            const existing = await repo.findByIdempotencyKey(tx, principal.accountId, idempotencyKey);
            if (existing) return replayIdempotent(existing, input);
          }
          // Lock order: number (never waited for: SKIP LOCKED), rental, then the company's balance
          // row, last, by the conditional debit; a rental the balance cannot pay rolls back there.
          const number = lease ? await stock.lockRemote(tx, lease) : await stock.reserve(tx, { countryId, operator });
          if (!number) {
            const on = operator === undefined ? '' : ` on operator "${operator}"`;
            throw new AppError('out_of_stock', `No numbers left to rent in country ${countryId}${on}; try again later`);
          }
          const now = clock.now();
          const rental = await repo.insertRental(tx, {
            companyId: principal.companyId,
            accountId: principal.accountId,
            countryId,
            operator: number.operator,
            numberId: number.numberId,
            number: number.e164,
            price,
            hours,
            status: 'active',
            idempotencyKey: idempotencyKey ?? null,
            createdAt: now,
            expiresAt: new Date(now.getTime() + hours * hourMs),
          });
          await stock.hold(tx, number.numberId, rental.id);
          supply.stockChangedIn(tx);
          await announce(tx, rental, 'rental.created');
          await billing.chargeRental(tx, {
            companyId: principal.companyId,
            amount: price,
            rentalId: rental.id,
            reason: `Rental ${rental.id}: ${number.e164} for ${hours} h in country ${countryId}`,
          });
          return toRental(rental);
        });
      try {
        try {
          return await sell(null);
        } catch (error) {
          // No local rentable number is free: rent one from an upstream that rents, outside any
          // transaction (it waits on the network), then sell it as a local one.
          if (!(error instanceof AppError && error.code === 'out_of_stock')) throw error;
          if ((await billing.balanceOf(principal.companyId)) < price) throw error; // worded below
          const lease = await stock.rentRemote({ countryId, operator, hours });
          if (!lease) throw error;
          let sold: Rental;
          try {
            sold = await sell(lease);
          } catch (failure) {
            await stock.giveBackRemote(lease);
            throw failure;
          }
          // An idempotent retry answered with the rental it made earlier: this number is not needed.
          if (sold.numberId !== lease.numberId) await stock.giveBackRemote(lease);
          return sold;
        }
      } catch (error) {
        if (error instanceof AppError && error.code === 'out_of_stock') {
          // A company that could not pay anyway hears that first, as with purchases.
          const balance = await billing.balanceOf(principal.companyId);
          if (balance < price) {
            throw new AppError('insufficient_balance', `Balance ${formatUsd(balance)} USD is below the price ${formatUsd(price)} USD; top up on the website`);
          }
        }
        // A concurrent retry with the same key won the race: answer with its rental.
        if (idempotencyKey && isUniqueViolation(error)) {
          const existing = await repo.findByIdempotencyKey(db, principal.accountId, idempotencyKey);
          if (existing) return replayIdempotent(existing, input);
        }
        throw error;
      }
    },
    get,
    async wait(principal, id, options) {
      return longPoll.wait({
        id,
        seconds: options.seconds,
        signal: options.signal,
        read: () => get(principal, id),
        // Worth waiting for: an active rental (its next message, or its end).
        settled: ({ rental, messages }) =>
          rental.status !== 'active' ||
          (options.afterMessages !== undefined && messages.length > options.afterMessages) ||
          (options.afterMessageId !== undefined && messages.some((message) => message.id > options.afterMessageId!)),
      });
    },
    async list(principal, query) {
      const filter = { companyId: principal.companyId, accountId: principal.role === 'owner' ? undefined : principal.accountId, status: query.status };
      const [rows, total] = await Promise.all([repo.listRentals(db, filter, query), repo.countRentals(db, filter)]);
      return { rentals: rows.map(toRental), total };
    },
    async extend(principal, id, hours) {
      checkHours(hours);
      const found = assertVisible(principal, await repo.findRental(db, id), id);
      if (found.status !== 'active') throw new AppError('invalid_state', `Rental ${id} is ${found.status}; only an active rental can be extended`);
      // The country and operator never change: the price is read before the transaction.
      const cost = await quote(found.countryId, found.operator, hours);
      // An upstream's number needs its upstream's yes first (nothing for a local one), before
      // charging: a refusal charges nothing. Not asked when the balance cannot pay (the charge below refuses).
      if ((await billing.balanceOf(found.companyId)) >= cost) await stock.extendRemote(found.numberId, hours);
      return database.transaction(async (tx) => {
        const rental = assertVisible(principal, await repo.lockRental(tx, id), id);
        if (rental.status !== 'active') throw new AppError('invalid_state', `Rental ${id} is ${rental.status}; only an active rental can be extended`);
        // Past expiry it belongs to the sweeper, even before it ran: extending would revive it.
        if (rental.expiresAt <= clock.now()) {
          throw new AppError('invalid_state', `Rental ${id} expired at ${formatApiTime(rental.expiresAt)} UTC; it can no longer be extended, rent a number again`);
        }
        const extended = await repo.updateRental(tx, id, {
          hours: rental.hours + hours,
          price: rental.price + cost,
          expiresAt: new Date(rental.expiresAt.getTime() + hours * hourMs),
        });
        await announce(tx, extended, 'rental.extended');
        await billing.chargeRental(tx, { companyId: rental.companyId, amount: cost, rentalId: id, reason: `Rental ${id}: extended by ${hours} h` });
        return toRental(extended);
      });
    },
    async cancel(principal, id) {
      return database.transaction(async (tx) => {
        const rental = assertVisible(principal, await repo.lockRental(tx, id), id);
        if (rental.status !== 'active') throw new AppError('invalid_state', `Rental ${id} is ${rental.status}; only an active rental can be cancelled`);
        const now = clock.now();
        if (rental.expiresAt <= now) throw new AppError('invalid_state', `Rental ${id} expired at ${formatApiTime(rental.expiresAt)} UTC; it can no longer be cancelled`);
        // The rental row is locked: an SMS for it either reached it before (first_sms_at is set)
        // or waits and, once this commits, finds no active rental (kept unmatched, never shown).
        if (rental.firstSmsAt) {
          throw new AppError('too_late', `Rental ${id} received an SMS at ${formatApiTime(rental.firstSmsAt)} UTC; it can no longer be cancelled for a refund (finish it instead)`);
        }
        const until = refundableUntil(rental);
        if (now >= until) {
          throw new AppError(
            'too_late',
            `Rental ${id} could be cancelled for a refund until ${formatApiTime(until)} UTC, ${durationText(cancelWindowSeconds)} after renting; finish it instead`,
          );
        }
        const cancelled = await end(tx, rental, 'cancelled');
        // The refund last: the company's balance row is locked only for the rest of this transaction.
        await billing.refundRental(tx, { companyId: rental.companyId, amount: rental.price, rentalId: id, reason: `Refund of rental ${id} (cancelled)` });
        return toRental(cancelled);
      });
    },
    async finish(principal, id) {
      return database.transaction(async (tx) => {
        const rental = assertVisible(principal, await repo.lockRental(tx, id), id);
        if (rental.status !== 'active') throw new AppError('invalid_state', `Rental ${id} is ${rental.status}; only an active rental can be finished`);
        // Past expiry (the sweeper has not come by yet) it ends as what it is: expired.
        return toRental(await end(tx, rental, rental.expiresAt <= clock.now() ? 'expired' : 'finished'));
      });
    },
    async sweepExpired(batchSize = 100) {
      // One rental per transaction, as the activation sweeper does: several instances sweeping
      // at once skip each other's rows and never hold two numbers' locks in different orders.
      let swept = 0;
      while (swept < batchSize) {
        const ended = await database.transaction(async (tx) => {
          const [rental] = await repo.lockExpiredActiveRentals(tx, clock.now(), 1);
          if (!rental) return false;
          await end(tx, rental, 'expired');
          return true;
        });
        if (!ended) break;
        swept++;
      }
      return swept;
    },
    async attachSms(tx, sms) {
      const rental = await repo.lockActiveRentalOnNumber(tx, sms.numberId);
      // Past expiry the rental belongs to the sweeper: the SMS is kept unmatched, not delivered late.
      if (!rental || rental.expiresAt <= clock.now()) return null;
      // Set here, before the event: webhooks read the message inside this transaction.
      await stock.attachSms(tx, sms.smsId, rental.id);
      const updated = rental.firstSmsAt ? rental : await repo.updateRental(tx, rental.id, { firstSmsAt: clock.now() });
      await announce(tx, updated, 'rental.message_received', { messageId: sms.smsId });
      return rental.id;
    },
    async findInTransaction(tx, id) {
      const found = await read(tx, id);
      return found ? { rental: toRental(found.rental), messages: found.messages } : null;
    },
    refundableUntil,
    closeWaits: () => longPoll.close(),
    waiting: () => changes.watching(),
  };
}
