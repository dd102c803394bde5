import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { Actor, AuditService } from '../audit/audit.service.ts';
import { checkCountryId, checkDialPrefix, checkIso, checkName, checkOperatorCode, checkServiceCode, countryDefaults } from './catalog-entries.ts';
import * as repo from './catalog.repo.ts';

/**
 * The back office's side of the catalog: services, countries and operators, disabled ones
 * included, each change audited in its own transaction. The `put*` functions are the one place a
 * change is written; the console, the CLI and the import file all go through them.
 */

export type ChangeResult = 'created' | 'updated' | 'unchanged';

export interface ServiceEntry {
  code: string;
  name: string;
  enabled: boolean;
}

export interface CountryEntry {
  id: number;
  name: string;
  iso: string;
  dialPrefix: string;
  enabled: boolean;
}

export interface OperatorEntry {
  countryId: number;
  code: string;
  name: string;
  enabled: boolean;
}

export interface CatalogAdmin {
  list(): Promise<{ services: ServiceEntry[]; countries: CountryEntry[]; operators: OperatorEntry[] }>;
  /** `conflict` when the code exists. */
  createService(actor: Actor, input: { code: string; name: string }): Promise<ServiceEntry>;
  updateService(actor: Actor, code: string, change: { name?: string; enabled?: boolean }): Promise<ServiceEntry>;
  /** Name and dialling prefix default from the ISO code; `conflict` when the id or ISO code exists. */
  createCountry(actor: Actor, input: { id: number; iso: string; name?: string; dialPrefix?: string }): Promise<CountryEntry>;
  updateCountry(actor: Actor, id: number, change: { name?: string; enabled?: boolean }): Promise<CountryEntry>;
  createOperator(actor: Actor, input: { countryId: number; code: string; name: string }): Promise<OperatorEntry>;
  /** Creates or updates (the CLI's idempotent service:add / country:add). */
  saveService(actor: Actor, input: { code: string; name: string }): Promise<{ result: ChangeResult; service: ServiceEntry }>;
  saveCountry(actor: Actor, input: { id: number; iso: string; name?: string; dialPrefix?: string }): Promise<{ result: ChangeResult; country: CountryEntry }>;
  updateOperator(actor: Actor, countryId: number, code: string, change: { name?: string; enabled?: boolean }): Promise<OperatorEntry>;
}

export interface ChangeContext {
  tx: Db;
  actor: Actor;
  audit: AuditService;
  /** The clock's time of the change. */
  now: Date;
  /** Why, when not a direct edit (e.g. "catalog import"). */
  reason?: string;
}

const serviceJson = (row: ServiceEntry) => ({ code: row.code, name: row.name, enabled: row.enabled });
const countryJson = (row: CountryEntry) => ({ id: row.id, name: row.name, iso: row.iso, prefix: row.dialPrefix, enabled: row.enabled });
const operatorJson = (row: OperatorEntry) => ({ country: row.countryId, code: row.code, name: row.name, enabled: row.enabled });

function sameJson(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Creates the service or brings it to `input` (fields left out stay as they are). */
export async function putService(ctx: ChangeContext, input: { code: string; name?: string; enabled?: boolean }): Promise<ChangeResult> {
  const code = checkServiceCode(input.code);
  const name = input.name === undefined ? undefined : checkName(input.name, 'service');
  const before = await repo.findAnyService(ctx.tx, code);
  if (!before) {
    if (name === undefined) throw new AppError('not_found', `No service "${code}"`);
    const row = { code, name, enabled: input.enabled ?? true };
    await repo.insertService(ctx.tx, row);
    await ctx.audit.record(ctx.tx, ctx.actor, { action: 'service.create', targetType: 'service', targetId: code, after: serviceJson(row), reason: ctx.reason });
    return 'created';
  }
  const after = { code, name: name ?? before.name, enabled: input.enabled ?? before.enabled };
  if (sameJson(serviceJson(before), serviceJson(after))) return 'unchanged';
  await repo.updateService(ctx.tx, code, { name: after.name, enabled: after.enabled });
  await ctx.audit.record(ctx.tx, ctx.actor, {
    action: 'service.update',
    targetType: 'service',
    targetId: code,
    before: serviceJson(before),
    after: serviceJson(after),
    reason: ctx.reason,
  });
  return 'updated';
}

/** Creates the country (name and prefix from its ISO code unless given) or brings it to `input`. */
export async function putCountry(
  ctx: ChangeContext,
  input: { id: number; iso?: string; name?: string; dialPrefix?: string; enabled?: boolean },
): Promise<ChangeResult> {
  const id = checkCountryId(input.id);
  const iso = input.iso === undefined ? undefined : checkIso(input.iso);
  const name = input.name === undefined ? undefined : checkName(input.name, 'country');
  const dialPrefix = input.dialPrefix === undefined ? undefined : checkDialPrefix(input.dialPrefix);
  if (iso !== undefined) {
    const holder = await repo.findCountryByIso(ctx.tx, iso);
    if (holder && holder.id !== id) throw new AppError('conflict', `ISO code ${iso} already belongs to country ${holder.id} (${holder.name})`);
  }
  const before = await repo.findAnyCountry(ctx.tx, id);
  if (!before) {
    if (iso === undefined) throw new AppError('not_found', `No country ${id}`);
    const defaults = countryDefaults(iso);
    const row = { id, iso, name: name ?? defaults.name, dialPrefix: dialPrefix ?? defaults.dialPrefix, enabled: input.enabled ?? true };
    await repo.insertCountry(ctx.tx, row);
    await ctx.audit.record(ctx.tx, ctx.actor, { action: 'country.create', targetType: 'country', targetId: id, after: countryJson(row), reason: ctx.reason });
    return 'created';
  }
  // A new ISO code without a new prefix takes that country's prefix; the name stays unless given.
  const after = {
    id,
    iso: iso ?? before.iso,
    name: name ?? before.name,
    dialPrefix: dialPrefix ?? (iso !== undefined && iso !== before.iso ? countryDefaults(iso).dialPrefix : before.dialPrefix),
    enabled: input.enabled ?? before.enabled,
  };
  if (sameJson(countryJson(before), countryJson(after))) return 'unchanged';
  await repo.updateCountry(ctx.tx, id, { iso: after.iso, name: after.name, dialPrefix: after.dialPrefix, enabled: after.enabled });
  await ctx.audit.record(ctx.tx, ctx.actor, {
    action: 'country.update',
    targetType: 'country',
    targetId: id,
    before: countryJson(before),
    after: countryJson(after),
    reason: ctx.reason,
  });
  return 'updated';
}

export async function putOperator(
  ctx: ChangeContext,
  input: { countryId: number; code: string; name?: string; enabled?: boolean },
): Promise<ChangeResult> {
  const countryId = checkCountryId(input.countryId);
  const code = checkOperatorCode(input.code);
  const name = input.name === undefined ? undefined : checkName(input.name, 'operator');
  if (!(await repo.findAnyCountry(ctx.tx, countryId))) throw new AppError('not_found', `No country ${countryId}`);
  const before = await repo.findOperator(ctx.tx, countryId, code);
  const targetId = `${countryId}:${code}`;
  if (!before) {
    if (name === undefined) throw new AppError('not_found', `No operator "${code}" in country ${countryId}`);
    const row = { countryId, code, name, enabled: input.enabled ?? true };
    await repo.insertOperator(ctx.tx, row);
    await ctx.audit.record(ctx.tx, ctx.actor, { action: 'operator.create', targetType: 'operator', targetId, after: operatorJson(row), reason: ctx.reason });
    return 'created';
  }
  const after = { countryId, code, name: name ?? before.name, enabled: input.enabled ?? before.enabled };
  if (sameJson(operatorJson(before), operatorJson(after))) return 'unchanged';
  await repo.updateOperator(ctx.tx, countryId, code, { name: after.name, enabled: after.enabled });
  await ctx.audit.record(ctx.tx, ctx.actor, {
    action: 'operator.update',
    targetType: 'operator',
    targetId,
    before: operatorJson(before),
    after: operatorJson(after),
    reason: ctx.reason,
  });
  return 'updated';
}

export function createCatalogAdmin(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  /** Announces, once `tx` commits, that customers' copy of the catalog must be read again (catalog-cache.ts). */
  catalogChanged: (tx: Db) => void;
}): CatalogAdmin {
  const { database, clock, audit, catalogChanged } = deps;
  const db = database.db;

  /** Runs one audited change; a unique violation (two staff creating the same code at once) is a conflict. */
  async function change<T>(actor: Actor, work: (ctx: ChangeContext) => Promise<T>): Promise<T> {
    try {
      return await database.transaction((tx) => {
        catalogChanged(tx);
        return work({ tx, actor, audit, now: clock.now() });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', 'That entry already exists; reload and try again');
      throw error;
    }
  }

  async function service(code: string) {
    const row = await repo.findAnyService(db, code);
    if (!row) throw new AppError('not_found', `No service "${code}"`);
    return { code: row.code, name: row.name, enabled: row.enabled };
  }
  async function country(id: number) {
    const row = await repo.findAnyCountry(db, id);
    if (!row) throw new AppError('not_found', `No country ${id}`);
    return { id: row.id, name: row.name, iso: row.iso, dialPrefix: row.dialPrefix, enabled: row.enabled };
  }
  async function operator(countryId: number, code: string) {
    const row = await repo.findOperator(db, countryId, code);
    if (!row) throw new AppError('not_found', `No operator "${code}" in country ${countryId}`);
    return { countryId: row.countryId, code: row.code, name: row.name, enabled: row.enabled };
  }

  return {
    async list() {
      const [services, countries, operators] = await Promise.all([repo.listAllServices(db), repo.listAllCountries(db), repo.listAllOperators(db)]);
      return { services, countries, operators };
    },
    async createService(actor, input) {
      const code = checkServiceCode(input.code);
      checkName(input.name, 'service');
      await change(actor, async (ctx) => {
        if (await repo.findAnyService(ctx.tx, code)) throw new AppError('conflict', `Service "${code}" already exists; rename it instead`);
        await putService(ctx, { code, name: input.name });
      });
      return service(code);
    },
    async updateService(actor, code, update) {
      await service(code);
      await change(actor, (ctx) => putService(ctx, { code, ...update }));
      return service(code);
    },
    async createCountry(actor, input) {
      const id = checkCountryId(input.id);
      await change(actor, async (ctx) => {
        const existing = await repo.findAnyCountry(ctx.tx, id);
        if (existing) throw new AppError('conflict', `Country ${id} already exists (${existing.name})`);
        await putCountry(ctx, { ...input, id });
      });
      return country(id);
    },
    async updateCountry(actor, id, update) {
      await country(id);
      await change(actor, (ctx) => putCountry(ctx, { id, ...update }));
      return country(id);
    },
    async createOperator(actor, input) {
      const code = checkOperatorCode(input.code);
      checkName(input.name, 'operator');
      await change(actor, async (ctx) => {
        if (await repo.findOperator(ctx.tx, input.countryId, code)) {
          throw new AppError('conflict', `Operator "${code}" already exists in country ${input.countryId}`);
        }
        await putOperator(ctx, { ...input, code });
      });
      return operator(input.countryId, code);
    },
    async saveService(actor, input) {
      const result = await change(actor, (ctx) => putService(ctx, input));
      return { result, service: await service(checkServiceCode(input.code)) };
    },
    async saveCountry(actor, input) {
      const result = await change(actor, (ctx) => putCountry(ctx, input));
      return { result, country: await country(checkCountryId(input.id)) };
    },
    async updateOperator(actor, countryId, code, update) {
      await operator(countryId, code);
      await change(actor, (ctx) => putOperator(ctx, { countryId, code, ...update }));
      return operator(countryId, code);
    },
  };
}
