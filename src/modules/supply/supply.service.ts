import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { type Database, type Db, isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { hashApiKey } from '../accounts/api-key.ts';
import { stockKey } from '../catalog/catalog.service.ts';
import { extractCode } from './code-extraction.ts';
import { demoMessage, demoNumbers, demoProviderName } from './demo-provider.ts';
import { toE164 } from './phone-number.ts';
import * as repo from './supply.repo.ts';

export interface ReservedNumber {
  numberId: number;
  e164: string;
  operator: string;
  providerId: number;
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
}

export interface SupplyService {
  /** Locks a free number never sold for this service, inside the buyer's transaction; null when none is left. */
  reserveNumber(tx: Db, input: { countryId: number; serviceCode: string; operator?: string }): Promise<ReservedNumber | null>;
  assignNumber(tx: Db, input: { numberId: number; activationId: number; serviceCode: string }): Promise<void>;
  /** Returns the number to stock once its activation has finished. */
  releaseNumber(tx: Db, numberId: number, activationId: number): Promise<void>;
  countStock(pairs: { serviceCode: string; countryId: number }[]): Promise<Map<string, number>>;
  createProvider(input: { name: string; kind: 'http' | 'demo' }): Promise<{ provider: Provider; secret: string }>;
  authenticateProvider(secret: string): Promise<Provider | null>;
  addNumbers(providerId: number, numbers: { e164: string; countryId: number; operator?: string }[]): Promise<number>;
  /** Stores an SMS a provider pushed (never dropped, matched or not) and delivers it to its activation. */
  ingestSms(provider: Provider, sms: { to: string; from: string; text: string; receivedAt: Date }): Promise<IngestedSms>;
  messagesOf(activationId: number): Promise<{ id: number; sender: string; text: string; code: string | null; receivedAt: Date }[]>;
  /** Creates the demo provider and its fictional numbers (idempotent). */
  seedDemoSupply(countryIds: number[]): Promise<void>;
  /** Sends the demo SMS to every demo number bought at least `delaySeconds` ago; returns how many. */
  deliverDemoSms(delaySeconds: number): Promise<number>;
}

export function createSupplyService(deps: { database: Database; clock: Clock; deliverSms: SmsSink }): SupplyService {
  const { database, clock, deliverSms } = deps;
  const db = database.db;

  async function ingestSms(provider: Provider, sms: { to: string; from: string; text: string; receivedAt: Date }) {
    const e164 = toE164(sms.to);
    if (!e164) throw new AppError('invalid_request', `body.to "${sms.to}" is not a phone number in international format`);
    const code = extractCode(sms.text);
    return database.transaction(async (tx) => {
      const number = await repo.findNumberByE164(tx, e164);
      const numberId = number && number.providerId === provider.id ? number.id : null;
      const stored = await repo.insertSms(tx, {
        providerId: provider.id,
        numberId,
        toNumber: e164,
        sender: sms.from,
        text: sms.text,
        code,
        receivedAt: sms.receivedAt,
      });
      let activationId: number | null = null;
      if (numberId !== null) {
        activationId = await deliverSms(tx, { smsId: stored.id, numberId, sender: sms.from, text: sms.text, code, receivedAt: sms.receivedAt });
        if (activationId !== null) await repo.setSmsActivation(tx, stored.id, activationId);
      }
      await repo.touchProvider(tx, provider.id, clock.now());
      return { smsId: stored.id, activationId, code };
    });
  }

  return {
    async reserveNumber(tx, input) {
      const number = await repo.lockFreeNumber(tx, input);
      if (!number) return null;
      return { numberId: number.id, e164: number.e164, operator: number.operator, providerId: number.providerId };
    },
    assignNumber(tx, input) {
      return repo.markNumberBusy(tx, { ...input, at: clock.now() });
    },
    releaseNumber(tx, numberId, activationId) {
      return repo.markNumberFree(tx, numberId, activationId);
    },
    async countStock(pairs) {
      const rows = await repo.countFreeNumbers(db, pairs);
      return new Map(rows.map((row) => [stockKey(row.serviceCode, Number(row.countryId)), Number(row.available)]));
    },
    async createProvider(input) {
      const secret = `nps_${randomBytes(24).toString('base64url')}`;
      try {
        const row = await repo.insertProvider(db, { name: input.name, kind: input.kind, secretHash: hashApiKey(secret) });
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
      return row ? { id: row.id, name: row.name, kind: row.kind } : null;
    },
    async addNumbers(providerId, numbers) {
      const normalized = numbers.map((n) => {
        const e164 = toE164(n.e164);
        if (!e164) throw new AppError('invalid_request', `"${n.e164}" is not a phone number in international format`);
        return { e164, countryId: n.countryId, operator: n.operator ?? 'any', providerId };
      });
      return repo.insertNumbers(db, normalized);
    },
    ingestSms,
    async messagesOf(activationId) {
      const rows = await repo.listSmsOfActivation(db, activationId);
      return rows.map(({ id, sender, text, code, receivedAt }) => ({ id, sender, text, code, receivedAt }));
    },
    async seedDemoSupply(countryIds) {
      let provider = await repo.findProviderByName(db, demoProviderName);
      // The demo provider has no secret: its SMS are generated in-process, never pushed.
      provider ??= await repo.insertProvider(db, { name: demoProviderName, kind: 'demo', secretHash: null });
      await repo.insertNumbers(db, demoNumbers(countryIds).map((n) => ({ ...n, providerId: provider.id })));
    },
    async deliverDemoSms(delaySeconds) {
      const provider = await repo.findProviderByName(db, demoProviderName);
      if (!provider || !provider.enabled) return 0;
      const takenBefore = new Date(clock.now().getTime() - delaySeconds * 1000);
      const due = await repo.listBusyNumbersWithoutSms(db, provider.id, takenBefore, 100);
      for (const number of due) {
        const message = demoMessage(number.busyServiceCode ?? '');
        await ingestSms(provider, { to: number.e164, from: message.from, text: message.text, receivedAt: clock.now() });
      }
      return due.length;
    },
  };
}
