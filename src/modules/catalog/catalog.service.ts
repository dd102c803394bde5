import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Money } from '../billing/money.ts';
import { type CatalogAdmin, createCatalogAdmin } from './catalog-admin.service.ts';
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
}

export function createCatalogService(deps: {
  database: Database;
  clock: Clock;
  audit: AuditService;
  countStock: StockCounter;
  /** What a number of each pair costs us (the supply module's `supplyCosts`). */
  supplyCosts: PairLookup;
}): CatalogService {
  const { database, clock, audit, countStock, supplyCosts } = deps;
  const db = database.db;
  const pricing = createPricingService({ database, clock, audit, supplyCosts, countStock });

  async function requireKnown(serviceCode?: string, countryId?: number) {
    if (serviceCode !== undefined && !(await repo.findService(db, serviceCode))) {
      throw new AppError('unknown_service', `Unknown service "${serviceCode}"; GET /api/v1/services lists the codes`);
    }
    if (countryId !== undefined && !(await repo.findCountry(db, countryId))) {
      throw new AppError('unknown_country', `Unknown country ${countryId}; GET /api/v1/countries lists the ids`);
    }
  }

  return {
    async services() {
      return (await repo.listServices(db)).map(({ code, name }) => ({ code, name }));
    },
    async countries() {
      return (await repo.listCountries(db)).map(({ id, name, iso, dialPrefix }) => ({ id, name, iso, dialPrefix }));
    },
    async priceOf(serviceCode, countryId, operator) {
      const row = await repo.findSalePrice(db, serviceCode, countryId, operator);
      if (row && operator !== undefined && (await repo.findOperator(db, countryId, operator))?.enabled === false) {
        // A disabled operator is not sold, whatever numbers still carry its name.
        throw new AppError('out_of_stock', `Operator "${operator}" is not on sale in country ${countryId}; buy without an operator or pick another`);
      }
      if (row) return row.operatorPrice ?? row.price;
      // A disabled service or country is "unknown" here, as it is in the lists.
      await requireKnown(serviceCode, countryId);
      throw new AppError('out_of_stock', `No numbers for service "${serviceCode}" in country ${countryId}`);
    },
    async prices(filter) {
      await requireKnown(filter.serviceCode, filter.countryId);
      const rows = await repo.listPrices(db, filter);
      const stock = await countStock(rows);
      return rows.map((row) => ({ ...row, available: stock.get(stockKey(row.serviceCode, row.countryId)) ?? 0 }));
    },
    upsertService: (service) => repo.upsertService(db, service),
    upsertCountry: (country) => repo.upsertCountry(db, country),
    setPrice: (price) => repo.upsertPrice(db, price),
    admin: createCatalogAdmin({ database, clock, audit }),
    pricing,
    importCatalog: createCatalogImport({ database, clock, audit, supplyCosts }),
    repriceFromCosts: () => pricing.repriceFromCosts(),
  };
}
