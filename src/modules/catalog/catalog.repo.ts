import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { countries, prices, services } from './catalog.tables.ts';

export function listServices(db: Db) {
  return db.select().from(services).where(eq(services.enabled, true)).orderBy(asc(services.code));
}

export function listCountries(db: Db) {
  return db.select().from(countries).where(eq(countries.enabled, true)).orderBy(asc(countries.id));
}

export async function findService(db: Db, code: string) {
  const rows = await db.select().from(services).where(and(eq(services.code, code), eq(services.enabled, true)));
  return rows[0] ?? null;
}

export async function findCountry(db: Db, id: number) {
  const rows = await db.select().from(countries).where(and(eq(countries.id, id), eq(countries.enabled, true)));
  return rows[0] ?? null;
}

export async function findPrice(db: Db, serviceCode: string, countryId: number) {
  const rows = await db
    .select()
    .from(prices)
    .where(and(eq(prices.serviceCode, serviceCode), eq(prices.countryId, countryId)));
  return rows[0] ?? null;
}

export function listPrices(db: Db, filter: { serviceCode?: string; countryId?: number }) {
  const conditions = [eq(services.enabled, true), eq(countries.enabled, true)];
  if (filter.serviceCode !== undefined) conditions.push(eq(prices.serviceCode, filter.serviceCode));
  if (filter.countryId !== undefined) conditions.push(eq(prices.countryId, filter.countryId));
  return db
    .select({ serviceCode: prices.serviceCode, countryId: prices.countryId, price: prices.price })
    .from(prices)
    .innerJoin(services, eq(services.code, prices.serviceCode))
    .innerJoin(countries, eq(countries.id, prices.countryId))
    .where(and(...conditions))
    .orderBy(asc(prices.serviceCode), asc(prices.countryId));
}

export async function upsertService(db: Db, service: { code: string; name: string }) {
  await db.insert(services).values(service).onConflictDoUpdate({ target: services.code, set: { name: service.name } });
}

export async function upsertCountry(db: Db, country: { id: number; name: string; iso: string; dialPrefix: string }) {
  await db
    .insert(countries)
    .values(country)
    .onConflictDoUpdate({ target: countries.id, set: { name: country.name, iso: country.iso, dialPrefix: country.dialPrefix } });
}

export async function upsertPrice(db: Db, price: { serviceCode: string; countryId: number; price: number }) {
  await db
    .insert(prices)
    .values(price)
    .onConflictDoUpdate({ target: [prices.serviceCode, prices.countryId], set: { price: price.price } });
}
