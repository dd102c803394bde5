import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import type { PubSub } from '../../events/pubsub.ts';
import { AppError } from '../../http/errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Money } from '../billing/money.ts';
import { type CatalogAdmin, createCatalogAdmin } from './catalog-admin.service.ts';
import { type CatalogSnapshot, createCatalogCache } from './catalog-cache.ts';
import { type CatalogImport, createCatalogImport } from './catalog-import.service.ts';
import * as repo from './catalog.repo.ts';
import { createPricingService, type PairLookup, type PricingService } from './pricing.service.ts';

export interface PriceRow {
  serviceCode: string;
  countryId: number;
  price: Money;
  available: number;
}

/** How many numbers are free for each service in each country; the supply module answers it. */
export type StockCounter = (pairs: { serviceCode: string; countryId: number }[]) => Promise<Map<string, number>>;

export const stockKey = (serviceCode: string, countryId: number) => `${serviceCode}:${countryId}`;

export interface CatalogService {
  services(): Promise<{ code: string; name: string }[]>;
  countries(): Promise<{ id: number; name: string; iso: string; dialPrefix: string }[]>;
  /**
   * The price of one activation (the operator's own price when the buyer names an operator that
   * has one); unknown_service / unknown_country / out_of_stock when it is not sold.
   */
  priceOf(serviceCode: string, countryId: number, operator?: string): Promise<Money>;
  prices(filter: { serviceCode?: string; countryId?: number }): Promise<PriceRow[]>;
  /**
   * `prices` without a promise when memory holds both the catalog and the stock count (the same
   * rows, the same errors); undefined when it would read the database: then `prices`.
   */
  pricesFromMemory(filter: { serviceCode?: string; countryId?: number }): PriceRow[] | undefined;
  // Seeding (demo catalog, tests): written without an audit entry. Staff changes go through `admin` and `pricing`.
  upsertService(service: { code: string; name: string }): Promise<void>;
  upsertCountry(country: { id: number; name: string; iso: string; dialPrefix: string }): Promise<void>;
  setPrice(price: { serviceCode: string; countryId: number; price: Money }): Promise<void>;
  /** Services, countries and operators, disabled ones included; audited changes. */
  admin: CatalogAdmin;
  /** Prices, operator prices, pricing rules and the cost/price/margin grid; audited changes. */
  pricing: PricingService;
  /** Applies a catalog file (CSV or JSON) in one transaction. */
  importCatalog: CatalogImport;
  /** Markup prices follow the current supply costs; called after each remote stock poll. */
  repriceFromCosts(): Promise<number>;
  /** How many times this instance read the catalog from the database (the rest came from memory; see catalog-cache.ts). */
  catalogLoads(): number;
}

export function createCatalogService(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  /** Carries catalog changes to every instance's copy (see catalog-cache.ts). */
  pubsub: PubSub;
  countStock: StockCounter;
  /** The stock count when memory holds it (the supply module's `countStockHeld`); without it `pricesFromMemory` always defers to `prices`. */
  countStockHeld?: (pairs: readonly { serviceCode: string; countryId: number }[]) => Map<string, number> | undefined;
  /** What a number of each pair costs us (the supply module's `supplyCosts`). */
  supplyCosts: PairLookup;
}): CatalogService {
  const { database, clock, audit, countStock, supplyCosts } = deps;
  const db = database.db;
  // Customer-facing reads (lists, prices, the price of a purchase) come from this copy; the back
  // office (admin.list, pricing.grid) reads the database, disabled entries and costs included.
  const cache = createCatalogCache({ database, pubsub: deps.pubsub });
  const catalogChanged = cache.changedIn;
  const pricing = createPricingService({ database, clock, audit, supplyCosts, countStock, catalogChanged });

  // A count answers one list of pairs (the stock count cache keys them by it), so with the same
  // catalog the same count means the same rows.
  const priceRowsByCount = new WeakMap<Map<string, number>, { catalog: CatalogSnapshot; rows: PriceRow[] }>();

  function requireKnown(catalog: CatalogSnapshot, serviceCode?: string, countryId?: number) {
    if (serviceCode !== undefined && !catalog.serviceOnSale.has(serviceCode)) {
      throw new AppError('unknown_service', `Unknown service "${serviceCode}"; GET /api/v1/services lists the codes`);
    }
    if (countryId !== undefined && !catalog.countryOnSale.has(countryId)) {
      throw new AppError('unknown_country', `Unknown country ${countryId}; GET /api/v1/countries lists the ids`);
    }
  }

  /** The catalog's rows a price filter asks for; unknown_service / unknown_country for a code or id not on sale. */
  function rowsOf(catalog: CatalogSnapshot, { serviceCode, countryId }: { serviceCode?: string; countryId?: number }): CatalogSnapshot['prices'] {
    requireKnown(catalog, serviceCode, countryId);
    if (serviceCode !== undefined && countryId !== undefined) {
      const price = catalog.salePrice.get(stockKey(serviceCode, countryId));
      return price === undefined ? [] : [{ serviceCode, countryId, price }];
    }
    return catalog.prices.filter((row) => (serviceCode === undefined || row.serviceCode === serviceCode) && (countryId === undefined || row.countryId === countryId));
  }

  /** The rows with their stock. */
  function pricedRows(catalog: CatalogSnapshot, rows: CatalogSnapshot['prices'], stock: Map<string, number>): PriceRow[] {
    // While neither the catalog nor the count changed (both cached objects), the same rows:
    // the route keeps its written answer per rows (a poll of /prices costs no JSON then).
    const kept = priceRowsByCount.get(stock);
    if (kept && kept.catalog === catalog) return kept.rows;
    const priced = rows.map((row) => ({ ...row, available: stock.get(stockKey(row.serviceCode, row.countryId)) ?? 0 }));
    priceRowsByCount.set(stock, { catalog, rows: priced });
    return priced;
  }

  return {
    // The snapshot's own frozen arrays, shared by every caller: read-only, whatever the type says.
    async services() {
      return (await cache.snapshot()).services as { code: string; name: string }[];
    },
    async countries() {
      return (await cache.snapshot()).countries as { id: number; name: string; iso: string; dialPrefix: string }[];
    },
    async priceOf(serviceCode, countryId, operator) {
      const catalog = await cache.snapshot();
      const price = catalog.salePrice.get(stockKey(serviceCode, countryId));
      if (price !== undefined && operator !== undefined && catalog.operatorEnabled.get(`${countryId}:${operator}`) === false) {
        // A disabled operator is not sold, whatever numbers still carry its name.
        throw new AppError('out_of_stock', `Operator "${operator}" is not on sale in country ${countryId}; buy without an operator or pick another`);
      }
      if (price !== undefined) {
        const operatorPrice = operator === undefined ? undefined : catalog.operatorPrice.get(`${stockKey(serviceCode, countryId)}:${operator}`);
        return operatorPrice ?? price;
      }
      // A disabled service or country is "unknown" here, as it is in the lists.
      requireKnown(catalog, serviceCode, countryId);
      throw new AppError('out_of_stock', `No numbers for service "${serviceCode}" in country ${countryId}`);
    },
    async prices(filter) {
      const catalog = await cache.snapshot();
      const rows = rowsOf(catalog, filter);
      return pricedRows(catalog, rows, await countStock([...rows]));
    },
    pricesFromMemory(filter) {
      const catalog = cache.snapshotHeld();
      if (!catalog) return undefined;
      const rows = rowsOf(catalog, filter);
      const stock = deps.countStockHeld?.(rows);
      return stock && pricedRows(catalog, rows, stock);
    },
    // Seeding writes outside a transaction: announced once written.
    async upsertService(service) {
      await repo.upsertService(db, service);
      await cache.changed();
    },
    async upsertCountry(country) {
      await repo.upsertCountry(db, country);
      await cache.changed();
    },
    async setPrice(price) {
      await repo.upsertPrice(db, price);
      await cache.changed();
    },
    admin: createCatalogAdmin({ database, clock, audit, catalogChanged }),
    pricing,
    importCatalog: createCatalogImport({ database, clock, audit, supplyCosts, catalogChanged }),
    repriceFromCosts: () => pricing.repriceFromCosts(),
    catalogLoads: cache.loads,
  };
}
