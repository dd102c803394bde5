import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { afterCommit, type Database, type Db } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { toE164 } from './phone-number.ts';
import { findOrCreateRemoteNumber, insertLease } from './remote-supply.repo.ts';
import { smsActivateSettingsOf } from './remote-supply.ts';
import { createSmsActivateClient, type SmsActivateClient } from './upstream/sms-activate.client.ts';
import * as repo from './upstream-rentals.repo.ts';

/**
 * Issue 11: renting numbers from upstream providers speaking sms-activate's rent actions
 * (getRentNumber, getRentStatus, setRentStatus, continueRentNumber) when no local rentable number
 * is free. Only providers whose settings say `rentals: true` are asked. As for activations' leases:
 * the number is rented *before* the renter's transaction (a network call never holds locks), then
 * sold in it like a local one; a failed sale gives it back (setRentStatus 2). Messages are polled
 * (getRentStatus) by the remote-supply job and enter as SMS to the number, once each (a receipt
 * key per lease and message); the rental's end is recorded on the lease in its transaction and
 * told upstream after commit, retried by the job (remote-supply.ts notifyFinishes).
 */
export interface UpstreamRentalLease {
  leaseId: number;
  numberId: number;
  providerId: number;
  operator: string;
}

export type UpstreamRentalOutcome = 'finished' | 'cancelled' | 'expired';

export interface UpstreamRentals {
  /** Rents a number of the country for `hours` at the first rental-enabled upstream that has one; null when none does. */
  rent(input: { countryId: number; operator?: string; hours: number }): Promise<UpstreamRentalLease | null>;
  /** Locks the rented number for the sale inside the renter's transaction; null when it is not free after all. */
  lock(tx: Db, lease: UpstreamRentalLease): Promise<{ numberId: number; e164: string; operator: string } | null>;
  /** The sale failed: hand the number back upstream. */
  giveBack(lease: UpstreamRentalLease): Promise<void>;
  /** A rental on `numberId` ended (inside its transaction): the upstream hears it after commit. */
  ended(tx: Db, numberId: number, outcome: UpstreamRentalOutcome): Promise<void>;
  /** Extends an upstream-rented number by `hours` (continueRentNumber); nothing for a local number. Throws when the upstream refuses. */
  extend(numberId: number, hours: number): Promise<void>;
  /** Asks upstreams for new messages of sold rentals; returns how many new ones were stored. */
  pollMessages(): Promise<number>;
}

export function createUpstreamRentals(deps: {
  database: Database;
  clock: Clock;
  timeoutMs: number;
  /** Every call to an upstream, told how it went (provider health, as for activations). */
  recordCall: (providerId: number, failure: Error | null) => Promise<void>;
  /** Stores a polled message as an SMS to the number, once per receipt key; true when new. */
  deliverMessage: (input: { providerId: number; numberId: number; receiptKey: string; from: string; text: string }) => Promise<boolean>;
  /** Tells sources about recorded finishes (the remote-supply's notifier). */
  notifyFinishes: () => Promise<number>;
  log?: (message: string) => void;
}): UpstreamRentals {
  const { database, clock } = deps;
  const db = database.db;
  const log = deps.log ?? (() => {});
  const claimUntil = () => new Date(clock.now().getTime() + Math.max(30_000, deps.timeoutMs * 5));
  const clientOf = (settings: { apiUrl: string; apiKey: string }): SmsActivateClient =>
    createSmsActivateClient({ url: settings.apiUrl, apiKey: settings.apiKey, timeoutMs: deps.timeoutMs });
  const notifySoon = () => void deps.notifyFinishes().catch(() => 0);

  async function renters() {
    const rows = await repo.listEnabledProviders(db, 'sms-activate');
    return rows.flatMap((provider) => {
      const settings = smsActivateSettingsOf(provider.settings);
      return settings?.rentals ? [{ provider, settings }] : [];
    });
  }

  return {
    async rent(input) {
      for (const { provider, settings } of await renters()) {
        const country = settings.countries[String(input.countryId)];
        if (!country) continue;
        const client = clientOf(settings);
        let got: { id: string; number: string } | null;
        try {
          got = await client.getRentNumber({ country, hours: input.hours, operator: input.operator });
        } catch (error) {
          // Timeout, garbage, an error answer: never the renter's problem, try the next upstream.
          log(`upstream ${provider.id} getRentNumber: ${(error as Error).message}`);
          await deps.recordCall(provider.id, error as Error);
          continue;
        }
        await deps.recordCall(provider.id, null);
        if (!got) continue;
        const operator = input.operator ?? 'any';
        try {
          const e164 = toE164(`+${got.number}`);
          const number = e164 ? await findOrCreateRemoteNumber(db, { e164, countryId: input.countryId, operator, providerId: provider.id }) : null;
          if (!number || number.providerId !== provider.id) {
            log(`upstream ${provider.id} rented an unusable number ${got.number}`);
            await client.setRentStatus(got.id, 2).catch(() => {});
            continue;
          }
          const lease = await insertLease(db, { providerId: provider.id, numberId: number.id, remoteId: repo.rentLeaseRemoteId(got.id), createdAt: clock.now() });
          return { leaseId: lease!.id, numberId: number.id, providerId: provider.id, operator: number.operator };
        } catch (error) {
          log(`upstream ${provider.id} rental ${got.id}: ${(error as Error).message}`);
          await client.setRentStatus(got.id, 2).catch(() => {});
        }
      }
      return null;
    },
    async lock(tx, lease) {
      const number = await repo.lockRentedNumber(tx, lease.numberId);
      return number ? { numberId: number.id, e164: number.e164, operator: number.operator } : null;
    },
    async giveBack(lease) {
      await repo.releaseRentLease(db, lease.leaseId);
      await deps.notifyFinishes().catch(() => 0);
    },
    async ended(tx, numberId, outcome) {
      const status = outcome === 'finished' ? 'completed' : outcome;
      if (await repo.finishRentLeaseOfNumber(tx, numberId, status)) afterCommit(tx, notifySoon);
    },
    async extend(numberId, hours) {
      const open = await repo.findOpenRentLease(db, numberId);
      if (!open) return;
      const settings = smsActivateSettingsOf(open.provider.settings);
      if (!settings) throw new AppError('unavailable', 'The partner source of this number is misconfigured; the rental cannot be extended now');
      let refusal: string | null;
      try {
        refusal = await clientOf(settings).continueRentNumber(repo.upstreamRentId(open.lease.remoteId), hours);
      } catch (error) {
        log(`upstream ${open.provider.id} continueRentNumber: ${(error as Error).message}`);
        await deps.recordCall(open.provider.id, error as Error);
        throw new AppError('unavailable', 'The partner source of this number did not answer; nothing was charged, try extending again later');
      }
      await deps.recordCall(open.provider.id, null);
      if (refusal !== null) {
        throw new AppError('out_of_stock', `The partner source of this number refused to extend it (${refusal}); nothing was charged`);
      }
    },
    async pollMessages() {
      // A lease rented but never sold nor given back (the process died in between): give it back.
      await repo.releaseStrandedRentLeases(db, new Date(clock.now().getTime() - 300_000));
      let stored = 0;
      for (const { lease, provider } of await repo.activeRentLeases(db, 100)) {
        const settings = smsActivateSettingsOf(provider.settings);
        if (!settings) continue;
        const claim = claimUntil();
        if (!(await repo.claimRentLease(db, lease.id, clock.now(), claim))) continue;
        try {
          let status: Awaited<ReturnType<SmsActivateClient['getRentStatus']>>;
          try {
            status = await clientOf(settings).getRentStatus(repo.upstreamRentId(lease.remoteId));
          } catch (error) {
            log(`upstream ${provider.id} getRentStatus ${lease.remoteId}: ${(error as Error).message}`);
            await deps.recordCall(provider.id, error as Error);
            continue;
          }
          await deps.recordCall(provider.id, null);
          if (status.state !== 'messages') continue; // ended upstream: the rental runs out on our side
          for (const message of status.messages) {
            // Keyed by content, not position: an upstream listing newest first adds nothing twice.
            const digest = createHash('sha256').update(`${message.date}\n${message.from}\n${message.text}`).digest('hex').slice(0, 32);
            const fresh = await deps.deliverMessage({
              providerId: provider.id,
              numberId: lease.numberId,
              receiptKey: `upstream-rent:${lease.id}:${digest}`,
              from: message.from || provider.name,
              text: message.text,
            });
            if (fresh) stored++;
          }
        } catch (error) {
          log(`upstream ${provider.id} rental messages ${lease.remoteId}: ${(error as Error).message}`);
        } finally {
          await repo.releaseRentLeaseClaim(db, lease.id, claim);
        }
      }
      return stored;
    },
  };
}
