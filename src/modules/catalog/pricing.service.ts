import type { Clock } from '../../clock.ts';
import type { Database, Db } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { type Actor, type AuditService, systemActor } from '../audit/audit.service.ts';
import { type Money, toUsdNumber } from '../billing/money.ts';
import type { ChangeContext, ChangeResult } from './catalog-admin.service.ts';
import { checkCountryId, checkOperatorCode, checkServiceCode } from './catalog-entries.ts';
import * as repo from './catalog.repo.ts';

/**
 * Prices per service × country (and per operator), and the rule that sets them: 'manual' keeps
 * the price staff typed; 'markup' makes the price follow the supply cost. The grid puts cost,
 * price and margin side by side so a price below cost is seen.
 */

type Pair = { serviceCode: string; countryId: number };
/** `service:country` → value, from the supply module (stock and cost). */
export type PairLookup = (pairs?: Pair[]) => Promise<Map<string, number>>;

export interface PricingRule {
  mode: 'manual' | 'markup';
  /** 2500 = 25 %. */
  markupBasisPoints: number;
  minMargin: Money;
}

const manualRule: PricingRule = { mode: 'manual', markupBasisPoints: 0, minMargin: 0 };
const cent = 100;

/**
 * The price of a markup rule: cost × (1 + markup), but at least cost + the minimum margin,
 * rounded up to a whole cent (and never below one cent: a price must be positive).
 */
export function markupPrice(cost: Money, rule: { markupBasisPoints: number; minMargin: Money }): Money {
  const marked = Math.ceil((cost * (10_000 + rule.markupBasisPoints)) / 10_000);
  const price = Math.max(marked, cost + rule.minMargin, cent);
  return Math.ceil(price / cent) * cent;
}

export interface PriceFigures {
  price: Money;
  margin: Money | null;
  /** Margin as a share of the price, in percent with one decimal. */
  marginPercent: number | null;
  belowCost: boolean;
}

export interface GridRow {
  serviceCode: string;
  serviceName: string;
  countryId: number;
  countryName: string;
  onSale: boolean;
  cost: Money | null;
  price: PriceFigures | null;
  rule: PricingRule;
  stock: number;
  operatorPrices: (PriceFigures & { operator: string })[];
}

export interface PricingService {
  grid(filter?: { serviceCode?: string; countryId?: number }): Promise<GridRow[]>;
  /** The typed price wins: the pair's rule becomes manual. With `operator`, that operator's price. */
  setPrice(actor: Actor, input: Pair & { operator?: string; price: Money }): Promise<GridRow>;
  removeOperatorPrice(actor: Actor, input: Pair & { operator: string }): Promise<GridRow>;
  setRule(actor: Actor, input: Pair & PricingRule): Promise<GridRow>;
  /** Markup prices follow the current supply costs (after a stock poll); returns how many changed. */
  repriceFromCosts(): Promise<number>;
}

export function figures(price: Money, cost: Money | null): PriceFigures {
  if (cost === null) return { price, margin: null, marginPercent: null, belowCost: false };
  const margin = price - cost;
  return { price, margin, marginPercent: Math.round((margin / price) * 1000) / 10, belowCost: price < cost };
}

const ruleJson = (rule: PricingRule) => ({ mode: rule.mode, markup_percent: rule.markupBasisPoints / 100, min_margin: toUsdNumber(rule.minMargin) });
const usdOrNull = (units: Money | null | undefined) => (units === null || units === undefined ? null : toUsdNumber(units));

async function requirePair(ctx: ChangeContext, pair: Pair) {
  checkServiceCode(pair.serviceCode);
  checkCountryId(pair.countryId);
  if (!(await repo.findAnyService(ctx.tx, pair.serviceCode))) throw new AppError('not_found', `No service "${pair.serviceCode}"`);
  if (!(await repo.findAnyCountry(ctx.tx, pair.countryId))) throw new AppError('not_found', `No country ${pair.countryId}`);
}

/** Sets a typed price (the pair's own, or one operator's); audited as price.set. */
export async function putPrice(ctx: ChangeContext, input: Pair & { operator?: string; price: Money }): Promise<ChangeResult> {
  await requirePair(ctx, input);
  if (!Number.isSafeInteger(input.price) || input.price <= 0) throw new AppError('invalid_request', 'A price must be above zero');
  const base = await repo.findPrice(ctx.tx, input.serviceCode, input.countryId);
  if (input.operator !== undefined) {
    const operator = checkOperatorCode(input.operator);
    // An operator price refines a price the pair already has; without one nothing is on sale there.
    if (!base) throw new AppError('invalid_request', `Set the price of ${input.serviceCode} in country ${input.countryId} before an operator price`);
    const before = await repo.findOperatorPrice(ctx.tx, input.serviceCode, input.countryId, operator);
    if (before?.price === input.price) return 'unchanged';
    await repo.upsertOperatorPrice(ctx.tx, { serviceCode: input.serviceCode, countryId: input.countryId, operator, price: input.price });
    await ctx.audit.record(ctx.tx, ctx.actor, {
      action: 'price.set',
      targetType: 'price',
      targetId: `${input.serviceCode}:${input.countryId}:${operator}`,
      before: before ? { price: toUsdNumber(before.price) } : null,
      after: { price: toUsdNumber(input.price) },
      reason: ctx.reason,
    });
    return before ? 'updated' : 'created';
  }
  const rule = (await repo.lockPricingRule(ctx.tx, input.serviceCode, input.countryId)) ?? null;
  const wasMarkup = rule?.mode === 'markup';
  if (base?.price === input.price && !wasMarkup) return 'unchanged';
  await repo.upsertPrice(ctx.tx, input);
  // Keep the markup figures: switching back to markup later restores them.
  if (rule && wasMarkup) await repo.upsertPricingRule(ctx.tx, { ...rule, mode: 'manual', updatedAt: ctx.now });
  await ctx.audit.record(ctx.tx, ctx.actor, {
    action: 'price.set',
    targetType: 'price',
    targetId: `${input.serviceCode}:${input.countryId}`,
    before: base ? { price: toUsdNumber(base.price), rule: rule?.mode ?? 'manual' } : null,
    after: { price: toUsdNumber(input.price), rule: 'manual' },
    reason: ctx.reason,
  });
  return base ? 'updated' : 'created';
}

/** Sets the pair's rule; a markup rule prices the pair at once when its cost is known. */
export async function putRule(ctx: ChangeContext, input: Pair & PricingRule, cost: Money | null): Promise<ChangeResult> {
  await requirePair(ctx, input);
  const before = await repo.lockPricingRule(ctx.tx, input.serviceCode, input.countryId);
  const priceBefore = (await repo.findPrice(ctx.tx, input.serviceCode, input.countryId))?.price ?? null;
  const rule: PricingRule =
    input.mode === 'manual'
      ? { mode: 'manual', markupBasisPoints: before?.markupBasisPoints ?? 0, minMargin: before?.minMargin ?? 0 }
      : { mode: 'markup', markupBasisPoints: input.markupBasisPoints, minMargin: input.minMargin };
  const priceAfter = rule.mode === 'markup' && cost !== null ? markupPrice(cost, rule) : priceBefore;
  const ruleBefore: PricingRule = before ?? manualRule;
  const same =
    ruleBefore.mode === rule.mode && ruleBefore.markupBasisPoints === rule.markupBasisPoints && ruleBefore.minMargin === rule.minMargin && priceBefore === priceAfter;
  if (same) return 'unchanged';
  await repo.upsertPricingRule(ctx.tx, { serviceCode: input.serviceCode, countryId: input.countryId, ...rule, updatedAt: ctx.now });
  if (priceAfter !== null && priceAfter !== priceBefore) await repo.upsertPrice(ctx.tx, { serviceCode: input.serviceCode, countryId: input.countryId, price: priceAfter });
  await ctx.audit.record(ctx.tx, ctx.actor, {
    action: 'pricing_rule.set',
    targetType: 'pricing_rule',
    targetId: `${input.serviceCode}:${input.countryId}`,
    before: { ...ruleJson(ruleBefore), price: usdOrNull(priceBefore) },
    after: { ...ruleJson(rule), price: usdOrNull(priceAfter), cost: usdOrNull(cost) },
    reason: ctx.reason,
  });
  return before ? 'updated' : 'created';
}

export function createPricingService(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  supplyCosts: PairLookup;
  countStock: (pairs: Pair[]) => Promise<Map<string, number>>;
  /** See createCatalogAdmin: every price change is announced once committed. */
  catalogChanged: (tx: Db) => void;
}): PricingService {
  const { database, clock, audit, supplyCosts, countStock, catalogChanged } = deps;
  const db = database.db;
  const key = (serviceCode: string, countryId: number) => `${serviceCode}:${countryId}`;

  async function grid(filter: { serviceCode?: string; countryId?: number } = {}): Promise<GridRow[]> {
    const [services, countries, prices, rules, operatorPrices, costs] = await Promise.all([
      repo.listAllServices(db),
      repo.listAllCountries(db),
      repo.listAllPrices(db),
      repo.listPricingRules(db),
      repo.listOperatorPrices(db),
      supplyCosts(),
    ]);
    const serviceBy = new Map(services.map((s) => [s.code, s]));
    const countryBy = new Map(countries.map((c) => [c.id, c]));
    const priceBy = new Map(prices.map((p) => [key(p.serviceCode, p.countryId), p.price]));
    const ruleBy = new Map(rules.map((r) => [key(r.serviceCode, r.countryId), r]));
    const pairs = new Map<string, Pair>();
    const addPair = (serviceCode: string, countryId: number) => {
      if (!serviceBy.has(serviceCode) || !countryBy.has(countryId)) return; // a cost for a service we do not list
      if (filter.serviceCode !== undefined && serviceCode !== filter.serviceCode) return;
      if (filter.countryId !== undefined && countryId !== filter.countryId) return;
      pairs.set(key(serviceCode, countryId), { serviceCode, countryId });
    };
    for (const p of prices) addPair(p.serviceCode, p.countryId);
    for (const r of rules) addPair(r.serviceCode, r.countryId);
    for (const k of costs.keys()) {
      const [serviceCode, countryId] = k.split(':');
      addPair(serviceCode!, Number(countryId));
    }
    const list = [...pairs.values()].sort((a, b) => a.serviceCode.localeCompare(b.serviceCode) || a.countryId - b.countryId);
    const stock = await countStock(list);
    return list.map(({ serviceCode, countryId }) => {
      const k = key(serviceCode, countryId);
      const service = serviceBy.get(serviceCode)!;
      const country = countryBy.get(countryId)!;
      const cost = costs.get(k) ?? null;
      const price = priceBy.get(k);
      const rule = ruleBy.get(k);
      return {
        serviceCode,
        serviceName: service.name,
        countryId,
        countryName: country.name,
        onSale: service.enabled && country.enabled,
        cost,
        price: price === undefined ? null : figures(price, cost),
        rule: rule ? { mode: rule.mode, markupBasisPoints: rule.markupBasisPoints, minMargin: rule.minMargin } : manualRule,
        stock: stock.get(k) ?? 0,
        operatorPrices: operatorPrices
          .filter((op) => op.serviceCode === serviceCode && op.countryId === countryId)
          .map((op) => ({ operator: op.operator, ...figures(op.price, cost) })),
      };
    });
  }

  async function rowOf(pair: Pair): Promise<GridRow> {
    const [row] = await grid(pair);
    if (!row) throw new AppError('not_found', `Nothing priced for ${pair.serviceCode} in country ${pair.countryId}`);
    return row;
  }

  async function costOf(pair: Pair): Promise<Money | null> {
    return (await supplyCosts([pair])).get(key(pair.serviceCode, pair.countryId)) ?? null;
  }

  return {
    grid,
    async setPrice(actor, input) {
      await database.transaction((tx) => {
        catalogChanged(tx);
        return putPrice({ tx, actor, audit, now: clock.now() }, input);
      });
      return rowOf(input);
    },
    async removeOperatorPrice(actor, input) {
      const operator = checkOperatorCode(input.operator);
      await database.transaction(async (tx) => {
        catalogChanged(tx);
        const before = await repo.findOperatorPrice(tx, input.serviceCode, input.countryId, operator);
        if (!before) throw new AppError('not_found', `No price for operator "${operator}" of ${input.serviceCode} in country ${input.countryId}`);
        await repo.deleteOperatorPrice(tx, input.serviceCode, input.countryId, operator);
        await audit.record(tx, actor, {
          action: 'price.remove',
          targetType: 'price',
          targetId: `${input.serviceCode}:${input.countryId}:${operator}`,
          before: { price: toUsdNumber(before.price) },
          after: null,
        });
      });
      return rowOf(input);
    },
    async setRule(actor, input) {
      const cost = await costOf(input);
      await database.transaction((tx) => {
        catalogChanged(tx);
        return putRule({ tx, actor, audit, now: clock.now() }, input, cost);
      });
      return rowOf(input);
    },
    async repriceFromCosts() {
      const rules = await repo.listPricingRules(db, 'markup');
      if (rules.length === 0) return 0;
      const costs = await supplyCosts(rules);
      let changed = 0;
      for (const candidate of rules) {
        const cost = costs.get(key(candidate.serviceCode, candidate.countryId));
        // No source with stock reports a cost: keep the last price rather than guess.
        if (cost === undefined) continue;
        const didChange = await database.transaction(async (tx) => {
          const rule = await repo.lockPricingRule(tx, candidate.serviceCode, candidate.countryId);
          if (rule?.mode !== 'markup') return false; // switched to manual meanwhile
          const before = (await repo.findPrice(tx, rule.serviceCode, rule.countryId))?.price ?? null;
          const price = markupPrice(cost, rule);
          if (before === price) return false;
          await repo.upsertPrice(tx, { serviceCode: rule.serviceCode, countryId: rule.countryId, price });
          // Only a price that moved is announced: the job runs after every stock poll.
          catalogChanged(tx);
          await audit.record(tx, systemActor, {
            action: 'price.auto',
            targetType: 'price',
            targetId: `${rule.serviceCode}:${rule.countryId}`,
            before: { price: usdOrNull(before) },
            after: { price: toUsdNumber(price), cost: toUsdNumber(cost), rule: ruleJson(rule) },
            reason: 'supply cost changed',
          });
          return true;
        });
        if (didChange) changed++;
      }
      return changed;
    },
  };
}
