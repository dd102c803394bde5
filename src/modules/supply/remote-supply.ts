import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { toE164 } from './phone-number.ts';
import * as repo from './remote-supply.repo.ts';
import { isRentLease, upstreamRentId } from './upstream-rentals.repo.ts';
import { type AgentFinishOutcome, createSmshubAgentClient, type SmshubAgentClient } from './smshub/smshub.client.ts';
import { createSmsActivateClient, upstreamSetStatus } from './upstream/sms-activate.client.ts';

/**
 * Numbers we do not hold but lease per purchase from remote sources:
 * - SIM-bank agents speaking the SMSHub agent protocol (kind 'smshub'): they report stock
 *   (GET_SERVICES), hand out a number (GET_NUMBER), push SMS, hear how it ended (FINISH_ACTIVATION);
 * - upstream providers speaking sms-activate's handler_api.php (kind 'sms-activate'): we resell
 *   their numbers (getPrices, getNumber) with our markup, poll codes (getStatus) and close them
 *   (setStatus 6 / 8).
 * Stock is polled into `remote_stock`. A purchase that finds no local number leases one *before*
 * its transaction — a network call must never hold the buyer's locks — cheapest source first,
 * falling through sources that fail; the number is then sold in the transaction like a local one.
 * Whatever ends the lease is written durably and told to the source, retried until acknowledged.
 */
export interface SmshubSettings {
  agentUrl: string;
  key: string;
  /** Our country id → the agent's country name ("usa", "england" … smshub.org/countries). */
  countries: Record<string, string>;
  /** Share of our price the agent is offered as `sum`, in percent. */
  payoutPercent: number;
}

export interface SmsActivateSettings {
  /** The upstream's handler_api.php URL. */
  apiUrl: string;
  apiKey: string;
  /** Our country id → the upstream's country id. */
  countries: Record<string, string>;
  /** We resell only when upstream cost × (1 + markup) fits our price. */
  markupPercent: number;
  /** Issue 11: rent its numbers (getRentNumber …) when no local rentable number is free. */
  rentals?: boolean;
}

export type RemoteKind = 'smshub' | 'sms-activate';
export const remoteKinds: RemoteKind[] = ['smshub', 'sms-activate'];

export interface RemoteLease {
  leaseId: number;
  numberId: number;
  providerId: number;
  /** What this number costs us (1/10000 USD): the upstream's price or the agent's payout; null when unknown. */
  cost: number | null;
}

type FinishOutcome = AgentFinishOutcome;

/** What the lease logic needs from one remote source, whatever its protocol. */
interface RemoteSource {
  stock(): Promise<{ countryId: number; operator: string; serviceCode: string; available: number; cost: number | null }[]>;
  /** Our maximum acceptable cost for a number sold at `price`, or null when the source has no cost. */
  maxCost(price: number): number | null;
  /** What a number sold at `price` costs us, given the cost the source reported for it (if any). */
  supplyCost(price: number, reportedCost: number | null): number | null;
  getNumber(input: { countryId: number; operator: string; serviceCode: string; price: number }): Promise<{ number: string; remoteId: string } | null>;
  finish(remoteId: string, outcome: FinishOutcome): Promise<void>;
  /** Sources that do not push SMS are polled for the code (or learn that the source cancelled). */
  pollStatus?(remoteId: string): Promise<{ state: 'waiting' } | { state: 'code'; code: string } | { state: 'cancelled' }>;
}

export interface RemoteSupply {
  refreshStock(): Promise<number>;
  countStock(pairs: { serviceCode: string; countryId: number }[]): Promise<Map<string, number>>;
  /** Cheapest cost per `service:country` among sources with stock (all pairs when none are named). */
  costs(pairs?: { serviceCode: string; countryId: number }[]): Promise<Map<string, number>>;
  lease(input: { serviceCode: string; countryId: number; operator?: string; price: number }): Promise<RemoteLease | null>;
  lockLeased(tx: Db, lease: RemoteLease, serviceCode: string): ReturnType<typeof repo.lockLeasedNumber>;
  /** The purchase failed after leasing: give the number back. */
  release(lease: RemoteLease, outcome: 'released' | 'refused'): Promise<void>;
  /** Tells sources about finished leases; returns how many were acknowledged. */
  notifyFinishes(activationId?: number): Promise<number>;
  /** Asks polled sources (sms-activate) for codes of sold numbers; returns how many codes came. */
  pollCodes(): Promise<number>;
}

/** A remote stock report older than this is not trusted (agents report every 10-20 s). */
const stockFreshSeconds = 120;

export function smshubSettingsOf(settings: unknown): SmshubSettings | null {
  const s = settings as Partial<SmshubSettings> | null;
  if (!s || typeof s.agentUrl !== 'string' || typeof s.key !== 'string' || typeof s.countries !== 'object' || s.countries === null) return null;
  return { agentUrl: s.agentUrl, key: s.key, countries: s.countries, payoutPercent: typeof s.payoutPercent === 'number' ? s.payoutPercent : 80 };
}

export function smsActivateSettingsOf(settings: unknown): SmsActivateSettings | null {
  const s = settings as Partial<SmsActivateSettings> | null;
  if (!s || typeof s.apiUrl !== 'string' || typeof s.apiKey !== 'string' || typeof s.countries !== 'object' || s.countries === null) return null;
  return {
    apiUrl: s.apiUrl,
    apiKey: s.apiKey,
    countries: s.countries,
    markupPercent: typeof s.markupPercent === 'number' ? s.markupPercent : 20,
    rentals: s.rentals === true,
  };
}

/** Our country id ↔ the source's country name or id. */
function countryMaps(countries: Record<string, string>) {
  const toRemote = (countryId: number) => countries[String(countryId)];
  const byRemote = new Map(Object.entries(countries).map(([id, name]) => [name, Number(id)]));
  return { toRemote, fromRemote: (name: string) => byRemote.get(name) };
}

export function createRemoteSupply(deps: {
  database: Database;
  clock: Clock;
  timeoutMs: number;
  /** Hands a polled code to the activation on the number (supply's SMS path). */
  deliverCode: (input: { providerId: number; numberId: number; leaseId: number; code: string }) => Promise<void>;
  /** A polled source cancelled a sold number on its side: end its activation now. */
  sourceCancelled: (input: { providerId: number; leaseId: number; activationId: number }) => Promise<void>;
  /**
   * Every call to a source, told how it went: `null` for a well-formed answer (NO_NUMBERS
   * included), the error for a timeout, a malformed reply or an error answer.
   */
  recordCall: (providerId: number, failure: Error | null) => Promise<void>;
  /** A source's stock was replaced (polled, or emptied when the poll failed): counts held in memory are out of date. */
  stockReplaced?: () => void;
  log?: (message: string) => void;
  /** Tests may swap the agent transport; production talks HTTP. */
  clientFor?: (settings: SmshubSettings) => SmshubAgentClient;
}): RemoteSupply {
  const { database, clock } = deps;
  const db = database.db;
  const log = deps.log ?? (() => {});
  const agentClient = deps.clientFor ?? ((s: SmshubSettings) => createSmshubAgentClient({ url: s.agentUrl, key: s.key, timeoutMs: deps.timeoutMs }));
  const freshSince = () => new Date(clock.now().getTime() - stockFreshSeconds * 1000);
  // How long an instance holds a source call it claimed: well past the call's timeout, so only
  // an instance that died mid-call lets its claim run out (and another one makes the call).
  const claimUntil = () => new Date(clock.now().getTime() + Math.max(30_000, deps.timeoutMs * 5));

  function sourceFor(provider: { kind: string; settings: unknown }): RemoteSource | null {
    if (provider.kind === 'smshub') {
      const settings = smshubSettingsOf(provider.settings);
      if (!settings) return null;
      const client = agentClient(settings);
      const countries = countryMaps(settings.countries);
      return {
        async stock() {
          return (await client.getServices()).flatMap((row) => {
            const countryId = countries.fromRemote(row.country);
            return countryId === undefined ? [] : [{ countryId, operator: row.operator, serviceCode: row.service, available: row.available, cost: null }];
          });
        },
        maxCost: () => null,
        // The agent is paid the `sum` we offer in GET_NUMBER: its payout share of our price.
        supplyCost: (price) => Math.round((price * settings.payoutPercent) / 100),
        async getNumber(input) {
          const country = countries.toRemote(input.countryId);
          if (!country) return null;
          const got = await client.getNumber({ country, operator: input.operator, service: input.serviceCode, sum: (input.price / 10000) * (settings.payoutPercent / 100) });
          return got && { number: got.number, remoteId: got.activationId };
        },
        finish: (remoteId, outcome) => client.finishActivation(remoteId, outcome),
      };
    }
    if (provider.kind === 'sms-activate') {
      const settings = smsActivateSettingsOf(provider.settings);
      if (!settings) return null;
      const client = createSmsActivateClient({ url: settings.apiUrl, apiKey: settings.apiKey, timeoutMs: deps.timeoutMs });
      const countries = countryMaps(settings.countries);
      return {
        async stock() {
          return (await client.getPrices()).flatMap((row) => {
            const countryId = countries.fromRemote(row.country);
            return countryId === undefined
              ? []
              : [{ countryId, operator: 'any', serviceCode: row.service, available: row.count, cost: Math.round(row.cost * 10000) }];
          });
        },
        // Our margin: never resell a number that costs us more than price / (1 + markup).
        maxCost: (price) => Math.floor(price / (1 + settings.markupPercent / 100)),
        supplyCost: (_price, reportedCost) => reportedCost,
        async getNumber(input) {
          const country = countries.toRemote(input.countryId);
          if (!country) return null;
          const got = await client.getNumber({ service: input.serviceCode, country });
          return got && { number: got.number, remoteId: got.id };
        },
        // A rental's lease (upstream-rentals.ts) ends with setRentStatus: 1 finish (finished,
        // expired), 2 cancel (cancelled, or never sold).
        finish: (remoteId, outcome) =>
          isRentLease(remoteId)
            ? client.setRentStatus(upstreamRentId(remoteId), outcome === 'completed' || outcome === 'expired' ? 1 : 2)
            : client.setStatus(remoteId, outcome === 'completed' ? upstreamSetStatus.complete : upstreamSetStatus.cancel),
        pollStatus: (remoteId) => client.getStatus(remoteId),
      };
    }
    return null;
  }

  const remote: RemoteSupply = {
    async refreshStock() {
      let rows = 0;
      for (const provider of await repo.listRemoteProviders(db, remoteKinds)) {
        const source = sourceFor(provider);
        if (!source) continue;
        // Several instances run this job: one polls a source at a time; the others pass it by.
        const claim = claimUntil();
        if (!(await repo.claimStockPoll(db, provider.id, clock.now(), claim))) continue;
        try {
          const stock = await source.stock();
          await deps.recordCall(provider.id, null);
          await database.transaction((tx) => repo.replaceRemoteStock(tx, provider.id, stock, clock.now()));
          deps.stockReplaced?.();
          rows += stock.length;
        } catch (error) {
          // A source that does not answer sells nothing until it does.
          await database.transaction((tx) => repo.replaceRemoteStock(tx, provider.id, [], clock.now()));
          deps.stockReplaced?.();
          log(`remote source ${provider.id} stock: ${(error as Error).message}`);
          await deps.recordCall(provider.id, error as Error);
        } finally {
          await repo.releaseStockPoll(db, provider.id, claim);
        }
      }
      return rows;
    },
    async countStock(pairs) {
      const rows = await repo.countRemoteStock(db, pairs, freshSince());
      return new Map(rows.map((row) => [`${row.serviceCode}:${row.countryId}`, Number(row.available)]));
    },
    async costs(pairs) {
      const rows = await repo.cheapestRemoteCosts(db, pairs, freshSince());
      return new Map(rows.map((row) => [`${row.serviceCode}:${row.countryId}`, row.cost]));
    },
    async lease(input) {
      const candidates = await repo.remoteCandidates(db, { ...input, freshSince: freshSince() });
      const tried = new Set<number>();
      for (const candidate of candidates) {
        if (tried.has(candidate.provider.id)) continue;
        tried.add(candidate.provider.id);
        const source = sourceFor(candidate.provider);
        if (!source) continue;
        const maxCost = source.maxCost(input.price);
        if (maxCost !== null && candidate.cost !== null && candidate.cost > maxCost) continue; // no margin left
        let got: { number: string; remoteId: string } | null;
        try {
          got = await source.getNumber({ countryId: input.countryId, operator: candidate.operator, serviceCode: input.serviceCode, price: input.price });
        } catch (error) {
          // Timeout, malformed reply, source error: never the customer's problem, try the next one.
          log(`remote source ${candidate.provider.id} number: ${(error as Error).message}`);
          await deps.recordCall(candidate.provider.id, error as Error);
          continue;
        }
        await deps.recordCall(candidate.provider.id, null);
        if (!got) continue; // NO_NUMBERS: the next source.
        try {
          const e164 = toE164(`+${got.number}`);
          const number = e164
            ? await repo.findOrCreateRemoteNumber(db, { e164, countryId: input.countryId, operator: candidate.operator, providerId: candidate.provider.id })
            : null;
          if (!number || number.providerId !== candidate.provider.id) {
            // Not a number, or one another provider owns: hand it straight back, try the next source.
            log(`remote source ${candidate.provider.id} gave an unusable number ${got.number}`);
            await source.finish(got.remoteId, 'refused').catch(() => {});
            continue;
          }
          const lease = await repo.insertLease(db, { providerId: candidate.provider.id, numberId: number.id, remoteId: got.remoteId, createdAt: clock.now() });
          return { leaseId: lease.id, numberId: number.id, providerId: candidate.provider.id, cost: source.supplyCost(input.price, candidate.cost) };
        } catch (error) {
          log(`remote source ${candidate.provider.id} number: ${(error as Error).message}`);
        }
      }
      return null;
    },
    lockLeased(tx, lease, serviceCode) {
      return repo.lockLeasedNumber(tx, lease.numberId, serviceCode);
    },
    async release(lease, outcome) {
      await repo.setLeaseFinishById(db, lease.leaseId, outcome);
      await remote.notifyFinishes().catch(() => 0);
    },
    async notifyFinishes(activationId) {
      // A lease is sold within a second of being taken; one unsold after 5 minutes was stranded.
      if (activationId === undefined) await repo.releaseStrandedLeases(db, new Date(clock.now().getTime() - 300_000));
      let acknowledged = 0;
      for (const { lease, provider } of await repo.pendingFinishes(db, 50, activationId)) {
        const source = sourceFor(provider);
        if (!source || !lease.finishStatus) continue;
        // Every instance (and the call right after a finish) lists the same pending finishes:
        // only the one that claims a lease tells the source; acknowledging it or counting the
        // failed attempt lets the claim go.
        const claim = claimUntil();
        if (!(await repo.claimLease(db, lease.id, 'finish', clock.now(), claim))) continue;
        try {
          await source.finish(lease.remoteId, lease.finishStatus as FinishOutcome);
        } catch (error) {
          await repo.countLeaseAttempt(db, lease.id);
          log(`remote source ${provider.id} finish ${lease.remoteId}: ${(error as Error).message}`);
          await deps.recordCall(provider.id, error as Error);
          continue;
        }
        await deps.recordCall(provider.id, null);
        await repo.markLeaseNotified(db, lease.id, clock.now());
        acknowledged++;
      }
      return acknowledged;
    },
    async pollCodes() {
      let codes = 0;
      for (const { lease, provider } of await repo.leasesAwaitingCode(db, ['sms-activate'], 100)) {
        const source = sourceFor(provider);
        if (!source?.pollStatus || lease.activationId === null) continue;
        // One instance asks about a lease at a time. What an answer causes is once-only anyway:
        // a code enters under a receipt key per lease and code, a cancel ends only a waiting activation.
        const claim = claimUntil();
        if (!(await repo.claimLease(db, lease.id, 'status', clock.now(), claim))) continue;
        try {
          let status: Awaited<ReturnType<NonNullable<RemoteSource['pollStatus']>>>;
          try {
            status = await source.pollStatus(lease.remoteId);
          } catch (error) {
            log(`remote source ${provider.id} status ${lease.remoteId}: ${(error as Error).message}`);
            await deps.recordCall(provider.id, error as Error);
            continue;
          }
          await deps.recordCall(provider.id, null);
          if (status.state === 'cancelled') {
            // The source gave up on the number: our customer stops waiting now, refunded.
            await deps.sourceCancelled({ providerId: provider.id, leaseId: lease.id, activationId: lease.activationId });
          } else if (status.state === 'code') {
            await deps.deliverCode({ providerId: provider.id, numberId: lease.numberId, leaseId: lease.id, code: status.code });
            codes++;
          }
        } catch (error) {
          log(`remote source ${provider.id} status ${lease.remoteId}: ${(error as Error).message}`);
        } finally {
          await repo.releaseLeaseClaim(db, lease.id, claim);
        }
      }
      return codes;
    },
  };
  return remote;
}
