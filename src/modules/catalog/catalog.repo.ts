import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { countries, operatorPrices, operators, prices, pricingRules, services } from './catalog.tables.ts';

export async function findPrice(db: Db, serviceCode: string, countryId: number) {
  const rows = await db
    .select()
    .from(prices)
    .where(and(eq(prices.serviceCode, serviceCode), eq(prices.countryId, countryId)));
  return rows[0] ?? null;
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

// ---- The whole catalog, disabled entries included: the back office, and the in-memory copy (catalog-cache.ts) ----

export type ServiceRow = typeof services.$inferSelect;
export type CountryRow = typeof countries.$inferSelect;
export type OperatorRow = typeof operators.$inferSelect;
export type PricingRuleRow = typeof pricingRules.$inferSelect;
export type OperatorPriceRow = typeof operatorPrices.$inferSelect;

export function listAllServices(db: Db) {
  return db.select().from(services).orderBy(asc(services.code));
}

export function listAllCountries(db: Db) {
  return db.select().from(countries).orderBy(asc(countries.id));
}

export function listAllOperators(db: Db) {
  return db.select().from(operators).orderBy(asc(operators.countryId), asc(operators.code));
}

export async function findAnyService(db: Db, code: string) {
  const rows = await db.select().from(services).where(eq(services.code, code));
  return rows[0] ?? null;
}

export async function findAnyCountry(db: Db, id: number) {
  const rows = await db.select().from(countries).where(eq(countries.id, id));
  return rows[0] ?? null;
}

export async function findCountryByIso(db: Db, iso: string) {
  const rows = await db.select().from(countries).where(eq(countries.iso, iso));
  return rows[0] ?? null;
}

export async function findOperator(db: Db, countryId: number, code: string) {
  const rows = await db.select().from(operators).where(and(eq(operators.countryId, countryId), eq(operators.code, code)));
  return rows[0] ?? null;
}

export async function insertService(db: Db, row: { code: string; name: string; enabled: boolean }) {
  await db.insert(services).values(row);
}

export async function updateService(db: Db, code: string, set: { name?: string; enabled?: boolean }) {
  await db.update(services).set(set).where(eq(services.code, code));
}

export async function insertCountry(db: Db, row: { id: number; name: string; iso: string; dialPrefix: string; enabled: boolean }) {
  await db.insert(countries).values(row);
}

export async function updateCountry(db: Db, id: number, set: { name?: string; iso?: string; dialPrefix?: string; enabled?: boolean }) {
  await db.update(countries).set(set).where(eq(countries.id, id));
}

export async function insertOperator(db: Db, row: { countryId: number; code: string; name: string; enabled: boolean }) {
  await db.insert(operators).values(row);
}

export async function updateOperator(db: Db, countryId: number, code: string, set: { name?: string; enabled?: boolean }) {
  await db.update(operators).set(set).where(and(eq(operators.countryId, countryId), eq(operators.code, code)));
}

export function listAllPrices(db: Db) {
  return db.select().from(prices).orderBy(asc(prices.serviceCode), asc(prices.countryId));
}

export async function deletePrice(db: Db, serviceCode: string, countryId: number) {
  await db.delete(prices).where(and(eq(prices.serviceCode, serviceCode), eq(prices.countryId, countryId)));
}

export function listOperatorPrices(db: Db) {
  return db.select().from(operatorPrices).orderBy(asc(operatorPrices.serviceCode), asc(operatorPrices.countryId), asc(operatorPrices.operator));
}

export async function findOperatorPrice(db: Db, serviceCode: string, countryId: number, operator: string) {
  const rows = await db
    .select()
    .from(operatorPrices)
    .where(and(eq(operatorPrices.serviceCode, serviceCode), eq(operatorPrices.countryId, countryId), eq(operatorPrices.operator, operator)));
  return rows[0] ?? null;
}

export async function upsertOperatorPrice(db: Db, row: { serviceCode: string; countryId: number; operator: string; price: number }) {
  await db
    .insert(operatorPrices)
    .values(row)
    .onConflictDoUpdate({ target: [operatorPrices.serviceCode, operatorPrices.countryId, operatorPrices.operator], set: { price: row.price } });
}

export async function deleteOperatorPrice(db: Db, serviceCode: string, countryId: number, operator: string) {
  await db
    .delete(operatorPrices)
    .where(and(eq(operatorPrices.serviceCode, serviceCode), eq(operatorPrices.countryId, countryId), eq(operatorPrices.operator, operator)));
}

export function listPricingRules(db: Db, mode?: 'markup' | 'manual') {
  return db
    .select()
    .from(pricingRules)
    .where(mode ? eq(pricingRules.mode, mode) : undefined)
    .orderBy(asc(pricingRules.serviceCode), asc(pricingRules.countryId));
}

/** The rule of a pair, locked: a repricing and a staff change of the same pair take turns. */
export async function lockPricingRule(db: Db, serviceCode: string, countryId: number) {
  const rows = await db
    .select()
    .from(pricingRules)
    .where(and(eq(pricingRules.serviceCode, serviceCode), eq(pricingRules.countryId, countryId)))
    .for('update');
  return rows[0] ?? null;
}

export async function upsertPricingRule(
  db: Db,
  row: { serviceCode: string; countryId: number; mode: 'markup' | 'manual'; markupBasisPoints: number; minMargin: number; updatedAt: Date },
) {
  await db
    .insert(pricingRules)
    .values(row)
    .onConflictDoUpdate({
      target: [pricingRules.serviceCode, pricingRules.countryId],
      set: { mode: row.mode, markupBasisPoints: row.markupBasisPoints, minMargin: row.minMargin, updatedAt: row.updatedAt },
    });
}
