import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { demoProviderName } from './demo-provider.ts';
import { toE164 } from './phone-number.ts';
import * as repo from './rental-stock.repo.ts';
import { findProviderByName } from './supply.repo.ts';
import type { SupplyService } from './supply.service.ts';
import type { UpstreamRentalLease, UpstreamRentalOutcome } from './upstream-rentals.ts';

export type { UpstreamRentalLease } from './upstream-rentals.ts';

/** A free rentable number, locked for the renter's transaction. */
export interface RentableNumber {
  numberId: number;
  e164: string;
  operator: string;
}

/**
 * The supply side of rentals (issue 11): which numbers may be rented, holding and freeing them,
 * and the SMS that reach a rental. Numbers, SMS and their SQL belong to supply; the rentals
 * module decides who rents what and what it costs, and calls this.
 */
export interface RentalStock {
  /** Locks a free rentable number of the country (and operator) inside the renter's transaction; null when none is left. */
  reserve(tx: Db, input: { countryId: number; operator?: string }): Promise<RentableNumber | null>;
  /**
   * The locked number becomes the rental's: out of activation stock until released, and never
   * again sold as an activation for a service the catalog has now (the renter may have used it there).
   */
  hold(tx: Db, numberId: number, rentalId: number): Promise<void>;
  /** The rental ended: its number is free again (after the cancel cooldown, so the next buyer does not get the renter's late SMS). */
  release(tx: Db, numberId: number, rentalId: number): Promise<void>;
  /** Free rentable numbers per country and operator. */
  available(countryId?: number): Promise<{ countryId: number; operator: string; available: number }[]>;
  /** The SMS `smsId` reached this rental. */
  attachSms(tx: Db, smsId: number, rentalId: number): Promise<void>;
  /** A rental's SMS, newest first (on `db`, or inside a caller's transaction). */
  messagesOf(rentalId: number, db?: Db): Promise<{ id: number; sender: string; text: string; code: string | null; receivedAt: Date }[]>;
  /** Marks numbers in stock rentable (or not); returns how many were found. */
  setRentable(e164s: string[], rentable?: boolean): Promise<number>;
  /** The demo provider's "SIM cards": one SMS to each demo number rented at least `delaySeconds` ago; returns how many. */
  deliverDemoSms(delaySeconds: number): Promise<number>;
  /**
   * Upstream rentals (upstream-rentals.ts), when no local rentable number is free: `rentRemote`
   * outside any transaction (it waits on the network), `lockRemote` in the renter's, `giveBackRemote`
   * when the sale failed. `endRemote` records the end of a rental on an upstream number (nothing
   * for a local one); `extendRemote` asks its upstream for more time (throws when it refuses).
   */
  rentRemote(input: { countryId: number; operator?: string; hours: number }): Promise<UpstreamRentalLease | null>;
  lockRemote(tx: Db, lease: UpstreamRentalLease): Promise<RentableNumber | null>;
  giveBackRemote(lease: UpstreamRentalLease): Promise<void>;
  endRemote(tx: Db, numberId: number, outcome: UpstreamRentalOutcome): Promise<void>;
  extendRemote(numberId: number, hours: number): Promise<void>;
}

export function createRentalStock(deps: { database: Database; clock: Clock; cooldownSeconds: number; supply: SupplyService }): RentalStock {
  const { database, clock, cooldownSeconds, supply } = deps;
  return {
    async reserve(tx, input) {
      const row = await repo.lockFreeRentableNumber(tx, { ...input, now: clock.now() });
      return row ? { numberId: row.id, e164: row.e164, operator: row.operator } : null;
    },
    async hold(tx, numberId, rentalId) {
      // Locked by reserve() in this transaction, so it is still free; the check is the last line of defence.
      if (!(await repo.holdNumber(tx, numberId, rentalId, clock.now()))) throw new Error(`number ${numberId} is no longer free`);
      await repo.markUsedForEveryService(tx, numberId, clock.now());
    },
    async release(tx, numberId, rentalId) {
      const until = cooldownSeconds > 0 ? new Date(clock.now().getTime() + cooldownSeconds * 1000) : null;
      await repo.releaseNumber(tx, numberId, rentalId, until);
    },
    available: (countryId) => repo.countFreeRentable(database.db, clock.now(), countryId),
    attachSms: (tx, smsId, rentalId) => repo.setSmsRental(tx, smsId, rentalId),
    messagesOf: (rentalId, db = database.db) => repo.listSmsOfRental(db, rentalId),
    async setRentable(e164s, rentable = true) {
      const normalized = e164s.map((e164) => {
        const number = toE164(e164);
        if (!number) throw new AppError('invalid_request', `"${e164}" is not a phone number in international format`);
        return number;
      });
      return repo.setRentable(database.db, normalized, rentable);
    },
    async deliverDemoSms(delaySeconds) {
      const provider = await findProviderByName(database.db, demoProviderName);
      if (!provider || !provider.enabled) return 0;
      const rentedBefore = new Date(clock.now().getTime() - delaySeconds * 1000);
      const due = await repo.listRentedNumbersWithoutSms(database.db, provider.id, rentedBefore, 100);
      let delivered = 0;
      for (const { e164, rentalId } of due) {
        // The same text for one rental on every instance: ingestion's duplicate check (under the
        // recipient's lock) stores it once when two instances send it together.
        const code = String(100_000 + ((rentalId * 7919) % 900_000));
        const sms = { to: e164, from: 'Nova demo', text: `Your verification code is ${code} (demo rental ${rentalId})`, receivedAt: clock.now() };
        const stored = await supply.ingestSms({ id: provider.id, name: provider.name, kind: provider.kind }, sms);
        if (!stored.duplicate) delivered++;
      }
      return delivered;
    },
    rentRemote: (input) => supply.upstreamRentals.rent(input),
    lockRemote: (tx, lease) => supply.upstreamRentals.lock(tx, lease),
    giveBackRemote: (lease) => supply.upstreamRentals.giveBack(lease),
    endRemote: (tx, numberId, outcome) => supply.upstreamRentals.ended(tx, numberId, outcome),
    extendRemote: (numberId, hours) => supply.upstreamRentals.extend(numberId, hours),
  };
}
