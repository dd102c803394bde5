import type { Clock } from '../../clock.ts';
import { type Database, isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { ActivationsService } from '../activations/activations.service.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import { toE164 } from './phone-number.ts';
import { remoteKinds } from './remote-supply.ts';
import * as consoleRepo from './supply-console.repo.ts';
import * as repo from './supply.repo.ts';
import * as rentalStockRepo from './rental-stock.repo.ts';
import type { ProviderHealth, SupplyService } from './supply.service.ts';

export type { NumberFilter, NumberWithProvider, SmsFilter, SmsWithProvider } from './supply-console.repo.ts';

export type CreatableKind = 'http' | 'android-gateway' | 'smshub' | 'sms-activate';
export const creatableKinds: CreatableKind[] = ['http', 'android-gateway', 'smshub', 'sms-activate'];

export interface NewProvider {
  name: string;
  kind: CreatableKind;
  /** 1/10000 USD per sale, local kinds. */
  costPerNumber?: number;
  signingKey?: string;
  url?: string;
  countries?: Record<string, string>;
  key?: string;
  payoutPercent?: number;
  apiKey?: string;
  markupPercent?: number;
  /** sms-activate: also rent its numbers (getRentNumber …) when no local rentable number is free (issue 11). */
  rentals?: boolean;
}

/** What a new provider needs to connect, shown once (never stored readable, never audited). */
export interface ProviderCredentials {
  secret?: string;
  signing_key?: string;
  webhook_path?: string;
  key?: string;
  push_path?: string;
}

export interface NewNumber {
  e164: string;
  countryId: number;
  operator?: string;
  deviceId?: string;
  simSlot?: number;
  /** Customers may also rent it by the hour (issue 11). */
  rentable?: boolean;
}

export interface NumberHistory {
  number: consoleRepo.NumberWithProvider;
  rentals: (consoleRepo.RentalHistoryRow & { sms: { id: number; sender: string; text: string; code: string | null; receivedAt: Date }[] })[];
  unmatchedSms: consoleRepo.SmsWithProvider[];
}

export const maxImportRows = 10_000;
const maxReportedLines = 20;

/**
 * The console's supply operations (docs/console-api.md, "Supply"): providers, numbers, the SMS
 * feed. Every change writes its audit entry in the transaction of the change.
 */
export interface SupplyConsoleService {
  providers(): Promise<ProviderHealth[]>;
  createProvider(actor: Actor, input: NewProvider): Promise<{ provider: ProviderHealth; credentials: ProviderCredentials }>;
  setProviderCost(actor: Actor, providerId: number, costPerNumber: number): Promise<ProviderHealth>;
  enableProvider(actor: Actor, providerId: number): Promise<ProviderHealth>;
  disableProvider(actor: Actor, providerId: number, reason?: string): Promise<ProviderHealth>;
  /** All or nothing: any invalid row fails the whole file, naming each bad line. */
  importNumbers(actor: Actor, providerId: number, csv: string): Promise<{ added: number; skipped: number }>;
  /** The operator CLI's numbers:add; numbers already in stock are skipped. Returns how many were added. */
  addNumbers(actor: Actor, providerId: number, numbers: NewNumber[]): Promise<number>;
  /** Puts a disabled number back on sale and forgets its failures (the operator CLI's numbers:enable). */
  enableNumber(actor: Actor, e164: string): Promise<{ id: number; e164: string }>;
  listNumbers(filter: consoleRepo.NumberFilter, page: { limit: number; offset: number }): Promise<{ numbers: consoleRepo.NumberWithProvider[]; total: number }>;
  retireNumber(actor: Actor, numberId: number, reason?: string): Promise<consoleRepo.NumberWithProvider>;
  numberHistory(numberId: number): Promise<NumberHistory>;
  listSms(filter: consoleRepo.SmsFilter, limit: number): Promise<consoleRepo.SmsWithProvider[]>;
  /** An unmatched SMS becomes this activation's SMS, exactly as if it had matched. */
  attachSms(actor: Actor, smsId: number, activationId: number): Promise<{ sms: consoleRepo.SmsWithProvider; activation: { id: number; status: string; code: string | null } }>;
}

const isRemote = (kind: string) => (remoteKinds as string[]).includes(kind);

function required<T>(value: T | undefined, field: string, kind: string): T {
  if (value === undefined || value === '') throw new AppError('invalid_request', `body.${field} is required for a ${kind} provider`);
  return value;
}

function checkRemoteSettings(input: NewProvider) {
  const url = required(input.url, 'url', input.kind);
  if (!/^https?:\/\/\S+$/.test(url)) throw new AppError('invalid_request', `body.url must be an http(s) URL, not "${url}"`);
  const countries = required(input.countries, 'countries', input.kind);
  const entries = Object.entries(countries);
  if (entries.length === 0) throw new AppError('invalid_request', 'body.countries must map at least one of our country ids to theirs, e.g. {"6": "usa"}');
  for (const [ours, theirs] of entries) {
    if (!/^[1-9]\d{0,8}$/.test(ours) || !/^[a-z0-9_ -]{1,64}$/i.test(theirs)) {
      throw new AppError('invalid_request', `body.countries maps our country id to theirs, e.g. {"6": "usa"}; "${ours}": "${theirs}" is not one`);
    }
  }
  return { url, countries };
}

export function createSupplyConsoleService(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  supply: SupplyService;
  catalog: CatalogService;
  activations: ActivationsService;
}): SupplyConsoleService {
  const { database, clock, audit, supply, catalog, activations } = deps;
  const db = database.db;

  async function healthOf(providerId: number): Promise<ProviderHealth> {
    const [provider] = await supply.providerHealth(providerId);
    if (!provider) throw new AppError('not_found', `No provider ${providerId}`);
    return provider;
  }

  async function lockedProvider(tx: Parameters<typeof consoleRepo.lockProvider>[0], providerId: number) {
    const provider = await consoleRepo.lockProvider(tx, providerId);
    if (!provider) throw new AppError('not_found', `No provider ${providerId}`);
    return provider;
  }

  /** Parses and checks an import file; throws one invalid_request naming every bad line. */
  async function parseNumbersCsv(csv: string) {
    // Loaded only when numbers are imported: a server that never imports any does not carry it in memory.
    const { parse } = await import('csv-parse/sync');
    let records: { info: { lines: number }; record: string[] }[];
    try {
      // With `info: true` each record comes as { info, record } (the sync typings do not model it).
      records = parse(csv, { relax_column_count: true, skip_empty_lines: true, trim: true, info: true, bom: true }) as unknown as typeof records;
    } catch (error) {
      throw new AppError('invalid_request', `The CSV cannot be read: ${(error as Error).message}`);
    }
    if (records.length > 0 && records[0].record[0]?.toLowerCase() === 'e164') records = records.slice(1);
    if (records.length === 0) throw new AppError('invalid_request', 'The CSV has no numbers: one per line, columns e164,country_id[,operator[,device,sim]]');
    if (records.length > maxImportRows) throw new AppError('invalid_request', `The CSV has ${records.length} rows; import at most ${maxImportRows} at a time`);
    const countryIds = new Set((await catalog.countries()).map((c) => c.id));
    const errors: string[] = [];
    const rows: { line: number; e164: string; countryId: number; operator: string; deviceId: string | null; simSlot: number | null }[] = [];
    for (const { info, record } of records) {
      const line = info.lines;
      const problems: string[] = [];
      const [rawE164 = '', rawCountry = '', rawOperator = '', rawDevice = '', rawSim = ''] = record;
      if (record.length < 2 || record.length > 5) problems.push(`expected 2 to 5 columns (e164,country_id[,operator[,device,sim]]), got ${record.length}`);
      const e164 = toE164(rawE164);
      if (!e164) problems.push(`"${rawE164}" is not a phone number in international format`);
      const countryId = /^\d{1,9}$/.test(rawCountry) ? Number(rawCountry) : null;
      if (countryId === null) problems.push(`country_id "${rawCountry}" is not a number`);
      else if (!countryIds.has(countryId)) problems.push(`country ${countryId} does not exist (add it with country:add or in the catalog)`);
      if (rawOperator.length > 64) problems.push('operator is longer than 64 characters');
      if (rawDevice.length > 200) problems.push('device is longer than 200 characters');
      const simSlot = rawSim === '' ? null : /^\d{1,2}$/.test(rawSim) && Number(rawSim) <= 16 ? Number(rawSim) : NaN;
      if (Number.isNaN(simSlot)) problems.push(`sim "${rawSim}" is not a SIM slot number (0 to 16)`);
      if (simSlot !== null && rawDevice === '') problems.push('a sim slot needs its device');
      if (problems.length > 0) errors.push(`Line ${line}: ${problems.join(', ')}`);
      else rows.push({ line, e164: e164!, countryId: countryId!, operator: rawOperator || 'any', deviceId: rawDevice || null, simSlot });
    }
    return { rows, errors };
  }

  return {
    providers: () => supply.providerHealth(),

    async createProvider(actor, input) {
      const remote = isRemote(input.kind);
      if (input.costPerNumber !== undefined && remote) {
        throw new AppError('invalid_request', `body.cost_per_number is for providers with numbers of their own; a ${input.kind} source reports its own cost`);
      }
      const smshub = input.kind === 'smshub' ? checkRemoteSettings(input) : undefined;
      const upstream = input.kind === 'sms-activate' ? checkRemoteSettings(input) : undefined;
      const { provider, secret } = await database.transaction(async (tx) => {
        const created = await supply.createProvider(
          {
            name: input.name,
            kind: input.kind,
            costPerNumber: remote ? undefined : (input.costPerNumber ?? 0),
            signingKey: input.signingKey,
            smshub: smshub && { agentUrl: smshub.url, countries: smshub.countries, payoutPercent: input.payoutPercent ?? 80, key: input.key },
            upstream: upstream && {
              apiUrl: upstream.url,
              apiKey: required(input.apiKey, 'api_key', input.kind),
              countries: upstream.countries,
              markupPercent: input.markupPercent ?? 20,
              rentals: input.rentals === true,
            },
          },
          tx,
        );
        // Secrets and keys stay out of the audit log: it is readable by every admin, forever.
        await audit.record(tx, actor, {
          action: 'provider.create',
          targetType: 'provider',
          targetId: created.provider.id,
          after: {
            name: input.name,
            kind: input.kind,
            cost_per_number: remote ? null : (input.costPerNumber ?? 0),
            url: input.url ?? null,
            countries: input.countries ?? null,
            payout_percent: input.kind === 'smshub' ? (input.payoutPercent ?? 80) : null,
            markup_percent: input.kind === 'sms-activate' ? (input.markupPercent ?? 20) : null,
            rentals: input.kind === 'sms-activate' ? input.rentals === true : null,
          },
        });
        return created;
      });
      const credentials: ProviderCredentials =
        input.kind === 'http'
          ? { secret }
          : input.kind === 'android-gateway'
            ? { signing_key: secret, webhook_path: `/api/v1/supply/android-gateway/${provider.id}` }
            : input.kind === 'smshub'
              ? { key: secret, push_path: '/api/v1/supply/smshub' }
              : {};
      return { provider: await healthOf(provider.id), credentials };
    },

    async setProviderCost(actor, providerId, costPerNumber) {
      await database.transaction(async (tx) => {
        const provider = await lockedProvider(tx, providerId);
        if (isRemote(provider.kind)) {
          throw new AppError('invalid_request', `Provider ${providerId} is a ${provider.kind} source: its cost comes from the source, not from a setting`);
        }
        const before = Number((provider.settings as { costPerNumber?: unknown }).costPerNumber ?? 0) || 0;
        await consoleRepo.setProviderCost(tx, providerId, costPerNumber);
        await audit.record(tx, actor, {
          action: 'provider.settings',
          targetType: 'provider',
          targetId: providerId,
          before: { cost_per_number: before / 10_000 },
          after: { cost_per_number: costPerNumber / 10_000 },
        });
      });
      return healthOf(providerId);
    },

    async enableProvider(actor, providerId) {
      await database.transaction(async (tx) => {
        const provider = await lockedProvider(tx, providerId);
        if (provider.enabled) throw new AppError('invalid_state', `Provider ${providerId} is already enabled`);
        const reason = (provider.settings as { disabledReason?: unknown }).disabledReason;
        await repo.enableProvider(tx, providerId);
        supply.stockChangedIn(tx);
        await audit.record(tx, actor, {
          action: 'provider.enable',
          targetType: 'provider',
          targetId: providerId,
          before: { enabled: false, disabled_reason: typeof reason === 'string' ? reason : null },
          after: { enabled: true },
        });
      });
      return healthOf(providerId);
    },

    async disableProvider(actor, providerId, reason) {
      await database.transaction(async (tx) => {
        const provider = await lockedProvider(tx, providerId);
        if (!provider.enabled) throw new AppError('invalid_state', `Provider ${providerId} is already disabled`);
        const why = `disabled by ${actor.label}${reason ? `: ${reason}` : ''}`;
        await repo.disableProvider(tx, providerId, why, clock.now());
        supply.stockChangedIn(tx);
        await audit.record(tx, actor, {
          action: 'provider.disable',
          targetType: 'provider',
          targetId: providerId,
          before: { enabled: true },
          after: { enabled: false },
          reason: reason ?? null,
        });
      });
      return healthOf(providerId);
    },

    async importNumbers(actor, providerId, csv) {
      const provider = await repo.findProvider(db, providerId);
      if (!provider) throw new AppError('not_found', `No provider ${providerId}`);
      if (isRemote(provider.kind)) {
        throw new AppError('invalid_request', `Provider ${providerId} is a ${provider.kind} source: its numbers are leased per purchase, not imported`);
      }
      const { rows, errors } = await parseNumbersCsv(csv);
      return database.transaction(async (tx) => {
        await lockedProvider(tx, providerId);
        // A SIM slot holds one number: taken in the file or already in stock is a bad line.
        const slots = new Map((await consoleRepo.providerSlots(tx, providerId)).map((s) => [`${s.deviceId}\u0000${s.simSlot}`, s.e164]));
        const seen = new Set<string>();
        const fresh: typeof rows = [];
        for (const row of rows) {
          if (seen.has(row.e164)) continue;
          seen.add(row.e164);
          if (row.deviceId !== null) {
            const slot = `${row.deviceId}\u0000${row.simSlot}`;
            const holder = slots.get(slot);
            if (holder !== undefined && holder !== row.e164) {
              errors.push(`Line ${row.line}: device ${row.deviceId} sim ${row.simSlot ?? '(none)'} already holds ${holder}`);
              continue;
            }
            slots.set(slot, row.e164);
          }
          fresh.push(row);
        }
        if (errors.length > 0) {
          errors.sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
          const more = errors.length > maxReportedLines ? `; and ${errors.length - maxReportedLines} more bad lines` : '';
          throw new AppError('invalid_request', `Nothing was imported: ${errors.slice(0, maxReportedLines).join('; ')}${more}`);
        }
        let added = 0;
        supply.stockChangedIn(tx);
        // Numbers already in stock (here or at another provider) are skipped, not moved.
        for (let i = 0; i < fresh.length; i += 1000) {
          added += await repo.insertNumbers(
            tx,
            fresh.slice(i, i + 1000).map(({ e164, countryId, operator, deviceId, simSlot }) => ({ e164, countryId, operator, providerId, deviceId, simSlot })),
          );
        }
        const skipped = rows.length - added;
        await audit.record(tx, actor, {
          action: 'numbers.import',
          targetType: 'provider',
          targetId: providerId,
          after: { rows: rows.length, added, skipped },
        });
        return { added, skipped };
      });
    },

    async addNumbers(actor, providerId, numbers) {
      const normalized = numbers.map((n) => {
        const e164 = toE164(n.e164);
        if (!e164) throw new AppError('invalid_request', `"${n.e164}" is not a phone number in international format`);
        return { e164, countryId: n.countryId, operator: n.operator ?? 'any', providerId, deviceId: n.deviceId ?? null, simSlot: n.simSlot ?? null, rentable: n.rentable ?? false };
      });
      const countryIds = new Set((await catalog.countries()).map((c) => c.id));
      const unknown = normalized.find((n) => !countryIds.has(n.countryId));
      if (unknown) throw new AppError('not_found', `Country ${unknown.countryId} does not exist (add it with country:add or in the catalog)`);
      try {
        return await database.transaction(async (tx) => {
          const provider = await lockedProvider(tx, providerId);
          if (isRemote(provider.kind)) {
            throw new AppError('invalid_request', `Provider ${providerId} is a ${provider.kind} source: its numbers are leased per purchase, not added`);
          }
          const added = await repo.insertNumbers(tx, normalized);
          // --rentable on numbers already in stock (skipped above) makes them rentable too.
          const rentable = normalized.filter((n) => n.rentable).map((n) => n.e164);
          if (rentable.length > 0) await rentalStockRepo.setRentable(tx, rentable, true, providerId);
          supply.stockChangedIn(tx);
          await audit.record(tx, actor, {
            action: 'numbers.add',
            targetType: 'provider',
            targetId: providerId,
            after: { count: added, skipped: normalized.length - added, numbers: normalized.map((n) => n.e164), ...(rentable.length > 0 ? { rentable: true } : {}) },
          });
          return added;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('conflict', 'Another number of this provider already lives in that device and SIM slot');
        throw error;
      }
    },

    async enableNumber(actor, e164) {
      const normalized = toE164(e164);
      if (!normalized) throw new AppError('invalid_request', `"${e164}" is not a phone number in international format`);
      return database.transaction(async (tx) => {
        const number = await consoleRepo.lockNumberByE164(tx, normalized);
        if (!number) throw new AppError('not_found', `No number ${e164} in stock`);
        await repo.enableNumber(tx, normalized);
        supply.stockChangedIn(tx);
        await audit.record(tx, actor, {
          action: 'number.enable',
          targetType: 'number',
          targetId: number.id,
          before: { e164: number.e164, enabled: number.enabled, consecutive_failures: number.consecutiveFailures },
          after: { e164: number.e164, enabled: true, consecutive_failures: 0 },
        });
        return { id: number.id, e164: number.e164 };
      });
    },

    async listNumbers(filter, page) {
      const [numbers, total] = await Promise.all([consoleRepo.listNumbers(db, filter, page), consoleRepo.countNumbers(db, filter)]);
      return { numbers, total };
    },

    async retireNumber(actor, numberId, reason) {
      await database.transaction(async (tx) => {
        const number = await consoleRepo.lockNumber(tx, numberId);
        if (!number) throw new AppError('not_found', `No number ${numberId}`);
        if (number.retiredAt) throw new AppError('invalid_state', `Number ${number.e164} is already retired`);
        const now = clock.now();
        await consoleRepo.retireNumber(tx, numberId, now);
        supply.stockChangedIn(tx);
        await audit.record(tx, actor, {
          action: 'number.retire',
          targetType: 'number',
          targetId: numberId,
          before: { e164: number.e164, retired_at: null },
          after: { e164: number.e164, retired_at: now.toISOString() },
          reason: reason ?? null,
        });
      });
      const retired = await consoleRepo.findNumber(db, numberId);
      if (!retired) throw new AppError('not_found', `No number ${numberId}`);
      return retired;
    },

    async numberHistory(numberId) {
      const number = await consoleRepo.findNumber(db, numberId);
      if (!number) throw new AppError('not_found', `No number ${numberId}`);
      const [rentals, unmatchedSms] = await Promise.all([
        consoleRepo.numberRentalHistory(db, numberId, 100),
        consoleRepo.listSms(db, { numberId, unmatched: true }, 100),
      ]);
      const sms = await consoleRepo.smsOfRentals(db, numberId, rentals.map((r) => Number(r.activationId)));
      return {
        number,
        rentals: rentals.map((rental) => ({
          ...rental,
          sms: sms
            .filter((s) => s.activationId === Number(rental.activationId))
            .map(({ id, sender, text, code, receivedAt }) => ({ id, sender, text, code, receivedAt })),
        })),
        unmatchedSms,
      };
    },

    listSms: (filter, limit) => consoleRepo.listSms(db, filter, limit),

    async attachSms(actor, smsId, activationId) {
      const activation = await database.transaction(async (tx) => {
        const sms = await consoleRepo.lockSms(tx, smsId);
        if (!sms) throw new AppError('not_found', `No SMS ${smsId}`);
        if (sms.activationId !== null) throw new AppError('invalid_state', `SMS ${smsId} already belongs to activation ${sms.activationId}`);
        // The activations module's own path: status, code, text, webhooks and live pushes as for a matching SMS.
        const attached = await activations.attachSmsTo(tx, activationId, { text: sms.text, code: sms.code, receivedAt: sms.receivedAt });
        await repo.setSmsActivation(tx, smsId, activationId);
        await repo.markRentalSms(tx, activationId, clock.now(), sms.code !== null);
        await audit.record(tx, actor, {
          action: 'sms.attach',
          targetType: 'sms',
          targetId: smsId,
          before: { activation_id: null },
          after: { activation_id: activationId, code: sms.code },
        });
        return attached;
      });
      const sms = await consoleRepo.findSms(db, smsId);
      if (!sms) throw new AppError('not_found', `No SMS ${smsId}`);
      return { sms, activation: { id: activation.id, status: activation.status, code: activation.code } };
    },
  };
}
