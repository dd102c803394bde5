import { coalescedRuns } from './coalesced-runs.ts';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { afterCommit, type Database, type Db, isUniqueViolation, sendAhead } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import { hashApiKey } from '../accounts/api-key.ts';
import { stockKey } from '../catalog/catalog.service.ts';
import { extractCode } from './code-extraction.ts';
import { demoMessage, demoNumbers, demoProviderName } from './demo-provider.ts';
import { toE164 } from './phone-number.ts';
import { createStockCountCache } from './stock-count-cache.ts';
import { createRemoteSupply, type RemoteLease, remoteKinds, type SmsActivateSettings, type SmshubSettings } from './remote-supply.ts';
import * as repo from './supply.repo.ts';
import { createUpstreamRentals, type UpstreamRentals } from './upstream-rentals.ts';

export type { RemoteLease } from './remote-supply.ts';

export interface ReservedNumber {
  numberId: number;
  e164: string;
  operator: string;
  providerId: number;
  /** What this sale costs us when the source set it (a leased number); absent for our own numbers (the provider's cost per number applies). */
  supplyCost?: number | null;
}

export interface Provider {
  id: number;
  name: string;
  kind: string;
}

/** An incoming SMS handed to the activations module, inside the ingestion transaction. */
export interface IncomingSms {
  smsId: number;
  numberId: number;
  sender: string;
  text: string;
  code: string | null;
  receivedAt: Date;
}

/** Attaches an SMS to the open activation on its number; returns that activation's id, or null. */
export type SmsSink = (tx: Db, sms: IncomingSms) => Promise<number | null>;

export interface IngestedSms {
  smsId: number;
  activationId: number | null;
  code: string | null;
  /** The same text reached the same number within the duplicate window: stored and delivered once. */
  duplicate: boolean;
}

/** How an activation holding a number ended (the supply side counts failures and cooldowns from it). */
export type RentalOutcome = 'completed' | 'cancelled' | 'expired';

/** An SMS from an SMS Gateway for Android phone, located by device and SIM slot rather than by number. */
export interface GatewaySms {
  deviceId: string;
  simSlot: number | null;
  from: string;
  text: string;
  receivedAt: Date;
  /** Keys that make this delivery unique (event id, signature); a repeated key is a replay. */
  receiptKeys: { eventId: string; signature: string };
}

export interface SupplyOperations {
  /** Rentals in a row without any SMS after which a number is disabled. */
  maxNumberFailures: number;
  /** How long a number rests after a cancel before it is sold again. */
  cancelCooldownSeconds: number;
  /** How long we wait for a SIM-bank agent's answer (the protocol asks for a number within 3 s). */
  remoteTimeoutMs: number;
  /**
   * A whole provider is disabled after this many failures: for providers holding their own
   * numbers (http, android-gateway, demo), its last N finished rentals all ended without any SMS;
   * for remote sources (smshub, sms-activate), its last N calls in a row failed (timeout,
   * malformed reply, error answer).
   */
  maxProviderFailures: number;
}

/** A provider switched off automatically (for the log). */
export interface ProviderDisabled {
  providerId: number;
  name: string;
  kind: string;
  reason: string;
}

/** Same provider, same number, same text within this many seconds: one SMS, stored once. */
export const duplicateWindowSeconds = 120;

export interface ProviderHealth {
  providerId: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** Why it was disabled automatically, and when; null while enabled. */
  disabledReason: string | null;
  disabledAt: Date | null;
  lastSeenAt: Date | null;
  smsReceived: number;
  activationsSold: number;
  activationsWithSms: number;
  /** activationsWithSms / activationsSold, null before the first sale. */
  deliveryRate: number | null;
  medianSecondsToCode: number | null;
  numbers: number;
  numbersDisabled: number;
  numbersRetired: number;
  /** Customers' reports of a bad number among its sales (used, blocked, no SMS, other). */
  reports: number;
  /** Local providers: what one sale costs us (1/10000 USD, settings.costPerNumber); null when not set. */
  costPerNumber: number | null;
}

export interface ProviderFailures {
  providerId: number;
  name: string;
  kind: string;
  enabled: boolean;
  /** Remote sources: calls in a row that failed. Own-number providers: rentals without any SMS among the last maxProviderFailures finished. */
  recentFailures: number;
}

/** An SMS just stored (for the console's live list), announced after its transaction committed. */
export interface StoredSms {
  id: number;
  providerId: number;
  providerName: string;
  numberId: number | null;
  to: string;
  sender: string;
  text: string;
  code: string | null;
  activationId: number | null;
  receivedAt: Date;
}

export interface UnmatchedSms {
  id: number;
  providerId: number;
  to: string;
  sender: string;
  text: string;
  code: string | null;
  receivedAt: Date;
}

export interface SupplyService {
  /** Locks a free number never sold for this service, inside the buyer's transaction; null when none is left. */
  reserveNumber(tx: Db, input: { countryId: number; serviceCode: string; operator?: string }): Promise<ReservedNumber | null>;
  /** Marks the number sold and starts its rental; `supplyCost` is the reserved number's (see ReservedNumber). */
  assignNumber(tx: Db, input: { numberId: number; activationId: number; serviceCode: string; supplyCost?: number | null }): Promise<void>;
  /** Returns the number to stock once its activation has finished. */
  releaseNumber(tx: Db, numberId: number, activationId: number, outcome?: RentalOutcome): Promise<void>;
  /** Free numbers per `service:country` (local and remote), from memory within stockCountMaxAgeMs (see stock-count-cache.ts). */
  countStock(pairs: { serviceCode: string; countryId: number }[]): Promise<Map<string, number>>;
  /** `countStock` when memory holds the counts (no promise), or undefined: then `countStock`. */
  countStockHeld(pairs: readonly { serviceCode: string; countryId: number }[]): Map<string, number> | undefined;
  /** Stock changed on this instance outside this service (a sale, a finish): the next count is fresh. */
  forgetStockCounts(): void;
  /** Same, once `tx` commits (the console's number and provider changes). */
  stockChangedIn(tx: Db): void;
  /** How many stock counts reached the database (tests, metrics). */
  stockCountLoads(): number;
  /**
   * What a number of each `service:country` costs us: the cheapest among remote sources with
   * stock that report a cost (1/10000 USD); pairs without a known cost are absent.
   */
  supplyCosts(pairs?: { serviceCode: string; countryId: number }[]): Promise<Map<string, number>>;
  /**
   * 'http' providers get a bearer secret; 'android-gateway' providers get the webhook signing
   * key (returned as `secret`; pass `signingKey` to use the one already set in the app).
   */
  createProvider(
    input: {
      name: string;
      kind: 'http' | 'demo' | 'android-gateway' | 'smshub' | 'sms-activate';
      /** Local kinds: what one sale costs us (1/10000 USD), kept in settings.costPerNumber. */
      costPerNumber?: number;
      signingKey?: string;
      /** For 'smshub': the agent's URL, the protocol key (also returned as `secret`), country names, payout share. */
      smshub?: Omit<SmshubSettings, 'key'> & { key?: string };
      /** For 'sms-activate': the upstream's handler_api.php URL, our API key there, country ids, markup. */
      upstream?: SmsActivateSettings;
    },
    /** The caller's transaction (the console writes its audit entry in it). */
    tx?: Db,
  ): Promise<{ provider: Provider; secret: string }>;
  /** The SIM-bank agent whose protocol key this is (PUSH_SMS carries it in the body). */
  authenticateAgentKey(key: string): Promise<Provider | null>;
  /** An SMS an agent pushed (PUSH_SMS); a repeated smsId is acknowledged, not stored again. */
  ingestAgentSms(provider: Provider, sms: { smsId: string; phone: string; from: string; text: string }): Promise<IngestedSms>;
  /**
   * Leases a number from a SIM-bank agent with stock, for a purchase that found no local number.
   * Call it outside any transaction (it waits on the network); null when no agent has one.
   */
  leaseRemoteNumber(input: { serviceCode: string; countryId: number; operator?: string; price: number }): Promise<RemoteLease | null>;
  /** Locks the leased number inside the buyer's transaction; null when it cannot be sold for this service. */
  reserveLeasedNumber(tx: Db, lease: RemoteLease, serviceCode: string): Promise<ReservedNumber | null>;
  /** Gives a leased number back to its agent when the purchase did not go through. */
  releaseLease(lease: RemoteLease, reason: 'released' | 'refused'): Promise<void>;
  /** Polls every agent's stock (GET_SERVICES). */
  refreshRemoteStock(): Promise<number>;
  /** Tells agents and upstreams about finished activations (FINISH_ACTIVATION / setStatus), all pending ones or one activation's. */
  notifyRemoteFinishes(activationId?: number): Promise<number>;
  /** Polls upstreams (getStatus) for codes of numbers we resold; returns how many came. */
  pollUpstreamCodes(): Promise<number>;
  /** Issue 11: numbers rented from upstreams with rentals enabled (upstream-rentals.ts). */
  upstreamRentals: UpstreamRentals;
  /** The push provider ('http', or a 'demo' one given a secret) whose bearer secret this is; never an agent's protocol key. */
  authenticateProvider(secret: string): Promise<Provider | null>;
  /** An SMS Gateway for Android provider (enabled or not: a disabled one still delivers) and its webhook signing key; null when there is none with that id. */
  findGatewayProvider(providerId: number): Promise<{ provider: Provider; signingKey: string } | null>;
  addNumbers(
    providerId: number,
    numbers: { e164: string; countryId: number; operator?: string; deviceId?: string; simSlot?: number }[],
    /** `rentable`: customers may also rent these numbers by the hour (issue 11). */
    options?: { rentable?: boolean },
  ): Promise<number>;
  /** Stores an SMS a provider pushed (never dropped, matched or not) and delivers it to its activation. */
  ingestSms(provider: Provider, sms: { to: string; from: string; text: string; receivedAt: Date }): Promise<IngestedSms>;
  /**
   * Same for a gateway phone's SMS, mapped to our number by device and SIM slot (kept unmatched
   * when no number lives there). Throws `conflict` for a replayed signature; a repeated event id
   * (the app retrying) answers the first result with `duplicate: true`.
   */
  ingestGatewaySms(provider: Provider, sms: GatewaySms): Promise<IngestedSms>;
  /** Notes a sign of life from a provider (a gateway's system:ping) for provider health. */
  recordProviderSeen(providerId: number): Promise<void>;
  /**
   * Deletes receipts of incoming webhooks older than their use: replay records (gateway
   * signatures) once no replay of them could pass the timestamp check, the other keys (event ids,
   * SMSHub and upstream ids that drop retries) after `receiptDays`. Returns how many went.
   */
  purgeWebhookReceipts(retention: { replaySeconds: number; receiptDays: number }, batchSize?: number): Promise<number>;
  /** Puts a disabled provider back on sale; the failures that disabled it no longer count. */
  enableProvider(providerId: number): Promise<Provider>;
  /** Called (after commit) whenever a provider is disabled automatically. */
  onProviderDisabled(listener: (event: ProviderDisabled) => void): void;
  /** Called (after commit) for every SMS stored, matched or not; duplicates are not stored, so not announced. */
  onSmsStored(listener: (sms: StoredSms) => void): void;
  /** Puts a disabled number back on sale (and forgets its failures). */
  enableNumber(e164: string): Promise<{ id: number; e164: string }>;
  listUnmatchedSms(limit?: number): Promise<UnmatchedSms[]>;
  /** Every provider's health, or only one's. */
  providerHealth(providerId?: number): Promise<ProviderHealth[]>;
  /**
   * Every provider, whether it is on sale, and its recent failures as its automatic disabling
   * counts them (a cheap read for metrics; it is disabled when they reach maxProviderFailures).
   */
  providerFailures(): Promise<ProviderFailures[]>;
  messagesOf(activationId: number): Promise<{ id: number; sender: string; text: string; code: string | null; receivedAt: Date }[]>;
  /** Creates the demo provider and its fictional numbers (idempotent). */
  seedDemoSupply(countryIds: number[]): Promise<void>;
  /** Sends the demo SMS to every demo number bought at least `delaySeconds` ago (once across instances); returns how many. */
  deliverDemoSms(delaySeconds: number): Promise<number>;
  /**
   * A reuse (POST /activations/{id}/reuse) takes this very number again, inside the buyer's
   * transaction: locked when it is still ours and free (not retired, enabled at an enabled
   * provider of our own, in no activation or rental, not resting after a cancel), or refused
   * with the reason for the customer. Never waits for another buyer holding it.
   */
  reserveNumberForReuse(tx: Db, numberId: number): Promise<{ number: ReservedNumber } | { refused: string }>;
  /** Starts the reuse's rental on the number reserveNumberForReuse locked (its use for the service is already recorded). */
  assignReusedNumber(tx: Db, input: { numberId: number; activationId: number; serviceCode: string }): Promise<void>;
}

export const defaultSupplyOperations: SupplyOperations = { maxNumberFailures: 3, cancelCooldownSeconds: 600, remoteTimeoutMs: 3000, maxProviderFailures: 10 };

/** Kinds whose secret is a bearer secret for POST /api/v1/supply/sms (SIM-bank agents push with their protocol key instead). */
const pushKinds = ['http', 'demo'];

export function createSupplyService(deps: {
  database: Database;
  clock: Clock;
  deliverSms: SmsSink;
  /**
   * The second sink (issue 11): an SMS no activation took goes to the number's active rental,
   * which records it on the SMS itself (sms_messages.rental_id); returns the rental's id, or null.
   */
  deliverRentalSms?: SmsSink;
  /**
   * Ends a waiting activation because its source cancelled the number (status cancelled,
   * refunded by the activations module); a no-op for an activation no longer waiting.
   */
  cancelActivation?: (activationId: number) => Promise<void>;
  operations?: SupplyOperations;
}): SupplyService {
  const { database, clock, deliverSms } = deps;
  const operations = deps.operations ?? defaultSupplyOperations;
  const db = database.db;
  const disabledListeners: ((event: ProviderDisabled) => void)[] = [];
  const stockCounts = createStockCountCache(clock);
  // A provider switched off automatically (after commit) takes its numbers out of the stock shown.
  disabledListeners.push(() => stockCounts.forget());
  const smsListeners: ((sms: StoredSms) => void)[] = [];
  const announceDisabled = (event: ProviderDisabled) => {
    for (const listener of disabledListeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not undo the disabling.
      }
    }
  };

  /**
   * Local providers: disabled when their last N finished rentals (since last enabled) all got no
   * SMS. Called after a finish without SMS has committed, outside its transaction: a finish never
   * locks or writes the provider's row (shared by every sale of its numbers), and the check reads
   * at most N rentals (see disableProviderIfRentalsFailing). The finish's caller waits for it
   * (after commit, briefly), so the provider is off sale by the time the finish is answered.
   * Finishes of one provider's numbers that come while its check runs share the next one (a
   * statement per finish was a round trip of every cancel under load).
   */
  const checkProviderRentals = coalescedRuns(checkProviderRentalsNow);
  async function checkProviderRentalsNow(providerId: number) {
    const max = operations.maxProviderFailures;
    const reason = `last ${max} activations ended without any SMS`;
    try {
      const disabled = await repo.disableProviderIfRentalsFailing(db, { providerId, window: max, reason, at: clock.now(), remoteKinds });
      if (disabled) announceDisabled({ providerId: disabled.id, name: disabled.name, kind: disabled.kind, reason });
    } catch {
      // Health bookkeeping must never turn a finish that committed into an error.
    }
  }

  /** Remote sources: disabled after N failed calls in a row; any well-formed answer resets the count. */
  async function recordCall(providerId: number, failure: Error | null) {
    try {
      if (!failure) return await repo.resetProviderCallFailures(db, providerId);
      const max = operations.maxProviderFailures;
      const reason = `last ${max} calls failed, the last one: ${failure.message.slice(0, 200)}`;
      if (await repo.recordProviderCallFailure(db, providerId, max, reason, clock.now())) {
        const provider = await repo.findProvider(db, providerId);
        announceDisabled({ providerId, name: provider?.name ?? String(providerId), kind: provider?.kind ?? '', reason });
      }
    } catch {
      // Health bookkeeping must never break a purchase or a poll.
    }
  }

  const remote = createRemoteSupply({
    database,
    clock,
    timeoutMs: operations.remoteTimeoutMs,
    recordCall,
    stockReplaced: () => stockCounts.forget(),
    sourceCancelled: async ({ activationId }) => {
      if (!deps.cancelActivation) return;
      await deps.cancelActivation(activationId);
    },
    // An upstream's code arrives by polling (getStatus), without the SMS text: it enters as an SMS
    // whose text is the code, once per lease and code.
    deliverCode: ({ providerId, numberId, leaseId, code }) =>
      database.transaction(async (tx) => {
        if (!(await repo.insertWebhookReceipt(tx, { providerId, receiptKey: `upstream-code:${leaseId}:${code}`, receivedAt: clock.now() }))) return;
        const [provider, number] = await Promise.all([repo.findProvider(tx, providerId), repo.findNumberById(tx, numberId)]);
        if (!provider || !number) return;
        await storeSms(tx, { id: provider.id, name: provider.name, kind: provider.kind }, { toNumber: number.e164, numberId, from: provider.name, text: code, receivedAt: clock.now() });
      }),
  });

  // A rented upstream number's messages are polled (getRentStatus): each enters once, under its receipt key.
  const upstreamRentals = createUpstreamRentals({
    database,
    clock,
    timeoutMs: operations.remoteTimeoutMs,
    recordCall,
    notifyFinishes: () => remote.notifyFinishes(),
    deliverMessage: ({ providerId, numberId, receiptKey, from, text }) =>
      database.transaction(async (tx) => {
        if (!(await repo.insertWebhookReceipt(tx, { providerId, receiptKey, receivedAt: clock.now() }))) return false;
        const [provider, number] = await Promise.all([repo.findProvider(tx, providerId), repo.findNumberById(tx, numberId)]);
        if (!provider || !number) return false;
        const stored = await storeSms(tx, { id: provider.id, name: provider.name, kind: provider.kind }, { toNumber: number.e164, numberId, from, text, receivedAt: clock.now() });
        return !stored.duplicate;
      }),
  });

  // A provider's last sign of life, written after its SMS committed, outside the SMS's transaction,
  // and at most once a second per provider on this instance: written inside, every SMS of one
  // provider queued on the provider's row until the one before had committed
  // (test/modules/supply/sms-ingest-concurrency.test.ts). A failed write is tried by the next sign.
  const providerSeenWrittenAt = new Map<number, number>();
  function providerSeen(providerId: number): Promise<void> {
    const now = clock.now();
    const writtenAt = providerSeenWrittenAt.get(providerId);
    if (writtenAt !== undefined && now.getTime() >= writtenAt && now.getTime() - writtenAt < 1000) return Promise.resolve();
    providerSeenWrittenAt.set(providerId, now.getTime());
    return repo.touchProvider(db, providerId, now).catch(() => void providerSeenWrittenAt.delete(providerId));
  }

  /**
   * The one way an SMS enters: inside one transaction, drop exact duplicates (same provider,
   * recipient and text within the window — gateways retry and modems report twice), store it,
   * hand it to its activation, note the rental's first SMS/code, and once committed the provider's last sign of life.
   * `toNumber` is our E.164 number, or a label ("device/sim") when the recipient is unknown.
   */
  async function storeSms(
    tx: Db,
    provider: Provider,
    sms: { toNumber: string; numberId: number | null; from: string; text: string; receivedAt: Date },
  ): Promise<IngestedSms> {
    afterCommit(tx, () => providerSeen(provider.id));
    // The duplicate check goes out right behind the lock (one round trip): PostgreSQL runs it once
    // the lock is held, on a snapshot taken then, so it sees whatever the holder committed.
    const earlier = await sendAhead(
      tx,
      () => repo.lockRecipient(tx, provider.id, sms.toNumber),
      () =>
        repo.findDuplicateSms(tx, {
          providerId: provider.id,
          toNumber: sms.toNumber,
          text: sms.text,
          receivedAt: sms.receivedAt,
          windowSeconds: duplicateWindowSeconds,
        }),
    );
    // A repeat is a duplicate unless the number changed hands since: the same text for the
    // number's next activation or rental (codes do repeat) is that holder's SMS, not a retry.
    const changedHands = earlier !== null && sms.numberId !== null && (await repo.numberHolderChangedSince(tx, sms.numberId, earlier));
    if (earlier && !changedHands) return { smsId: earlier.id, activationId: earlier.activationId, code: earlier.code, duplicate: true };
    const code = extractCode(sms.text);
    const stored = await repo.insertSms(tx, {
      providerId: provider.id,
      numberId: sms.numberId,
      toNumber: sms.toNumber,
      sender: sms.from,
      text: sms.text,
      code,
      receivedAt: sms.receivedAt,
    });
    const activationId =
      sms.numberId === null
        ? null
        : await deliverToNumber(tx, { smsId: stored.id, numberId: sms.numberId, sender: sms.from, text: sms.text, code, receivedAt: sms.receivedAt });
    const announced: StoredSms = { id: stored.id, providerId: provider.id, providerName: provider.name, numberId: sms.numberId, to: sms.toNumber, sender: sms.from, text: sms.text, code, activationId, receivedAt: sms.receivedAt };
    afterCommit(tx, () => {
      for (const listener of smsListeners) {
        try {
          listener(announced);
        } catch {
          // A broken live listener must not fail the ingestion that already committed.
        }
      }
    });
    return { smsId: stored.id, activationId, code, duplicate: false };
  }

  /** An SMS to one of our numbers: to its open activation (its id), or else to its renter (null). */
  async function deliverToNumber(tx: Db, incoming: IncomingSms): Promise<number | null> {
    const activationId = await deliverSms(tx, incoming);
    if (activationId !== null) {
      await sendAhead(
        tx,
        () => repo.setSmsActivation(tx, incoming.smsId, activationId),
        () => repo.markRentalSms(tx, activationId, clock.now(), incoming.code !== null),
      );
    } else if (deps.deliverRentalSms) {
      // A rented number is in no activation: every SMS to it, for any service, is the renter's.
      await deps.deliverRentalSms(tx, incoming);
    }
    return activationId;
  }

  async function ingestSms(provider: Provider, sms: { to: string; from: string; text: string; receivedAt: Date }) {
    const e164 = toE164(sms.to);
    if (!e164) throw new AppError('invalid_request', `body.to "${sms.to}" is not a phone number in international format`);
    return database.transaction(async (tx) => {
      const number = await repo.findNumberByE164(tx, e164);
      const numberId = number && number.providerId === provider.id ? number.id : null;
      return storeSms(tx, provider, { toNumber: e164, numberId, from: sms.from, text: sms.text, receivedAt: sms.receivedAt });
    });
  }

  async function ingestGatewaySms(provider: Provider, sms: GatewaySms): Promise<IngestedSms> {
    return database.transaction(async (tx) => {
      const now = clock.now();
      // Receipts are written in the ingestion transaction: if storing fails, the app's retry is
      // processed, not refused.
      const freshSignature = await repo.insertWebhookReceipt(tx, { providerId: provider.id, receiptKey: `sig:${sms.receiptKeys.signature}`, receivedAt: now });
      if (!freshSignature) throw new AppError('conflict', 'This signed webhook was already received: a replay is not processed twice');
      const number = await repo.findNumberOnDevice(tx, provider.id, sms.deviceId, sms.simSlot);
      const toNumber = number?.e164 ?? `device:${sms.deviceId}/sim:${sms.simSlot ?? '?'}`;
      const freshEvent = await repo.insertWebhookReceipt(tx, { providerId: provider.id, receiptKey: `event:${sms.receiptKeys.eventId}`, receivedAt: now });
      const result = await storeSms(tx, provider, { toNumber, numberId: number?.id ?? null, from: sms.from, text: sms.text, receivedAt: sms.receivedAt });
      return freshEvent ? result : { ...result, duplicate: true };
    });
  }

  return {
    async reserveNumber(tx, input) {
      const number = await repo.lockFreeNumber(tx, { ...input, now: clock.now(), start: repo.randomPickStart() });
      if (!number) return null;
      return { numberId: number.id, e164: number.e164, operator: number.operator, providerId: number.providerId };
    },
    async assignNumber(tx, input) {
      await repo.markNumberSold(tx, { ...input, at: clock.now() });
    },
    async releaseNumber(tx, numberId, activationId, outcome) {
      if (!outcome) return repo.markNumberFree(tx, numberId, activationId);
      const now = clock.now();
      // One statement on the number's own rows (its rental, its lease, itself): a number that
      // keeps getting no SMS is dead or blocked, so it leaves stock after N in a row; a cancelled
      // one rests; a lease records the finish, its agent is told after commit (and retried by a job).
      const cooldown = outcome === 'cancelled' && operations.cancelCooldownSeconds > 0;
      const { hadSms, providerId, leased } = await repo.releaseSoldNumber(tx, {
        numberId,
        activationId,
        outcome,
        at: now,
        cooldownUntil: cooldown ? new Date(now.getTime() + operations.cancelCooldownSeconds * 1000) : null,
        maxFailures: operations.maxNumberFailures,
      });
      if (!hadSms && providerId !== null) afterCommit(tx, () => checkProviderRentals(providerId));
      // A leased number: tell its source now, without holding up the answer (the remote-supply job retries).
      if (leased) afterCommit(tx, () => void remote.notifyFinishes(activationId).catch(() => 0));
    },
    countStock(pairs) {
      return stockCounts.get(pairs, async () => {
        const [rows, remoteCounts] = await Promise.all([repo.countFreeNumbers(db, pairs, clock.now()), remote.countStock(pairs)]);
        return new Map(
          rows.map((row) => [
            stockKey(row.serviceCode, Number(row.countryId)),
            Number(row.available) + (remoteCounts.get(`${row.serviceCode}:${Number(row.countryId)}`) ?? 0),
          ]),
        );
      });
    },
    countStockHeld: (pairs) => stockCounts.getHeld(pairs),
    forgetStockCounts: () => stockCounts.forget(),
    stockChangedIn: (tx) => afterCommit(tx, () => stockCounts.forget()),
    stockCountLoads: () => stockCounts.loads(),
    async createProvider(input, tx = db) {
      const gateway = input.kind === 'android-gateway';
      // A gateway phone signs its webhooks with a key we must be able to recompute with, so it is
      // kept as is in the settings; a push provider's bearer secret is kept only as a hash. An
      // SMSHub agent's protocol key goes both ways (we send it, it pushes with it): kept and hashed.
      let secret = gateway ? (input.signingKey ?? randomBytes(18).toString('base64url')) : `nps_${randomBytes(24).toString('base64url')}`;
      let settings: Record<string, unknown> = gateway ? { signingKey: secret } : {};
      if (input.costPerNumber !== undefined && !(remoteKinds as string[]).includes(input.kind)) settings.costPerNumber = input.costPerNumber;
      if (input.kind === 'smshub') {
        if (!input.smshub) throw new AppError('invalid_request', 'An smshub provider needs the agent URL and its country names');
        secret = input.smshub.key ?? randomBytes(18).toString('hex');
        settings = { ...input.smshub, key: secret };
      }
      if (input.kind === 'sms-activate') {
        if (!input.upstream) throw new AppError('invalid_request', 'An sms-activate upstream needs its URL, API key and country ids');
        // Our key at the upstream authenticates us there, never anyone here.
        secret = '';
        settings = { ...input.upstream };
      }
      try {
        const row = await repo.insertProvider(tx, {
          name: input.name,
          kind: input.kind,
          secretHash: gateway || input.kind === 'sms-activate' ? null : hashApiKey(secret),
          settings,
        });
        return { provider: { id: row.id, name: row.name, kind: row.kind }, secret };
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AppError('conflict', `A provider named "${input.name}" already exists`);
        }
        throw error;
      }
    },
    async authenticateProvider(secret) {
      if (!secret) return null;
      const row = await repo.findProviderBySecretHash(db, hashApiKey(secret));
      // One hash column holds push secrets and SMSHub protocol keys: only a push provider's
      // secret opens the push endpoint (an agent's key is sent to the agent, so it is less secret).
      return row && pushKinds.includes(row.kind) ? { id: row.id, name: row.name, kind: row.kind } : null;
    },
    async findGatewayProvider(providerId) {
      const row = await repo.findProvider(db, providerId);
      const signingKey = (row?.settings as { signingKey?: unknown } | undefined)?.signingKey;
      // A disabled gateway's SMS are still taken (kept, delivered to open activations); only its numbers are off sale.
      if (!row || row.kind !== 'android-gateway' || typeof signingKey !== 'string') return null;
      return { provider: { id: row.id, name: row.name, kind: row.kind }, signingKey };
    },
    async addNumbers(providerId, numbers, options = {}) {
      const normalized = numbers.map((n) => {
        const e164 = toE164(n.e164);
        if (!e164) throw new AppError('invalid_request', `"${n.e164}" is not a phone number in international format`);
        return { e164, countryId: n.countryId, operator: n.operator ?? 'any', providerId, deviceId: n.deviceId ?? null, simSlot: n.simSlot ?? null, rentable: options.rentable ?? false };
      });
      try {
        return await repo.insertNumbers(db, normalized);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', 'Another number of this provider already lives in that device and SIM slot');
        throw error;
      } finally {
        stockCounts.forget();
      }
    },
    ingestSms,
    ingestGatewaySms,
    async authenticateAgentKey(key) {
      const row = key ? await repo.findProviderBySecretHash(db, hashApiKey(key)) : null;
      return row && row.kind === 'smshub' ? { id: row.id, name: row.name, kind: row.kind } : null;
    },
    async ingestAgentSms(provider, sms) {
      const e164 = toE164(`+${sms.phone}`);
      if (!e164) throw new AppError('invalid_request', `phone ${sms.phone} is not a number with its country code`);
      return database.transaction(async (tx) => {
        // The agent resends until it gets SUCCESS: a known smsId is acknowledged, not stored twice.
        const fresh = await repo.insertWebhookReceipt(tx, { providerId: provider.id, receiptKey: `smshub-sms:${sms.smsId}`, receivedAt: clock.now() });
        const number = await repo.findNumberByE164(tx, e164);
        const numberId = number && number.providerId === provider.id ? number.id : null;
        if (!fresh) {
          const earlier = await repo.findDuplicateSms(tx, { providerId: provider.id, toNumber: e164, text: sms.text, receivedAt: clock.now(), windowSeconds: 86_400 });
          return { smsId: earlier?.id ?? 0, activationId: earlier?.activationId ?? null, code: earlier?.code ?? null, duplicate: true };
        }
        return storeSms(tx, provider, { toNumber: e164, numberId, from: sms.from, text: sms.text, receivedAt: clock.now() });
      });
    },
    leaseRemoteNumber: (input) => remote.lease(input),
    async reserveLeasedNumber(tx, lease, serviceCode) {
      const number = await remote.lockLeased(tx, lease, serviceCode);
      return number ? { numberId: number.id, e164: number.e164, operator: number.operator, providerId: number.providerId, supplyCost: lease.cost } : null;
    },
    releaseLease: (lease, reason) => remote.release(lease, reason),
    refreshRemoteStock: () => remote.refreshStock(),
    supplyCosts: (pairs) => remote.costs(pairs),
    notifyRemoteFinishes: (activationId) => remote.notifyFinishes(activationId),
    pollUpstreamCodes: () => remote.pollCodes(),
    upstreamRentals,
    recordProviderSeen: (providerId) => providerSeen(providerId),
    async purgeWebhookReceipts(retention, batchSize = 1000) {
      const now = clock.now().getTime();
      const cutoffs = {
        signaturesBefore: new Date(now - retention.replaySeconds * 1000),
        othersBefore: new Date(now - retention.receiptDays * 24 * 3600 * 1000),
      };
      let total = 0;
      // In batches, so a backlog after downtime clears without one huge transaction.
      for (;;) {
        const count = await repo.deleteOldWebhookReceipts(db, cutoffs, batchSize);
        total += count;
        if (count < batchSize) return total;
      }
    },
    async enableProvider(providerId) {
      const row = await repo.enableProvider(db, providerId);
      if (!row) throw new AppError('not_found', `No provider ${providerId}`);
      stockCounts.forget();
      return row;
    },
    onProviderDisabled: (listener) => void disabledListeners.push(listener),
    onSmsStored: (listener) => void smsListeners.push(listener),
    async enableNumber(e164) {
      const normalized = toE164(e164);
      const row = normalized ? await repo.enableNumber(db, normalized) : null;
      if (!row) throw new AppError('not_found', `No number ${e164} in stock`);
      stockCounts.forget();
      return row;
    },
    async listUnmatchedSms(limit = 50) {
      const rows = await repo.listUnmatchedSms(db, limit);
      return rows.map(({ toNumber, ...row }) => ({ ...row, to: toNumber }));
    },
    async providerHealth(providerId) {
      const rows = await repo.providerHealthRows(db, providerId);
      return rows.map((row) => ({
        providerId: row.id,
        name: row.name,
        kind: row.kind,
        enabled: row.enabled,
        disabledReason: row.enabled ? null : row.disabledReason,
        disabledAt: row.enabled || !row.disabledAt ? null : new Date(row.disabledAt),
        lastSeenAt: row.lastSeenAt === null ? null : new Date(row.lastSeenAt),
        smsReceived: row.smsReceived,
        activationsSold: row.rentals,
        activationsWithSms: row.rentalsWithSms,
        deliveryRate: row.rentals === 0 ? null : row.rentalsWithSms / row.rentals,
        medianSecondsToCode: row.medianSecondsToCode === null ? null : Number(row.medianSecondsToCode),
        numbers: row.numbers,
        numbersDisabled: row.numbersDisabled,
        numbersRetired: row.numbersRetired,
        reports: Number(row.reports),
        costPerNumber: row.costPerNumber === null ? null : Number(row.costPerNumber),
      }));
    },
    async providerFailures() {
      const rows = await repo.providerFailureRows(db, operations.maxProviderFailures);
      return rows.map((row) => ({
        providerId: Number(row.id),
        name: row.name,
        kind: row.kind,
        enabled: row.enabled,
        recentFailures: Number((remoteKinds as string[]).includes(row.kind) ? row.callFailures : row.rentalsWithoutSms),
      }));
    },
    async messagesOf(activationId) {
      const rows = await repo.listSmsOfActivation(db, activationId);
      return rows.map(({ id, sender, text, code, receivedAt }) => ({ id, sender, text, code, receivedAt }));
    },
    async seedDemoSupply(countryIds) {
      // The demo provider has no secret: its SMS are generated in-process, never pushed. Instances
      // starting together may both insert it: one row wins, both use it.
      await repo.insertProviderIfAbsent(db, { name: demoProviderName, kind: 'demo', secretHash: null });
      const provider = (await repo.findProviderByName(db, demoProviderName))!;
      // Every start seeds again; inserting only the missing numbers keeps a restart quick (an
      // insert of every demo number, even one that conflicts on each row, took about a second).
      const existing = new Set(await repo.listProviderNumberE164s(db, provider.id));
      const missing = demoNumbers(countryIds).filter((n) => !existing.has(n.e164));
      await repo.insertNumbers(db, missing.map((n) => ({ ...n, providerId: provider.id })));
      stockCounts.forget();
    },
    async deliverDemoSms(delaySeconds) {
      const provider = await repo.findProviderByName(db, demoProviderName);
      if (!provider || !provider.enabled) return 0;
      const takenBefore = new Date(clock.now().getTime() - delaySeconds * 1000);
      const due = await repo.listBusyNumbersWithoutSms(db, provider.id, takenBefore, 100);
      let delivered = 0;
      for (const number of due) {
        const activationId = number.busyActivationId;
        if (activationId === null) continue;
        // Every instance lists the same due numbers; only the one that claims a number (in the
        // transaction that stores its SMS) sends it. Each message has a random code, so the
        // duplicate check of ingestion would not catch a second one. A pass that dies mid-way
        // rolls back and leaves the number due for the next pass of any instance.
        const sent = await database.transaction(async (tx) => {
          if (!(await repo.claimNumberAwaitingSms(tx, provider.id, number.e164, activationId))) return false;
          const message = demoMessage(number.busyServiceCode ?? '');
          await storeSms(tx, provider, { toNumber: number.e164, numberId: number.id, from: message.from, text: message.text, receivedAt: clock.now() });
          return true;
        });
        if (sent) delivered++;
      }
      return delivered;
    },
    async reserveNumberForReuse(tx, numberId) {
      const number = await repo.lockNumberForReuse(tx, numberId);
      if (!number) {
        const exists = await repo.findNumberById(tx, numberId);
        return { refused: exists ? `The number ${exists.e164} is being sold to another customer right now` : 'The number is no longer in our stock' };
      }
      const now = clock.now();
      const e164 = number.e164;
      // A remote source's number is its own: we cannot ask it for this very number again.
      if ((remoteKinds as string[]).includes(number.providerKind)) return { refused: `The number ${e164} came from a partner source and cannot be taken again` };
      if (number.retiredAt) return { refused: `The number ${e164} is no longer in our stock` };
      if (!number.enabled || !number.providerEnabled) return { refused: `The number ${e164} is off sale at the moment` };
      if (number.busyActivationId !== null) return { refused: `The number ${e164} is in use by another activation` };
      if (number.busyRentalId !== null) return { refused: `The number ${e164} is rented by another customer` };
      // A cancel's late SMS (another service's code) must not reach the reuse.
      if (number.cooldownUntil && number.cooldownUntil > now) return { refused: `The number ${e164} rests after a cancel until ${formatApiTime(number.cooldownUntil)} UTC` };
      return { number: { numberId: number.id, e164, operator: number.operator, providerId: number.providerId } };
    },
    async assignReusedNumber(tx, input) {
      // The number is locked and was checked free in this transaction: not selling it is a bug.
      if (!(await repo.markNumberReused(tx, { ...input, at: clock.now() }))) throw new Error(`number ${input.numberId} was not free for reuse`);
    },
  };
}
