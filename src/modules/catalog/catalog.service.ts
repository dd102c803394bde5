import type { Database } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import type { Money } from '../billing/money.ts';
import * as repo from './catalog.repo.ts';

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
  /** The price of one activation; unknown_service / unknown_country / out_of_stock when it is not sold. */
  priceOf(serviceCode: string, countryId: number): Promise<Money>;
  prices(filter: { serviceCode?: string; countryId?: number }): Promise<PriceRow[]>;
  upsertService(service: { code: string; name: string }): Promise<void>;
  upsertCountry(country: { id: number; name: string; iso: string; dialPrefix: string }): Promise<void>;
  setPrice(price: { serviceCode: string; countryId: number; price: Money }): Promise<void>;
}

export function createCatalogService(deps: { database: Database; countStock: StockCounter }): CatalogService {
  const { database, countStock } = deps;
  const db = database.db;

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
    async priceOf(serviceCode, countryId) {
      const row = await repo.findPrice(db, serviceCode, countryId);
      if (row) return row.price;
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
  };
}
